// MicroTaskHub in the browser: sign-in, the views (board, team, account), and
// client-side navigation between them. Everything talks to the frontend's
// own origin; the API token never reaches the browser.

import { Account } from './account.js';
import { api, whenSignedOut } from './api.js';
import { Board } from './board.js';
import { SET_PASSWORD_PATH, choosePassword } from './setpassword.js';
import { Team } from './team.js';
import { $, busy, enableCopyButtons, onSubmit, requireFields, showNotice } from './ui.js';

// `me`: who is signed in ({id, email, full_name, access}); `can`: what the
// server says they may do (GET /auth/session), so no view re-derives a rule.
const state = { me: null, can: {}, users: [], tasks: [] };
const board = new Board(state);
const team = new Team(state, () => {
  board.renderAssigneeChoices();
  board.render(state.tasks.length);
});
const account = new Account(state);
const VIEWS = { '/board': 'board', '/team': 'team', '/account': 'account' };
const TITLES = { board: 'Board', team: 'Team', account: 'Your account' };

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
  await board.load();
  await account.load();
}

function signedIn(session) {
  state.me = session.user;
  state.can = session.can || {};
  $('#account-name').textContent = session.user.full_name;
  // If the session ends later, signing in again takes only the password.
  $('#login-email').value = session.user.email;
  $('#topbar').hidden = false;
  showView(currentView());
  loadAll();
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
enableCopyButtons();

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
