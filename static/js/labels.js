// The team's labels: everyone sees them (the team page lists them, cards
// show them, the board filters by them, the task dialog picks them); admins
// add, rename, recolour and delete them.

import { api } from './api.js';
import { $, FormDialog, confirmedDelete, el, newestOnly, showNotice } from './ui.js';

/** The palette, as the API names it (task-service's labels.rs); each
 *  colour's chip passes WCAG AA (static/css/app.css). */
export const COLORS = [
  { id: 'gray', name: 'Gray' },
  { id: 'red', name: 'Red' },
  { id: 'orange', name: 'Orange' },
  { id: 'yellow', name: 'Yellow' },
  { id: 'green', name: 'Green' },
  { id: 'teal', name: 'Teal' },
  { id: 'blue', name: 'Blue' },
  { id: 'indigo', name: 'Indigo' },
  { id: 'purple', name: 'Purple' },
  { id: 'pink', name: 'Pink' },
];

/** A label as a chip: its name on its colour (text, never colour alone). */
export function chip(label, tag = 'span') {
  return el(tag, { class: 'label-chip', 'data-color': label.color, 'data-label-id': label.id }, label.name);
}

/** Checkboxes for choosing labels, one per label, in `list` (a <ul>);
 *  `checked`: the ids to tick; `prefix` makes the inputs' ids unique. */
export function renderChoices(list, labels, checked, prefix, disabled = false) {
  list.replaceChildren(...labels.map((label) => {
    const id = `${prefix}-${label.id}`;
    const box = el('input', { type: 'checkbox', id, value: label.id, disabled });
    // The property, not the attribute: a form's reset then clears it.
    box.checked = checked.has(label.id);
    return el('li', {}, box, el('label', { for: id }, chip(label)));
  }));
}

/** The ids ticked in a list made by `renderChoices`. */
export function chosen(list) {
  return [...list.querySelectorAll('input[type="checkbox"]:checked')].map((input) => input.value);
}

export class Labels {
  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange; // the board shows them
    this.loads = newestOnly($('#label-list'));
    $('#label-color').replaceChildren(...COLORS.map((c) => el('option', { value: c.id }, c.name)));
    const preview = () => {
      $('#label-preview').dataset.color = $('#label-color').value;
      $('#label-preview').textContent = $('#label-name').value.trim() || 'Label';
    };
    $('#label-color').addEventListener('change', preview);
    $('#label-name').addEventListener('input', preview);
    this.dialog = new FormDialog('label', {
      title: (label) => (label ? `Edit label “${label.name}”` : 'New label'),
      focus: 'name',
      fill: (f, label) => {
        f.name.value = label?.name ?? '';
        f.color.value = label?.color ?? 'blue';
        preview();
      },
      save: async (f, label) => {
        // Names keep no spaces at either end (the API refuses them).
        const body = { name: f.name.value.trim(), color: f.color.value };
        if (!body.name) throw { errors: [{ field: 'name', message: 'is required' }], message: '' };
        if (label) {
          await api.updateLabel(label.id, body);
          return `Label “${body.name}” saved.`;
        }
        await api.createLabel(body);
        return `Label “${body.name}” added.`;
      },
      saved: () => this.load(),
    });
    $('#new-label').addEventListener('click', () => this.dialog.open(null));
  }

  /** Whether the server lets the signed-in person manage labels. */
  get isAdmin() {
    return Boolean(this.state.can?.manage_labels);
  }

  /** Loads the labels; of overlapping loads, the newest one's answer. */
  load() {
    const error = $('#labels-error');
    return this.loads(() => api.labels(), ({ data }) => {
      this.state.labels = data;
      showNotice(error, '');
      this.render();
      this.onChange();
    }, (e) => {
      if (e.status !== 401) showNotice(error, `Could not load the labels: ${e.message}`);
    });
  }

  render() {
    const labels = this.state.labels;
    $('#new-label').hidden = !this.isAdmin;
    const n = labels.length;
    $('#labels-summary').textContent = n
      ? `${n} ${n === 1 ? 'label' : 'labels'}${this.isAdmin ? '' : ' (admins manage them)'}.`
      : (this.isAdmin ? 'No labels yet: add the first one.' : 'No labels yet: admins add them.');
    $('#label-list').replaceChildren(...labels.map((label) => this.row(label)));
  }

  row(label) {
    const error = el('p', { class: 'card-error', role: 'alert' });
    const uses = label.task_count === 1 ? '1 task' : `${label.task_count} tasks`;
    return el('li', { class: 'label-row', 'data-label-row': label.id },
      chip(label),
      el('span', { class: 'label-uses' }, `${COLORS.find((c) => c.id === label.color)?.name ?? label.color} · on ${uses}`),
      this.isAdmin && el('div', { class: 'person-actions' },
        el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Edit label ${label.name}`,
          onclick: () => this.dialog.open(label) }, 'Edit'),
        el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete label ${label.name}`,
          onclick: (e) => this.remove(label, e.currentTarget, error) }, 'Delete')),
      error);
  }

  remove(label, button, error) {
    const uses = label.task_count ? ` It is taken off the ${label.task_count === 1 ? 'task' : `${label.task_count} tasks`} that have it.` : '';
    return confirmedDelete({
      button, error,
      confirm: [`Delete the label “${label.name}”?`, `The label is deleted for good.${uses}`, 'Delete label'],
      send: () => api.deleteLabel(label.id),
      done: `Label “${label.name}” deleted.`,
      reload: () => this.load(),
    });
  }
}
