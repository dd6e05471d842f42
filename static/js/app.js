// MicroTaskHub in the browser: sign-in, the views (board, team, account), and
// client-side navigation between them. Everything talks to the frontend's
// own origin; the API token never reaches the browser.

import { Account } from './account.js';
import { api, whenSignedOut } from './api.js';
import { Board } from './board.js';
import { Labels } from './labels.js';
import { Live } from './live.js';
import { SET_PASSWORD_PATH, choosePassword } from './setpassword.js';
import { enableShortcuts } from './shortcuts.js';
import { Team } from './team.js';
import { Transfer } from './transfer.js';
import { SavedViews } from './views.js';
import { $, busy, enableCopyButtons, onSubmit, requireFields, showNotice } from './ui.js';

// `me`: who is signed in ({id, email, full_name, access}); `can`: what the
// server says they may do (GET /auth/session), so no view re-derives a rule.
const state = { me: null, can: {}, users: [], tasks: [], labels: [] };
const board = new Board(state);
const views = new SavedViews(state, board);
board.onViewChange = () => views.markCurrent();
const labels = new Labels(state, () => board.renderLabelChoices());
const team = new Team(state, () => {
  board.renderAssigneeChoices();
  board.render(state.tasks.length);
});
const account = new Account(state);
// Export and import (admins): after an import, who is signed in is asked
// anew (an export's import makes the importer the file's person with their
// email: another id), then everything is loaded anew.
const transfer = new Transfer(state, async () => {
  const { data } = await api.session();
  state.me = data.user;
  state.can = data.can || {};
  $('#account-name').textContent = data.user.full_name;
  await loadAll();
});
// Other people's changes, within about a second, on every view.
const live = new Live({
  tasks: () => board.load(),
  users: () => team.load(),
  labels: () => labels.load(),
  comments: (taskIds) => board.comments.refresh(taskIds),
  everything: async () => {
    await loadAll();
    await board.comments.refresh(null);
  },
});
const VIEWS = { '/board': 'board', '/team': 'team', '/account': 'account', '/transfer': 'transfer' };
const TITLES = { board: 'Board', team: 'Team', account: 'Your account', transfer: 'Export and import' };

function currentView() {
  return VIEWS[location.pathname] || 'board';
}

function showView(view) {
  for (const name of Object.values(VIEWS)) $(`#${name}-view`).hidden = name !== view;
  for (const link of document.querySelectorAll('[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${TITLES[view]} · MicroTaskHub`;
}

async function loadAll() {
  await team.load();
  await labels.load();
  await board.load();
  await views.load();
  await account.load();
}

/** Where a sign-in through the identity provider began (the board's
 *  filters in its URL): it comes back to "/", so the page asks for it. */
const RETURN_KEY = 'mth-return-to';

function signedIn(session) {
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back?.startsWith('/') && !back.startsWith('//') && location.pathname === '/' && !location.search) {
    history.replaceState({}, '', back);
    board.followUrl();
  }
  state.me = session.user;
  state.can = session.can || {};
  $('#account-name').textContent = session.user.full_name;
  $('#nav-transfer').hidden = !state.can.transfer_workspace;
  transfer.render();
  // If the session ends later, signing in again takes only the password.
  $('#login-email').value = session.user.email;
  $('#topbar').hidden = false;
  showView(currentView());
  // The feed's cursor first, so that nothing changed between the loads
  // and the first poll goes unseen.
  live.start().finally(loadAll);
}

/** Opens the sign-in dialog over whatever is on screen (nothing typed is lost). */
function askToSignIn(reason) {
  const dialog = $('#login-dialog');
  $('#login-reason').textContent = reason || "Plan, assign and finish your team's work.";
  if (!dialog.open) dialog.showModal();
  const email = $('#login-email');
  (email.value ? $('#login-password') : email).focus();
}

const loginForm = $('#login-form');
onSubmit(loginForm, 'Signing in…', async ({ email, password }) => {
  requireFields(loginForm, ['email', 'password']);
  const { data } = await api.login(email.value, password.value);
  password.value = '';
  $('#login-dialog').close();
  signedIn(data);
}, (e) => {
  // A wrong password: ready to type it again.
  if (!e.errors?.length) loginForm.elements.password.select();
});

// The sign-in dialog cannot be dismissed: there is nothing to see behind it.
$('#login-dialog').addEventListener('cancel', (event) => event.preventDefault());

$('#sign-out').addEventListener('click', async (event) => {
  live.stop();
  try {
    const { data } = await busy(event.currentTarget, 'Signing out…', () => api.logout());
    // Our session is over; the provider's is the person's to end (it
    // signs them out of their other apps too): offered, not done.
    if (data?.end_session_url) {
      $('#end-session-link').href = data.end_session_url;
      $('#end-session').hidden = false;
    }
  } catch {
    // Signed out or not, show the sign-in screen.
  }
  // Signed out on purpose: a poll or load still out that now meets a 401
  // must not say "your session has ended" over "You have signed out".
  state.me = null;
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
  board.followUrl();
  $('#main').focus();
});
window.addEventListener('popstate', () => showView(currentView()));

/** The ways to sign in this server offers: the identity provider's button
 *  ("Sign in with <name>"), the password form, or both. A refused sign-in
 *  with the provider comes back as ?sign_in_error=…, shown here once. */
async function showSignInMethods() {
  const params = new URLSearchParams(location.search);
  const error = params.get('sign_in_error');
  if (error !== null) {
    params.delete('sign_in_error');
    const query = params.toString();
    history.replaceState({}, '', `${location.pathname}${query ? `?${query}` : ''}`);
  }
  let methods = { password: true, oidc: null };
  try {
    ({ data: methods } = await api.methods());
  } catch {
    // Unknown: the password form, as before.
  }
  if (methods.oidc) {
    $('#login-oidc-link').textContent = `Sign in with ${methods.oidc.name}`;
    $('#login-oidc-link').href = methods.oidc.start;
    // The provider brings the person back to "/": keep the view to return to.
    $('#login-oidc-link').addEventListener('click', () => {
      sessionStorage.setItem(RETURN_KEY, `${location.pathname}${location.search}`);
    });
    $('#login-oidc').hidden = false;
    $('#login-or').hidden = !methods.password;
    $('#login-oidc-error').textContent = error || '';
  } else if (error) {
    $('#login-form-error').textContent = error;
  }
  loginForm.hidden = !methods.password;
}

whenSignedOut(() => {
  live.stop();
  if (!state.me) return; // signed out on purpose (see #sign-out)
  askToSignIn('Your session has ended. Sign in again to carry on.');
});
showSignInMethods();
enableCopyButtons();
enableShortcuts();

if (location.pathname === SET_PASSWORD_PATH) {
  choosePassword(signedIn);
} else {
  api.session()
    .then(({ data }) => signedIn(data))
    .catch((e) => {
      if (e.status === 401) askToSignIn();
      else showNotice($('#app-error'), `MicroTaskHub is not available right now: ${e.message}`);
    });
}
