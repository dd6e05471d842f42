// The signed-in person's own account: their password and personal API tokens.

import { api } from './api.js';
import { $, announce, confirmedDelete, el, formatTime, newestOnly, onSubmit, requireFields, showNotice } from './ui.js';

export class Account {
  constructor(state) {
    this.state = state;
    this.loads = newestOnly($('#tokens'));
    const passwordForm = $('#password-form');
    onSubmit(passwordForm, 'Changing…', async (f) => {
      showNotice($('#password-done'), '');
      requireFields(passwordForm, ['current_password', 'new_password']);
      const revoke = f.revoke_tokens.checked;
      await api.changePassword(f.current_password.value, f.new_password.value, revoke);
      passwordForm.reset();
      showNotice($('#password-done'), `Your password was changed. Your other sessions were signed out${
        revoke ? ' and your API tokens revoked' : ''}.`);
      if (revoke) await this.load();
      announce('Password changed.');
    });
    const tokenForm = $('#token-form');
    onSubmit(tokenForm, 'Creating…', async (f) => {
      requireFields(tokenForm, ['name', 'password']);
      const { data } = await api.createToken(f.name.value, f.password.value, Number(f.expires_in_days.value));
      tokenForm.reset();
      await this.load();
      this.showOnce(data.token);
      announce(`Token “${data.name}” created, valid until ${formatTime(data.expires_at)}. Copy it now: it will not be shown again.`);
    }, (e) => {
      // Not the password (403): ready to type it again.
      if (e.status === 403) tokenForm.elements.password.select();
    });
  }

  /** The new token's value, shown until the page changes; the server keeps only its digest. */
  showOnce(token) {
    $('#new-token-value').value = token;
    $('#new-token').hidden = false;
    $('#new-token-value').select();
  }

  /** Shows who is signed in and their tokens; of overlapping loads, the
   *  newest one's answer. */
  load() {
    const { me } = this.state;
    $('#account-summary').textContent = `${me.full_name} · ${me.email} · ${me.access === 'admin' ? 'Admin' : 'Member'}`;
    $('#new-token').hidden = true;
    $('#new-token-value').value = '';
    const error = $('#tokens-error');
    return this.loads(() => api.tokens(), ({ data }) => {
      showNotice(error, '');
      $('#tokens').replaceChildren(...(data.length
        ? data.map((token) => this.row(token))
        : [el('li', { class: 'empty' }, 'No tokens yet.')]));
    }, (e) => {
      if (e.status !== 401) showNotice(error, `Could not load your tokens: ${e.message}`);
    });
  }

  row(token) {
    const error = el('p', { class: 'card-error', role: 'alert' });
    const used = token.last_used_at ? `last used ${formatTime(token.last_used_at)}` : 'never used';
    return el('li', { class: 'token', 'data-token-id': token.id },
      el('div', { class: 'token-info' },
        el('p', { class: 'token-name' }, token.name),
        el('p', { class: 'hint' }, `Created ${formatTime(token.created_at)} · ${used} · expires ${formatTime(token.expires_at)}`),
        error),
      el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Revoke ${token.name}`,
        onclick: (e) => confirmedDelete({
          button: e.currentTarget, error, progress: 'Revoking…',
          confirm: [`Revoke “${token.name}”?`, 'Programs using it stop working at once. This cannot be undone.', 'Revoke token'],
          send: () => api.revokeToken(token.id),
          done: `Token “${token.name}” revoked.`,
          reload: () => this.load(),
        }) }, 'Revoke'));
  }
}
