// The team: people who can be given tasks. Everyone sees it; admins add,
// edit, invite, deactivate and delete people.

import { api } from './api.js';
import { $, FormDialog, busy, confirmedDelete, el, formatTime, initials, newestOnly, showNotice } from './ui.js';

const ACCESS = { admin: 'Admin', member: 'Member' };

export class Team {
  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange; // the board needs the new names
    this.loads = newestOnly($('#people'));
    this.dialog = new FormDialog('user', {
      title: (user) => (user ? `Edit ${user.full_name}` : 'Add person'),
      focus: 'full_name',
      fill: (f, user) => {
        // The server refuses to demote the only active admin (409, with its
        // reason in the form); say so before anyone tries.
        $('#user-access-last-admin').hidden = !(user && this.isOnlyActiveAdmin(user));
        if (!user) return;
        f.full_name.value = user.full_name;
        f.email.value = user.email;
        f.role.value = user.role;
        f.access.value = user.access;
      },
      save: async (f, user) => {
        const body = { full_name: f.full_name.value, email: f.email.value, access: f.access.value };
        if (f.role.value.trim()) body.role = f.role.value;
        if (user) {
          await api.updateUser(user.id, body);
          return 'Person saved.';
        }
        await api.createUser(body);
        return `${body.full_name} added.`;
      },
      saved: () => this.load(),
    });
    $('#new-user').addEventListener('click', () => this.dialog.open(null));
  }

  /** Shows the team; of overlapping loads, the newest one's answer. */
  load() {
    const error = $('#team-error');
    return this.loads(() => api.users(), ({ data }) => {
      this.state.users = data;
      showNotice(error, '');
      this.render();
      this.onChange();
    }, (e) => {
      if (e.status !== 401) showNotice(error, `Could not load the team: ${e.message}`);
    });
  }

  /** Whether the server lets the signed-in person manage people. */
  get isAdmin() {
    return Boolean(this.state.can?.manage_people);
  }

  isOnlyActiveAdmin(user) {
    const admins = this.state.users.filter((u) => u.active && u.access === 'admin');
    return admins.length === 1 && admins[0].id === user.id;
  }

  render() {
    $('#new-user').hidden = !this.isAdmin;
    const n = this.state.users.length;
    $('#team-summary').textContent = n ? `${n} ${n === 1 ? 'person' : 'people'}.` : 'No one yet: add the first person.';
    $('#people').replaceChildren(...this.state.users.map((user) => this.row(user)));
  }

  row(user) {
    const error = el('p', { class: 'card-error', role: 'alert' });
    return el('li', { class: `person${user.active ? '' : ' inactive'}`, 'data-user-id': user.id },
      el('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(user.full_name)),
      el('div', { class: 'person-info' },
        el('p', { class: 'person-name' }, user.full_name,
          el('span', { class: `badge${user.access === 'admin' ? ' badge-admin' : ''}` }, ACCESS[user.access] ?? user.access),
          !user.active && el('span', { class: 'badge badge-off' }, 'Deactivated')),
        el('p', { class: 'person-meta' }, `${user.email} · ${user.role}`),
        error),
      this.isAdmin && this.actions(user, error));
  }

  /** An admin's buttons for one person (not the ones that would lock them out of their own account). */
  actions(user, error) {
    const self = user.id === this.state.me.id;
    const button = (label, aria, onclick, danger) => el('button', { type: 'button',
      class: `btn btn-small ${danger ? 'btn-danger-ghost' : 'btn-ghost'}`, 'aria-label': `${aria} ${user.full_name}`,
      onclick: (e) => onclick(e.currentTarget) }, label);
    return el('div', { class: 'person-actions' },
      button('Edit', 'Edit', () => this.dialog.open(user)),
      !self && user.active && button('Password link', 'New password link for', (b) => this.invite(user, b, error)),
      !self && (user.active
        ? button('Deactivate', 'Deactivate', (b) => this.setActive(user, false, b, error), true)
        : button('Reactivate', 'Reactivate', (b) => this.setActive(user, true, b, error))),
      !self && button('Delete', 'Delete', (b) => this.remove(user, b, error), true));
  }

  /** A one-time link with which they choose a password: a first one, or a new one. */
  async invite(user, button, error) {
    error.textContent = '';
    let link;
    try {
      ({ data: link } = await busy(button, 'Creating…', () => api.invite(user.id)));
    } catch (e) {
      if (!e.signedOut) error.textContent = e.message;
      return;
    }
    $('#link-dialog-title').textContent = `Password link for ${user.full_name}`;
    $('#link-dialog-note').textContent = `Send this link to ${user.full_name}: it lets them choose a password and sign in. `
      + `It works once, until ${formatTime(link.expires_at)}, and replaces any earlier link.`;
    const input = $('#link-value');
    input.value = `${location.origin}${link.path}`;
    $('#link-dialog').showModal();
    input.select();
  }

  setActive(user, active, button, error) {
    const name = user.full_name;
    return confirmedDelete({
      button, error, progress: active ? 'Reactivating…' : 'Deactivating…',
      confirm: active
        ? [`Reactivate ${name}?`, 'They can sign in again with their password, and their API tokens work again.', 'Reactivate']
        : [`Deactivate ${name}?`, 'They are signed out at once and can neither sign in nor use their API tokens. Their tasks keep their name.', 'Deactivate'],
      send: () => api.updateUser(user.id, { active }),
      done: `${name} ${active ? 'reactivated' : 'deactivated'}.`,
      reload: () => this.load(),
    });
  }

  remove(user, button, error) {
    return confirmedDelete({
      button, error,
      confirm: [`Delete ${user.full_name}?`,
        'They will be removed from the team. Their finished tasks stay on the board without an assignee.', 'Delete person'],
      send: () => api.deleteUser(user.id),
      done: `${user.full_name} deleted.`,
      reload: () => this.load(),
    });
  }
}
