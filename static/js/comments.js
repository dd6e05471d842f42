// Comments in the task dialog: the task's comments, newest first, a form to
// add one, and edit / delete on one's own (delete on any for admins, as the
// server's `can` says). A comment is plain text: it is put on the page as
// text nodes only; http(s) links in it become <a> elements made here, never
// HTML from the text.

import { api } from './api.js';
import { $, announce, busy, confirmedDelete, el, formatTime, onSubmit } from './ui.js';

/** How many comments the dialog shows (the newest). */
const SHOWN = 100;

/** http(s) URLs in running text; trailing punctuation is the sentence's. */
const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
const TRAILING = /[.,;:!?)\]}]+$/;

/** The nodes that show `text`: text nodes, and a link for each http(s) URL. */
export function linkified(text) {
  const nodes = [];
  let from = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING, '');
    let href = null;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') href = parsed.href;
    } catch {
      // Not a URL after all: stays text.
    }
    if (!href) continue;
    nodes.push(document.createTextNode(text.slice(from, match.index)));
    nodes.push(el('a', { href, rel: 'noopener noreferrer', target: '_blank' }, url));
    from = match.index + url.length;
  }
  nodes.push(document.createTextNode(text.slice(from)));
  return nodes;
}

export class Comments {
  /** `changed()`: a comment was added or deleted here (the board's counts). */
  constructor(state, changed) {
    this.state = state;
    this.changed = changed;
    this.task = null; // the task whose comments show, if any
    this.editing = null; // the id of the comment being edited here
    this.loads = 0;
    this.section = $('#task-comments');
    this.list = $('#task-comments-list');
    this.note = $('#task-comments-note');
    this.form = $('#comment-form');
    onSubmit(this.form, 'Sending…', async ({ body }) => {
      if (!body.value.trim()) throw { errors: [{ field: 'body', message: 'must not be empty' }], message: '' };
      await api.addComment(this.task.id, body.value);
      body.value = '';
      announce('Comment added.');
      await this.load();
      await this.changed();
    });
  }

  /** Shows `task`'s comments (none for a new task). */
  show(task) {
    this.task = task;
    this.editing = null;
    this.list.replaceChildren();
    this.note.textContent = '';
    this.form.reset();
    this.section.hidden = !task;
    return task ? this.load() : Promise.resolve();
  }

  /** The live feed says comments of these tasks changed (`null`: maybe
   *  of any task, the page was too far behind). */
  refresh(taskIds) {
    const shown = this.task && $('#task-dialog').open;
    if (shown && (!taskIds || taskIds.has(this.task.id))) return this.load();
    return Promise.resolve();
  }

  /** Loads the comments; an answer for a task no longer shown, or older
   *  than a load started since, is dropped. */
  async load() {
    const task = this.task;
    const mine = ++this.loads;
    this.list.setAttribute('aria-busy', 'true');
    try {
      const { data, total } = await api.comments(task.id, SHOWN);
      if (mine !== this.loads || this.task !== task) return;
      this.render(data);
      this.note.textContent = total > data.length ? `The ${data.length} newest of ${total} comments.`
        : (total === 0 ? 'No comments yet.' : '');
    } catch (e) {
      if (mine === this.loads && this.task === task && !e.signedOut) this.note.textContent = `Could not load the comments: ${e.message}`;
    } finally {
      if (mine === this.loads) this.list.setAttribute('aria-busy', 'false');
    }
  }

  /** The list as the server has it; a comment being edited here keeps its
   *  form (and what is typed in it) as long as it exists. */
  render(comments) {
    const editing = this.editing && this.list.querySelector(`[data-comment-id="${this.editing}"]`);
    this.list.replaceChildren(...comments.map((c) => (c.id === this.editing && editing ? editing : this.entry(c))));
    if (!comments.some((c) => c.id === this.editing)) this.editing = null;
  }

  nameOf(id) {
    if (!id) return 'A former member';
    return this.state.users.find((u) => u.id === id)?.full_name ?? 'A former member';
  }

  entry(comment) {
    const me = this.state.me;
    const own = Boolean(me && comment.author_id === me.id);
    const mayDelete = own || Boolean(this.state.can?.delete_any_comment);
    const error = el('p', { class: 'card-error', role: 'alert' });
    const body = el('p', { class: 'comment-body' }, linkified(comment.body));
    const item = el('li', { class: 'comment', 'data-comment-id': comment.id });
    const who = this.nameOf(comment.author_id);
    const actions = (own || mayDelete) && el('div', { class: 'comment-actions' },
      own && el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Edit your comment from ${formatTime(comment.created_at)}`,
        onclick: () => this.edit(item, comment, body) }, 'Edit'),
      mayDelete && el('button', { type: 'button', class: 'btn btn-small btn-danger-ghost',
        'aria-label': own ? `Delete your comment from ${formatTime(comment.created_at)}` : `Delete ${who}'s comment from ${formatTime(comment.created_at)}`,
        onclick: (e) => this.remove(comment, e.currentTarget, error) }, 'Delete'));
    item.append(
      el('p', { class: 'comment-meta' },
        el('span', { class: 'comment-author' }, who), ' · ',
        el('time', { datetime: comment.created_at }, formatTime(comment.created_at)),
        comment.edited_at && el('span', { class: 'comment-edited', title: `Edited ${formatTime(comment.edited_at)}` }, ' · edited')),
      body, actions, error);
    return item;
  }

  /** Edits a comment in place: its text in a box, Save and Cancel. */
  edit(item, comment, body) {
    this.editing = comment.id;
    const id = `comment-edit-${comment.id}`;
    const input = el('textarea', { id, name: 'body', rows: '3', maxlength: '4000', 'aria-describedby': `${id}-error` });
    input.value = comment.body;
    const error = el('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    const cancel = () => {
      this.editing = null;
      const fresh = this.entry(comment);
      item.replaceWith(fresh);
      fresh.querySelector('.comment-actions button')?.focus();
    };
    const form = el('form', { class: 'comment-edit', novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = '';
        try {
          const save = form.querySelector('[type="submit"]');
          await busy(save, 'Saving…', () => api.editComment(comment.task_id, comment.id, input.value));
        } catch (e) {
          if (!e.signedOut) error.textContent = e.errors?.[0] ? `Comment ${e.errors[0].message}.` : e.message;
          input.focus();
          return;
        }
        this.editing = null;
        announce('Comment saved.');
        await this.load();
      } },
    el('label', { for: id }, 'Edit your comment'), input, error,
    el('div', { class: 'comment-actions' },
      el('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save comment'),
      el('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: cancel }, 'Cancel')));
    body.replaceWith(form);
    item.querySelector(':scope > .comment-actions')?.remove();
    input.focus();
  }

  remove(comment, button, error) {
    return confirmedDelete({
      button, error,
      confirm: ['Delete this comment?', 'It will be deleted for good, for everyone.', 'Delete comment'],
      send: () => api.deleteComment(comment.task_id, comment.id),
      done: 'Comment deleted.',
      reload: async () => {
        await this.load();
        await this.changed();
      },
    });
  }
}
