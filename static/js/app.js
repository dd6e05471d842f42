// MicroTaskHub in the browser: sign-in, the two views (board and team), and
// client-side navigation between them. Everything talks to the frontend's
// own origin; the API token never reaches the browser.

import { api, whenSignedOut } from './api.js';
import { Board } from './board.js';
import { Team } from './team.js';
import { $, busy, clearFormErrors, showFormError, showNotice } from './ui.js';

const state = { users: [], tasks: [] };
const board = new Board(state);
const team = new Team(state, () => {
  board.renderAssigneeChoices();
  board.render(state.tasks.length);
});
const VIEWS = { '/board': 'board', '/team': 'team' };

function currentView() {
  return VIEWS[location.pathname] || 'board';
}

function showView(view) {
  for (const name of Object.values(VIEWS)) $(`#${name}-view`).hidden = name !== view;
  for (const link of document.querySelectorAll('[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view === 'team' ? 'Team' : 'Board'} · MicroTaskHub`;
}

async function loadAll() {
  await team.load();
  await board.load();
}

function signedIn(session) {
  $('#account-name').textContent = session.username;
  // If the session ends later, signing in again takes only the password.
  $('#login-username').value = session.username;
  $('#topbar').hidden = false;
  showView(currentView());
  loadAll();
}

/** Opens the sign-in dialog over whatever is on screen (nothing typed is lost). */
function askToSignIn(reason) {
  const dialog = $('#login-dialog');
  $('#login-reason').textContent = reason || "Plan, assign and finish your team's work.";
  if (!dialog.open) dialog.showModal();
  const username = $('#login-username');
  (username.value ? $('#login-password') : username).focus();
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  clearFormErrors(form);
  const { username, password } = form.elements;
  const missing = [['username', username], ['password', password]]
    .filter(([, input]) => !input.value)
    .map(([field]) => ({ field, message: 'is required' }));
  if (missing.length) {
    showFormError(form, { errors: missing, message: '' });
    return;
  }
  try {
    const { data } = await busy(form.querySelector('[type="submit"]'), 'Signing in…',
      () => api.login(username.value, password.value));
    password.value = '';
    $('#login-dialog').close();
    signedIn(data);
  } catch (e) {
    showFormError(form, e);
    password.select();
  }
});

// The sign-in dialog cannot be dismissed: there is nothing to see behind it.
$('#login-dialog').addEventListener('cancel', (event) => event.preventDefault());

$('#sign-out').addEventListener('click', async (event) => {
  try {
    await busy(event.currentTarget, 'Signing out…', () => api.logout());
  } catch {
    // Signed out or not, show the sign-in screen.
  }
  $('#topbar').hidden = true;
  for (const name of Object.values(VIEWS)) $(`#${name}-view`).hidden = true;
  askToSignIn('You have signed out.');
});

for (const button of document.querySelectorAll('dialog [data-close]')) {
  button.addEventListener('click', () => button.closest('dialog').close());
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  history.pushState({}, '', link.getAttribute('href'));
  showView(currentView());
  $('#main').focus();
});
window.addEventListener('popstate', () => showView(currentView()));

whenSignedOut(() => askToSignIn('Your session has ended. Sign in again to carry on.'));

api.session()
  .then(({ data }) => signedIn(data))
  .catch((e) => {
    if (e.status === 401) askToSignIn();
    else showNotice($('#app-error'), `MicroTaskHub is not available right now: ${e.message}`);
  });
