// The task board: three columns, filters, the task dialog, moves and deletes.

import { api } from './api.js';
import { Comments } from './comments.js';
import { chip, chosen, renderChoices } from './labels.js';
import {
  $, FormDialog, announce, busy, confirmedDelete, el, formatDate, formatTime, initials, newestOnly, onPage, showNotice, today,
} from './ui.js';
import { boardUrl, filtersFrom, queryOf } from './views.js';

export const STATUSES = [
  { id: 'todo', label: 'To do' },
  { id: 'in_progress', label: 'In progress' },
  { id: 'done', label: 'Done' },
];
const label = (status) => STATUSES.find((s) => s.id === status)?.label ?? status;

/** How many days ahead a due date counts as "due soon" on a card. */
const SOON_DAYS = 2;

/** The local date `days` after `isoDate` (YYYY-MM-DD). */
function addDays(isoDate, days) {
  const [y, m, d] = isoDate.split('-').map(Number);
  const date = new Date(y, m - 1, d + days);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** 'overdue' (due before today, not done), 'soon' (due today or in the
 *  next SOON_DAYS days, not done), or null: what a card's badge says. */
export function dueState(task, now = today()) {
  if (!task.due_date || task.status === 'done') return null;
  if (task.due_date < now) return 'overdue';
  return task.due_date <= addDays(now, SOON_DAYS) ? 'soon' : null;
}

/** The task dialog's fields, in the order a conflict lists them. */
const TASK_FIELDS = [
  { name: 'title', label: 'Title' },
  { name: 'description', label: 'Description' },
  { name: 'assignee_id', label: 'Assignee' },
  { name: 'due_date', label: 'Due date' },
  { name: 'status', label: 'Status' },
];
const statusOptions = () => STATUSES.map((s) => el('option', { value: s.id }, s.label));

/** A board column: its title with the task count, and the list of cards. */
/** A search hit's fragments as text nodes, the matching words in <mark>:
 *  the text stays text (no HTML is ever parsed from it). */
function marked(fragments) {
  return fragments.map((f) => (f.match ? el('mark', {}, f.text) : document.createTextNode(f.text)));
}

/** Whether a key pressed on `target` is typed into a field. */
function typingIn(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function column({ id, label }) {
  const title = `col-${id}-title`;
  return el('section', { class: 'column', 'data-status': id, 'aria-labelledby': title },
    el('h2', { class: 'column-title', id: title },
      el('span', { class: 'dot', 'aria-hidden': 'true' }), label,
      el('span', { class: 'count', 'data-count': id, 'aria-label': '0 tasks' }, '0')),
    el('ul', { class: 'cards', 'data-list': id }));
}

export class Board {
  constructor(state) {
    this.state = state;
    this.draggedId = null; // the task being dragged, if any
    this.loads = newestOnly($('#board'));
    // Everyone comments on every task; a task they may not change opens
    // read-only, with its comments.
    this.comments = new Comments(state, () => this.load());
    this.dialog = new FormDialog('task', {
      title: (task) => (!task ? 'New task' : (this.canChange(task) ? 'Edit task' : 'Task')),
      focus: 'title',
      fill: (f, task) => this.fill(f, task),
      save: (f, task) => this.save(f, task),
      saved: () => this.load(),
    });
    // The filters live in the URL (views.js): read from it now, written to
    // it at every change, read again on Back and Forward.
    this.view = filtersFrom(location.search);
    this.onViewChange = () => {};
    $('#new-task').addEventListener('click', () => this.dialog.open(null));
    $('#filters').addEventListener('change', (event) => {
      if (event.target.id === 'filter-q') return; // the search box has its own pace
      this.choose({ ...this.fromControls(), q: this.view.q });
    });
    this.searchBox();
    $('#filters').addEventListener('reset', (event) => {
      event.preventDefault();
      this.open(filtersFrom(''));
    });
    $('#my-tasks').addEventListener('click', (event) => {
      const mine = event.currentTarget.getAttribute('aria-pressed') !== 'true';
      this.choose({ ...this.view, assignee_id: mine ? this.state.me.id : '' });
    });
    window.addEventListener('popstate', () => this.followUrl());
    $('#filter-status').append(...statusOptions());
    this.toControls();
    $('#task-status').append(...statusOptions());
    $('#board').replaceChildren(...STATUSES.map(column));
    for (const column of document.querySelectorAll('.column')) this.acceptDrops(column);
  }

  /** Drag and drop between columns: a shortcut for the move buttons. */
  acceptDrops(column) {
    const status = column.dataset.status;
    const dragged = () => this.state.tasks.find((t) => t.id === this.draggedId);
    column.addEventListener('dragover', (event) => {
      const task = dragged();
      if (!task || task.status === status) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      column.classList.add('drop-target');
    });
    column.addEventListener('dragleave', (event) => {
      if (!column.contains(event.relatedTarget)) column.classList.remove('drop-target');
    });
    column.addEventListener('drop', (event) => {
      event.preventDefault();
      column.classList.remove('drop-target');
      const task = dragged();
      this.draggedId = null;
      if (!task || task.status === status) return;
      const card = document.querySelector(`[data-task-id="${task.id}"]`);
      card?.classList.add('moving');
      this.move(task, status, null, card?.querySelector('.card-error'));
    });
  }

  /** The search box: results follow the typing (after a pause); Enter
   *  searches at once; Escape clears; "/" anywhere on the board (but in a
   *  field or a dialog) comes to it. */
  searchBox() {
    const box = $('#filter-q');
    let pause;
    const search = () => {
      clearTimeout(pause);
      const q = box.value.trim();
      if (q === this.view.q) return;
      // The first word typed is a step Back undoes; the rest of the typing
      // rewrites that step.
      this.choose({ ...this.view, q }, this.view.q ? 'replace' : 'push');
    };
    box.addEventListener('input', () => { clearTimeout(pause); pause = setTimeout(search, 250); });
    // The form's own change event reloads already; Enter would submit it.
    $('#filters').addEventListener('submit', (event) => { event.preventDefault(); search(); });
    box.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !box.value) return;
      event.preventDefault();
      box.value = '';
      search();
    });
    document.addEventListener('keydown', (event) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
      if ($('#board-view').hidden || document.querySelector('dialog[open]')) return;
      event.preventDefault();
      box.focus();
      box.select();
    });
  }

  /** The filters shown now (as the URL says them). */
  filters() {
    return { ...this.view };
  }

  /** The filters as the controls are set. */
  fromControls() {
    const labels = chosen($('#filter-label-list'));
    return filtersFrom(queryOf({
      q: $('#filter-q').value.trim(),
      assignee_id: $('#filter-assignee').value,
      status: $('#filter-status').value,
      label: labels.join(','),
      label_match: $('#filter-label-match').value,
      due: $('#filter-due').value,
    }));
  }

  /** Sets the controls to the filters shown, and the links to the board
   *  (the top bar's) to come back to them from another page. */
  toControls() {
    const f = this.view;
    for (const link of document.querySelectorAll('a[href^="/board"][data-link]')) link.setAttribute('href', boardUrl(f));
    $('#filter-q').value = f.q;
    this.renderAssigneeChoices();
    $('#filter-status').value = f.status;
    $('#filter-due').value = f.due;
    $('#filter-label-match').value = f.label_match || 'all';
    const ticked = new Set(f.label.split(',').filter(Boolean));
    for (const box of $('#filter-label-list').querySelectorAll('input[type="checkbox"]')) box.checked = ticked.has(box.value);
  }

  /** Shows `filters`, a new step in the browser's history (`push`), or
   *  rewriting the current one (`replace`). */
  choose(filters, how = 'push') {
    this.view = filtersFrom(queryOf(filters));
    // Only the board's own address changes (a label deleted while the team
    // page shows drops out of the filters, not out of that page's URL).
    const url = boardUrl(this.view);
    const onBoard = location.pathname === '/board' || location.pathname === '/';
    if (onBoard && `${location.pathname}${location.search}` !== url) {
      history[how === 'push' ? 'pushState' : 'replaceState']({}, '', url);
    }
    this.toControls();
    this.onViewChange();
    return this.load();
  }

  /** Opens a view (a saved one, or none: Clear filters) as a new step. */
  open(filters) {
    return this.choose(filters);
  }

  /** The URL changed (Back, Forward, a link to the board): show its filters. */
  followUrl() {
    if (location.pathname !== '/board' && location.pathname !== '/') return;
    const wanted = filtersFrom(location.search);
    if (queryOf(wanted) === queryOf(this.view)) return;
    this.view = wanted;
    this.toControls();
    this.onViewChange();
    if (this.state.me) this.load();
  }

  /** Keeps the label choices (the filter, an open task dialog) in step
   *  with the team's labels, and the cards' chips with their names. */
  renderLabelChoices() {
    const labels = this.state.labels;
    const list = $('#filter-label-list');
    const ticked = this.view.label.split(',').filter(Boolean);
    renderChoices(list, labels, new Set(ticked), 'filter-label');
    $('#filter-labels').hidden = labels.length === 0;
    if (this.dialog.dialog.open) this.renderTaskLabels(new Set(chosen($('#task-label-list'))));
    // A filter by a label deleted meanwhile is a filter no more.
    const kept = ticked.filter((id) => labels.some((l) => l.id === id));
    if (kept.length < ticked.length) this.choose({ ...this.view, label: kept.join(',') }, 'replace');
  }

  /** The task dialog's label checkboxes, `checked` ticked. */
  renderTaskLabels(checked) {
    const readOnly = Boolean(this.dialog.item) && !this.canChange(this.dialog.item);
    renderChoices($('#task-label-list'), this.state.labels, checked, 'task-label', readOnly);
    $('#task-labels-none').hidden = this.state.labels.length > 0;
  }

  /** What the server said this person may change (`can` of /auth/session). */
  canChange(task) {
    const { me, can } = this.state;
    return Boolean(can?.change_any_task || (can?.change_assigned_tasks && me && task.assignee_id === me.id));
  }

  /** A name from the team for a user id on a task. */
  nameOf(id) {
    return this.state.users.find((u) => u.id === id)?.full_name ?? 'a former member';
  }

  /** "Created by Ada · changed by Bob" (what is known of it). */
  history(task) {
    const parts = [];
    if (task.created_by) parts.push(`Created by ${this.nameOf(task.created_by)}`);
    const changed = task.updated_by && (task.updated_by !== task.created_by || task.updated_at !== task.created_at);
    if (changed) parts.push(`${parts.length ? 'changed' : 'Changed'} by ${this.nameOf(task.updated_by)}`);
    return parts.length ? el('p', { class: 'card-history' }, parts.join(' · ')) : null;
  }

  /** Keeps the assignee choices in step with the team. */
  renderAssigneeChoices() {
    const filter = $('#filter-assignee');
    const wanted = this.view.assignee_id;
    // Someone not (or no longer) in the team, named by a shared link.
    const stranger = wanted && !this.state.users.some((u) => u.id === wanted);
    filter.replaceChildren(el('option', { value: '' }, 'Everyone'),
      ...this.state.users.map((u) => el('option', { value: u.id }, u.full_name)),
      stranger && el('option', { value: wanted }, 'Someone not in the team'));
    filter.value = wanted;
  }

  /** Shows the tasks that match the filters. Loads overlap (a sign-in, a
   *  save, a filter change): the newest one's answer is what shows. */
  load() {
    const error = $('#board-error');
    $('#my-tasks').setAttribute('aria-pressed', String(Boolean(this.state.me) && this.filters().assignee_id === this.state.me.id));
    return this.loads(() => api.tasks(this.filters(), today()), ({ data, total }) => {
      this.state.tasks = data;
      showNotice(error, '');
      this.render(total);
    }, (e) => {
      if (e.status !== 401) showNotice(error, `Could not load the tasks: ${e.message}`);
    });
  }

  render(total) {
    const focus = this.focusOnCard();
    const shown = this.state.tasks.length;
    const words = this.filters().q;
    $('#board-summary').textContent = words
      ? `${total} ${total === 1 ? 'task matches' : 'tasks match'} “${words}”${total > shown ? ` (the best ${shown} shown)` : ''}, best first.`
      : total > shown
        ? `Showing the ${shown} newest of ${total} tasks.`
        : `${shown} ${shown === 1 ? 'task' : 'tasks'}${this.isFiltered() ? ' match the filters' : ''}.`;
    for (const { id } of STATUSES) {
      const tasks = this.state.tasks.filter((t) => t.status === id);
      const list = document.querySelector(`[data-list="${id}"]`);
      list.replaceChildren(...(tasks.length ? tasks.map((t) => this.card(t)) : [el('li', { class: 'empty' }, 'Nothing here.')]));
      const count = document.querySelector(`[data-count="${id}"]`);
      count.textContent = String(tasks.length);
      count.setAttribute('aria-label', `${tasks.length} ${tasks.length === 1 ? 'task' : 'tasks'}`);
    }
    this.refocus(focus);
  }

  /** Which card's button has the focus, if one has: the cards are made anew
   *  at every load (a live change of someone else's, too), and a keyboard
   *  user must not be thrown back to the top of the page by it. */
  focusOnCard() {
    const active = document.activeElement;
    const card = active?.closest?.('#board .card');
    return card ? { id: card.dataset.taskId, label: active.getAttribute('aria-label') } : null;
  }

  /** Puts the focus back on the same button of the same card (wherever the
   *  card now is), or on its first button when that one is gone (a move). */
  refocus(focus) {
    const card = focus && document.querySelector(`#board [data-task-id="${focus.id}"]`);
    if (!card || card.contains(document.activeElement)) return;
    const buttons = [...card.querySelectorAll('button')];
    (buttons.find((b) => b.getAttribute('aria-label') === focus.label) ?? card.querySelector('.card-actions button') ?? buttons[0])?.focus();
  }

  isFiltered() {
    const f = this.filters();
    return Boolean(f.assignee_id || f.status || f.label || f.q || f.due);
  }

  card(task) {
    const assignee = this.state.users.find((u) => u.id === task.assignee_id);
    const due = dueState(task);
    const overdue = due === 'overdue';
    const error = el('p', { class: 'card-error', role: 'alert' });
    const index = STATUSES.findIndex((s) => s.id === task.status);
    const back = STATUSES[index - 1];
    const forward = STATUSES[index + 1];
    const mayChange = this.canChange(task);
    const actions = mayChange && el('div', { class: 'card-actions' },
      // data-move: the left and right arrows press these (shortcuts.js).
      back && el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-move': 'back', 'aria-label': `Move “${task.title}” back to ${back.label}`,
        onclick: (e) => this.move(task, back.id, e.currentTarget, error) }, `← ${back.label}`),
      forward && el('button', { type: 'button', class: 'btn btn-small', 'data-move': 'forward', 'aria-label': `Move “${task.title}” to ${forward.label}`,
        onclick: (e) => this.move(task, forward.id, e.currentTarget, error) }, `${forward.label} →`),
      el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Edit “${task.title}”`,
        onclick: () => this.dialog.open(task) }, 'Edit'),
      task.status === 'done' && el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete “${task.title}”`,
        onclick: (e) => this.remove(task, e.currentTarget, error) }, 'Delete'));
    return el('li', { class: `card${overdue ? ' overdue' : ''}${due === 'soon' ? ' due-soon' : ''}`, 'data-task-id': task.id, draggable: mayChange ? 'true' : undefined,
      ondragstart: (event) => {
        this.draggedId = task.id;
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', task.title);
        event.currentTarget.classList.add('dragging');
      },
      ondragend: (event) => {
        event.currentTarget.classList.remove('dragging');
        for (const c of document.querySelectorAll('.drop-target')) c.classList.remove('drop-target');
      } },
      el('h3', { class: 'card-title' }, task.search ? marked(task.search.title) : task.title),
      task.labels?.length > 0 && el('ul', { class: 'card-labels', 'aria-label': 'Labels' },
        ...task.labels.map((l) => el('li', {}, chip(l)))),
      task.description && el('p', { class: 'card-description' },
        task.search?.description ? marked(task.search.description) : task.description),
      task.search?.comment && el('p', { class: 'card-match' },
        el('span', { class: 'sr-only' }, 'Comment: '), el('span', { 'aria-hidden': 'true' }, '💬 '),
        marked(task.search.comment.fragments)),
      el('p', { class: 'card-meta' },
        el('span', { class: 'assignee' },
          el('span', { class: 'avatar avatar-small', 'aria-hidden': 'true' }, assignee ? initials(assignee.full_name) : '?'),
          assignee ? assignee.full_name : (task.assignee_id ? 'Unknown person' : 'Unassigned')),
        // The badge says it in words (never colour alone); the date beside it.
        due && el('span', { class: 'due-badge', 'data-due': due }, overdue ? 'Overdue' : 'Due soon'),
        task.due_date && el('span', { class: 'due' }, overdue ? formatDate(task.due_date) : `Due ${formatDate(task.due_date)}`),
        this.commentsButton(task)),
      this.history(task), actions, error);
  }

  /** "💬 2" on every card: opens the task with its comments. */
  commentsButton(task) {
    const n = task.comment_count ?? 0;
    return el('button', { type: 'button', class: 'btn btn-small btn-ghost card-comments', 'data-comment-count': String(n),
      'aria-label': `${n} ${n === 1 ? 'comment' : 'comments'} on “${task.title}”`,
      onclick: () => {
        this.dialog.open(task);
        $('#comment-body').focus();
      } },
    el('span', { 'aria-hidden': 'true' }, '💬'), ` ${n}`);
  }

  /** Moves a task to another column; `button` shows progress (none for a drop). */
  async move(task, status, button, error) {
    if (error) error.textContent = '';
    const work = () => api.updateTask(task.id, { status }, task.version);
    try {
      await (button ? busy(button, 'Moving…', work) : work());
      announce(`“${task.title}” moved to ${label(status)}.`);
      await this.load();
      // Keep keyboard users where they were: on the moved card, in its new column.
      if (button) document.querySelector(`[data-task-id="${task.id}"] .card-actions button`)?.focus();
    } catch (e) {
      document.querySelector(`[data-task-id="${task.id}"]`)?.classList.remove('moving');
      if (e.status === 412 && e.current) return this.movedMeanwhile(e.current, status);
      // A live change may have drawn the board again meanwhile: the
      // refusal goes to the card now on the page.
      if (error && !e.signedOut) onPage(error).textContent = e.message;
    }
  }

  /** A move refused because someone changed the task since this board
   *  loaded it: the board shows the task as it now is, and its card says
   *  what happened, so the person can decide again. */
  async movedMeanwhile(current, wanted) {
    await this.load();
    const message = `Not moved: ${this.whoChanged(current)} changed this task meanwhile (it is now in ${label(current.status)}).`
      + (current.status === wanted ? '' : ` Move it again to put it in ${label(wanted)}.`);
    const error = document.querySelector(`[data-task-id="${current.id}"] .card-error`);
    if (error) error.textContent = message;
    announce(message);
  }

  /** "Ada" (who saved `task` last), or "someone". */
  whoChanged(task) {
    return task.updated_by ? this.nameOf(task.updated_by) : 'someone';
  }

  remove(task, button, error) {
    return confirmedDelete({
      button, error,
      confirm: ['Delete this task?', `“${task.title}” will be deleted for good.`, 'Delete task'],
      send: () => api.deleteTask(task.id, task.version),
      done: `“${task.title}” deleted.`,
      reload: () => this.load(),
    });
  }

  /** The task dialog's fields: the team to choose from, and the task's values. */
  fill(f, task) {
    $('#task-conflict').hidden = true;
    $('#task-conflict-fields').replaceChildren();
    this.showTimeline(task);
    this.comments.show(task);
    // Someone who may not change the task reads it (and comments on it).
    const readOnly = Boolean(task) && !this.canChange(task);
    for (const { name } of TASK_FIELDS) f[name].disabled = readOnly;
    $('#task-form [type="submit"]').hidden = readOnly;
    $('#task-form [data-close]').textContent = readOnly ? 'Close' : 'Cancel';
    this.renderTaskLabels(new Set((task?.labels ?? []).map((l) => l.id)));
    const select = $('#task-assignee');
    select.replaceChildren(el('option', { value: '' }, 'Choose a person…'),
      ...this.state.users.filter((u) => u.active || u.id === task?.assignee_id)
        .map((u) => el('option', { value: u.id }, `${u.full_name} (${u.email})`)));
    if (task) {
      f.title.value = task.title;
      f.description.value = task.description ?? '';
      f.assignee_id.value = task.assignee_id ?? '';
      f.due_date.value = task.due_date ?? '';
      f.status.value = task.status;
    } else if (this.filters().assignee_id) {
      select.value = this.filters().assignee_id;
    }
  }

  async save(f, task) {
    const body = {
      title: f.title.value,
      description: f.description.value.trim() ? f.description.value : null,
      due_date: f.due_date.value || null,
      status: f.status.value,
    };
    if (f.assignee_id.value) body.assignee_id = f.assignee_id.value;
    else if (!task) throw { errors: [{ field: 'assignee_id', message: 'is required: choose a person' }], message: '' };
    // Labels only when they changed here: a save of other fields leaves
    // labels someone else set meanwhile alone.
    const labels = chosen($('#task-label-list'));
    const had = (task?.labels ?? []).map((l) => l.id);
    if (labels.length !== had.length || labels.some((id) => !had.includes(id))) body.label_ids = labels;
    if (task) {
      try {
        await api.updateTask(task.id, body, task.version);
      } catch (e) {
        if (e.status !== 412 || !e.current) throw e;
        this.conflict(f, task, e.current);
        throw { errors: [], message: '' }; // the dialog stays open, as typed
      }
      return 'Task saved.';
    }
    await api.createTask(body);
    return 'Task created.';
  }

  /** A task field's value as people read it (conflicts and the timeline). */
  shown(name, value) {
    if (value === null || value === undefined || value === '') return '(empty)';
    if (name === 'assignee_id') return this.nameOf(value);
    if (name === 'status') return label(value);
    if (name === 'due_date') return formatDate(value);
    return `“${value}”`;
  }

  /** The task dialog's timeline: who changed what, newest first (the
   *  task's history, names from the team). Only for an existing task; an
   *  answer for a dialog since reopened on another task is dropped. */
  async showTimeline(task) {
    const section = $('#task-timeline');
    const list = $('#task-timeline-entries');
    const note = $('#task-timeline-note');
    list.replaceChildren();
    note.textContent = '';
    section.hidden = !task;
    if (!task) return;
    list.setAttribute('aria-busy', 'true');
    try {
      const { data, total } = await api.taskHistory(task.id);
      if (this.dialog.item?.id !== task.id) return;
      list.replaceChildren(...data.map((entry) => this.timelineEntry(entry)));
      if (total > data.length) note.textContent = `The ${data.length} latest of ${total} changes.`;
    } catch (e) {
      if (this.dialog.item?.id === task.id && !e.signedOut) note.textContent = `Could not load the history: ${e.message}`;
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  /** "Ada moved it from To do to In progress · 25 Nov 2026, 10:02". */
  timelineEntry(entry) {
    const who = entry.changed_by ? this.nameOf(entry.changed_by) : 'A service';
    const field = TASK_FIELDS.find((f) => f.name === entry.field);
    const what = entry.field === 'created' ? `created it as ${this.shown('title', entry.to)}`
      : entry.field === 'labels' ? `changed the labels from ${entry.from ?? '(none)'} to ${entry.to ?? '(none)'}`
      : entry.field === 'status' ? `moved it from ${label(entry.from)} to ${label(entry.to)}`
        : entry.field === 'assignee_id' ? `reassigned it from ${this.shown('assignee_id', entry.from)} to ${this.shown('assignee_id', entry.to)}`
          : `changed the ${field.label.toLowerCase()} from ${this.shown(entry.field, entry.from)} to ${this.shown(entry.field, entry.to)}`;
    return el('li', { 'data-field': entry.field },
      el('span', { class: 'timeline-what' }, `${who} ${what}`),
      el('time', { class: 'timeline-when', datetime: entry.changed_at }, formatTime(entry.changed_at)));
  }

  /** The task's labels in a refused save (see `conflict`): taken from
   *  `current` when this person left them as they were in `base`, or both
   *  shown with "Use theirs" when both changed them; `null` when there is
   *  nothing to say. */
  labelsConflict(base, current) {
    const key = (ids) => [...ids].sort().join();
    const idsOf = (task) => (task.labels ?? []).map((l) => l.id);
    const named = (ids) => this.state.labels.filter((l) => ids.includes(l.id)).map((l) => l.name).join(', ') || '(none)';
    const mine = chosen($('#task-label-list'));
    const theirs = idsOf(current);
    if (key(theirs) === key(idsOf(base)) || key(theirs) === key(mine)) return null;
    const theirNames = (current.labels ?? []).map((l) => l.name).join(', ') || '(none)';
    if (key(mine) === key(idsOf(base))) {
      this.renderTaskLabels(new Set(theirs)); // untouched here: take theirs
      return el('li', {}, el('span', { class: 'theirs' }, `Labels: now ${theirNames} (taken; you had not changed them).`));
    }
    const take = el('button', { type: 'button', class: 'btn btn-small',
      onclick: () => {
        this.renderTaskLabels(new Set(theirs));
        take.disabled = true;
        take.textContent = 'Theirs taken';
      } }, 'Use theirs');
    return el('li', { 'data-field': 'labels' },
      el('span', { class: 'theirs' }, `Labels: theirs ${theirNames}, yours ${named(mine)}.`), take);
  }

  /** A save refused because someone saved the task since the dialog opened
   *  (`base`): what they changed is taken into the form where this person
   *  had left the field alone; where both changed a field, the person sees
   *  both values and keeps theirs or takes the other's. The dialog now edits
   *  `current`, so saving again applies the form as it then is. */
  conflict(f, base, current) {
    this.dialog.item = current;
    this.showTimeline(current); // now with what they changed
    const shown = (name, value) => this.shown(name, value);
    const normal = (value) => value ?? '';
    const rows = [];
    for (const { name, label: field } of TASK_FIELDS) {
      const theirs = normal(current[name]);
      const mine = f[name].value;
      if (theirs === normal(base[name]) || theirs === mine) continue;
      if (mine === normal(base[name])) {
        f[name].value = theirs; // untouched here: take theirs
        rows.push(el('li', {}, el('span', { class: 'theirs' }, `${field}: now ${shown(name, theirs)} (taken; you had not changed it).`)));
        continue;
      }
      const take = el('button', { type: 'button', class: 'btn btn-small',
        onclick: () => {
          f[name].value = theirs;
          take.disabled = true;
          take.textContent = 'Theirs taken';
        } }, 'Use theirs');
      rows.push(el('li', { 'data-field': name },
        el('span', { class: 'theirs' }, `${field}: theirs ${shown(name, theirs)}, yours ${shown(name, mine)}.`), take));
    }
    const labels = this.labelsConflict(base, current);
    if (labels) rows.push(labels);
    const who = this.whoChanged(current);
    $('#task-conflict-note').textContent = rows.length
      ? `${who} saved this task while you were editing. Nothing of yours was saved yet: check the fields below, keep yours or use theirs, then save again.`
      : `${who} saved this task while you were editing, with the same values as yours. Save again to confirm.`;
    $('#task-conflict-fields').replaceChildren(...rows);
    const section = $('#task-conflict');
    section.hidden = false;
    section.focus();
    announce(`${who} changed this task while you were editing it.`);
  }
}
