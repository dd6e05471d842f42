// Views in the URL: the board's filters as a query string (the same names
// GET /tasks takes), so a view can be bookmarked, shared, and Back/Forward
// walk through it; and each person's own saved views (/api/views), each a
// link to the board with its filters.

import { api } from './api.js';
import { $, FormDialog, confirmedDelete, el } from './ui.js';

/** The filters, in the order the URL writes them. */
export const FILTER_KEYS = ['q', 'assignee_id', 'status', 'label', 'label_match', 'due'];

/** The filters a query string names ('' for each one it does not);
 *  `label` may repeat or list ids separated by commas. */
export function filtersFrom(search) {
  const params = new URLSearchParams(search);
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? '']));
  filters.label = params.getAll('label').flatMap((v) => v.split(',')).filter(Boolean).join(',');
  if (!filters.label || filters.label.split(',').length < 2 || filters.label_match !== 'any') filters.label_match = '';
  return filters;
}

/** The query string of `filters` (without "?"): only what is set, in one order. */
export function queryOf(filters) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) params.set(key, filters[key]);
  return params.toString();
}

/** The board's address for `filters`. */
export function boardUrl(filters) {
  const query = queryOf(filters);
  return `/board${query ? `?${query}` : ''}`;
}

/** The saved views: listed under the filters once there are some, each a
 *  link that opens it (one click), with Rename and Delete; "Save view…" (in
 *  the filter bar) names the filters as they are. `board` is asked for its filters and told to follow a link. */
export class SavedViews {
  constructor(state, board) {
    this.state = state;
    this.board = board;
    this.views = [];
    this.dialog = new FormDialog('view', {
      title: (view) => (view ? `Rename “${view.name}”` : 'Save view'),
      focus: 'name',
      fill: (f, view) => {
        f.name.value = view?.name ?? '';
        $('#view-filters').textContent = view ? '' : `Filters: ${this.describe(queryOf(this.board.filters()))}`;
      },
      save: async (f, view) => {
        if (view) {
          await api.updateView(view.id, { name: f.name.value });
          return `View renamed to “${f.name.value}”.`;
        }
        await api.createView({ name: f.name.value, query: queryOf(this.board.filters()) });
        return `View “${f.name.value}” saved.`;
      },
      saved: () => this.load(),
    });
    $('#save-view').addEventListener('click', () => this.dialog.open(null));
  }

  async load() {
    try {
      const { data } = await api.views();
      this.views = data;
      $('#saved-views-error').textContent = '';
    } catch (e) {
      if (!e.signedOut) $('#saved-views-error').textContent = `Could not load your saved views: ${e.message}`;
    }
    this.render();
  }

  /** "status: To do, due: overdue" — what a view's filters say, in words. */
  describe(query) {
    const f = filtersFrom(query);
    const parts = [];
    if (f.q) parts.push(`words “${f.q}”`);
    if (f.assignee_id) parts.push(`assignee ${this.state.users.find((u) => u.id === f.assignee_id)?.full_name ?? 'someone'}`);
    if (f.status) parts.push(`status ${f.status.replace('_', ' ')}`);
    if (f.label) parts.push(`${f.label.split(',').length} label(s)`);
    if (f.due) parts.push({ overdue: 'overdue', this_week: 'due this week', none: 'no due date' }[f.due] ?? f.due);
    return parts.length ? parts.join(', ') : 'none (every task)';
  }

  /** Marks the view shown now (if it is a saved one) as the current one;
   *  the links stay (and the focus on them). */
  markCurrent() {
    const current = queryOf(this.board.filters());
    for (const link of document.querySelectorAll('#saved-view-list .saved-view-link')) {
      if (queryOf(filtersFrom(new URL(link.href).search)) === current) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
  }

  /** The list, the view shown now marked as the current one. */
  render() {
    $('#saved-views').hidden = this.views.length === 0 && !$('#saved-views-error').textContent;
    $('#saved-view-list').replaceChildren(...this.views.map((view) => {
      const error = $('#saved-views-error');
      return el('li', { 'data-view-id': view.id },
        el('a', { href: boardUrl(filtersFrom(view.query)), class: 'saved-view-link',
          title: this.describe(view.query),
          onclick: (event) => {
            if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
            event.preventDefault();
            this.board.open(filtersFrom(view.query));
          } }, view.name),
        el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Rename view “${view.name}”`,
          onclick: () => this.dialog.open(view) }, 'Rename'),
        el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete view “${view.name}”`,
          onclick: (e) => confirmedDelete({
            button: e.currentTarget, error,
            confirm: ['Delete this view?', `Your view “${view.name}” will be deleted (the tasks stay as they are).`, 'Delete view'],
            send: () => api.deleteView(view.id),
            done: `View “${view.name}” deleted.`,
            reload: async () => {
              await this.load();
              $('#save-view').focus();
            },
          }) }, 'Delete'));
    }));
    this.markCurrent();
  }
}
