// The team: people who can be given tasks.

import { api } from './api.js';
import { $, FormDialog, confirmedDelete, el, initials, showNotice } from './ui.js';

export class Team {
  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange; // the board needs the new names
    this.dialog = new FormDialog('user', {
      title: (user) => (user ? `Edit ${user.full_name}` : 'Add person'),
      focus: 'full_name',
      fill: (f, user) => {
        if (!user) return;
        f.full_name.value = user.full_name;
        f.email.value = user.email;
        f.role.value = user.role;
      },
      save: async (f, user) => {
        const body = { full_name: f.full_name.value, email: f.email.value };
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

  async load() {
    const error = $('#team-error');
    try {
      const { data } = await api.users();
      this.state.users = data;
      showNotice(error, '');
      this.render();
      this.onChange();
    } catch (e) {
      if (e.status !== 401) showNotice(error, `Could not load the team: ${e.message}`);
    }
  }

  render() {
    const n = this.state.users.length;
    $('#team-summary').textContent = n ? `${n} ${n === 1 ? 'person' : 'people'}.` : 'No one yet: add the first person.';
    $('#people').replaceChildren(...this.state.users.map((user) => this.row(user)));
  }

  row(user) {
    const error = el('p', { class: 'card-error', role: 'alert' });
    return el('li', { class: 'person', 'data-user-id': user.id },
      el('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(user.full_name)),
      el('div', { class: 'person-info' },
        el('p', { class: 'person-name' }, user.full_name),
        el('p', { class: 'person-meta' }, `${user.email} · ${user.role}`),
        error),
      el('div', { class: 'person-actions' },
        el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Edit ${user.full_name}`,
          onclick: () => this.dialog.open(user) }, 'Edit'),
        el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete ${user.full_name}`,
          onclick: (e) => this.remove(user, e.currentTarget, error) }, 'Delete')));
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
