// The team: people who can be given tasks.

import { api } from './api.js';
import { $, announce, busy, clearFormErrors, confirmAction, el, initials, showFormError, showNotice } from './ui.js';

export class Team {
  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange; // the board needs the new names
    this.editing = null;
    $('#new-user').addEventListener('click', () => this.openDialog(null));
    $('#user-form').addEventListener('submit', (event) => this.save(event));
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
          onclick: () => this.openDialog(user) }, 'Edit'),
        el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete ${user.full_name}`,
          onclick: (e) => this.remove(user, e.currentTarget, error) }, 'Delete')));
  }

  async remove(user, button, error) {
    error.textContent = '';
    const sure = await confirmAction(`Delete ${user.full_name}?`,
      'They will be removed from the team. Their finished tasks stay on the board without an assignee.', 'Delete person');
    if (!sure) return;
    try {
      await busy(button, 'Deleting…', () => api.deleteUser(user.id));
      announce(`${user.full_name} deleted.`);
      await this.load();
    } catch (e) {
      // A refusal (open tasks) explains itself in the server's words.
      error.textContent = e.message;
      button.focus();
    }
  }

  openDialog(user) {
    this.editing = user;
    const form = $('#user-form');
    clearFormErrors(form);
    form.reset();
    $('#user-dialog-title').textContent = user ? `Edit ${user.full_name}` : 'Add person';
    if (user) {
      form.elements.full_name.value = user.full_name;
      form.elements.email.value = user.email;
      form.elements.role.value = user.role;
    }
    $('#user-dialog').showModal();
    form.elements.full_name.focus();
  }

  async save(event) {
    event.preventDefault();
    const form = event.target;
    clearFormErrors(form);
    const f = form.elements;
    const body = { full_name: f.full_name.value, email: f.email.value };
    if (f.role.value.trim()) body.role = f.role.value;
    const submit = form.querySelector('[type="submit"]');
    try {
      await busy(submit, 'Saving…', () => (this.editing ? api.updateUser(this.editing.id, body) : api.createUser(body)));
      $('#user-dialog').close();
      announce(this.editing ? 'Person saved.' : `${body.full_name} added.`);
      await this.load();
    } catch (e) {
      showFormError(form, e);
    }
  }
}
