// Setting a password from a one-time link (an invitation or a reset):
// /set-password#<token>. The token travels in the fragment, so it reaches no
// server log and no Referer; it is sent only with the new password.

import { api } from './api.js';
import { $, onSubmit, requireFields } from './ui.js';

export const SET_PASSWORD_PATH = '/set-password';

/** Shows the "Choose your password" form; once the password is set the
 *  browser is signed in and `signedIn(session)` is called on the board. */
export function choosePassword(signedIn) {
  const dialog = $('#set-password-dialog');
  const form = $('#set-password-form');
  const token = decodeURIComponent(location.hash.slice(1)).trim();
  onSubmit(form, 'Saving…', async (f) => {
    requireFields(form, ['password', 'repeat']);
    if (f.repeat.value !== f.password.value) throw { errors: [{ field: 'repeat', message: 'does not match' }], message: '' };
    if (!token) {
      throw { message: 'This link is incomplete: open the whole link you were sent, or ask an admin for a new one.' };
    }
    const { data } = await api.setPassword(token, f.password.value);
    form.reset();
    dialog.close();
    // The used link leaves the address bar and the history.
    history.replaceState({}, '', '/board');
    signedIn(data);
  });
  // Nothing is behind it to go back to.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  dialog.showModal();
  $('#set-password-new').focus();
}
