// The colour theme: light or dark, following the system's setting
// (prefers-color-scheme) unless the person chose one in the top bar; the
// choice is kept in this browser (localStorage). A classic script loaded in
// <head>, before the page is drawn, so that a dark page never flashes light;
// app.css reads <html data-theme="light|dark">.
(() => {
  const KEY = 'mth-theme';
  const CHOICES = ['system', 'light', 'dark'];
  const systemDark = window.matchMedia('(prefers-color-scheme: dark)');

  /** 'system', 'light' or 'dark'. Storage can be refused (a privacy mode):
   *  then the system's setting it is. */
  function choice() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(KEY);
    } catch {
      // Unreadable storage: follow the system.
    }
    return CHOICES.includes(stored) ? stored : 'system';
  }

  function apply() {
    const chosen = choice();
    const theme = chosen === 'system' ? (systemDark.matches ? 'dark' : 'light') : chosen;
    document.documentElement.dataset.theme = theme;
    const select = document.getElementById('theme-choice');
    if (select) select.value = chosen;
  }

  function choose(value) {
    try {
      if (value === 'system') window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, value);
    } catch {
      // Not kept, but applied to this page all the same.
      document.documentElement.dataset.theme = value === 'system' ? (systemDark.matches ? 'dark' : 'light') : value;
      return;
    }
    apply();
  }

  apply();
  // The system switching (at dusk, say) while the page is open.
  systemDark.addEventListener('change', apply);
  // A choice made in another tab of the app.
  window.addEventListener('storage', (event) => {
    if (event.key === KEY || event.key === null) apply();
  });
  document.addEventListener('DOMContentLoaded', () => {
    const select = document.getElementById('theme-choice');
    if (!select) return;
    select.value = choice();
    select.addEventListener('change', () => choose(select.value));
  });
})();
