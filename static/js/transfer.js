// Export and import (admins): downloads by links; an export or a Trello
// board uploaded with its progress shown; a Trello board's lists and
// members mapped in a form the server's preview fills (docs/ui.md).

import { ApiError, request } from './api.js';
import { $, announce, busy, clearFormErrors, el, showFormError, showNotice } from './ui.js';

const STATUSES = [['todo', 'To do'], ['in_progress', 'In progress'], ['done', 'Done']];

// A file goes up in chunks of this size (the server's limit for one), each
// its own request; then the server imports it and reports how far it got
// (docs/api.md, Imports of any size).
const CHUNK_BYTES = 1024 * 1024;

// How often the page asks how far the import has got.
const POLL_MS = 500;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** PUTs chunk `n` (a Blob) of upload `id`; a failed one is sent again,
 *  twice at most (the same chunk again replaces it). */
async function putChunk(id, n, blob, tries = 3) {
  let response;
  try {
    response = await fetch(`/api/imports/${id}/chunks/${n}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json' },
      credentials: 'same-origin',
      body: blob,
    });
  } catch {
    if (tries > 1) return putChunk(id, n, blob, tries - 1);
    throw new ApiError(0, { detail: 'Cannot reach MicroTaskHub. Check your connection and try again.' });
  }
  if (response.ok) return;
  if (response.status >= 500 && tries > 1) return putChunk(id, n, blob, tries - 1);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  throw new ApiError(response.status, data);
}

/** Uploads `file` as a new upload of `kind` (microtaskhub or trello), a
 *  chunk at a time (the file is never read whole), reporting the percent
 *  sent; resolves with the upload's id. */
async function stage(kind, file, onProgress) {
  const { data: made } = await request('POST', '/api/imports', { kind, size: file.size });
  onProgress(0);
  for (let n = 0, at = 0; at < file.size; n += 1, at += CHUNK_BYTES) {
    await putChunk(made.id, n, file.slice(at, at + CHUNK_BYTES));
    onProgress(Math.round((Math.min(at + CHUNK_BYTES, file.size) / file.size) * 100));
  }
  return made.id;
}

/** What the server says it is doing: "Writing tasks: 1,200". */
function phaseText(upload) {
  const count = Number(upload.items || 0).toLocaleString('en');
  if (upload.phase === 'checking') return `Checking the file: ${count} item(s) read`;
  if (upload.phase === 'writing' && upload.section) return `Writing ${upload.section}: ${count}`;
  return 'Importing…';
}

/** Runs upload `id` (with `body`, a Trello board's mapping), asking every
 *  half second how far it has got (`onServer(upload)`) until the run's
 *  answer arrives: the summary, or an ApiError. */
async function run(id, body, onServer) {
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      await sleep(POLL_MS);
      if (finished) return;
      try {
        const { data } = await request('GET', `/api/imports/${id}`);
        if (!finished) onServer(data);
      } catch {
        // The run's own answer says what went wrong.
      }
    }
  })();
  try {
    return (await request('POST', `/api/imports/${id}/run`, body)).data;
  } finally {
    finished = true;
    await poll;
  }
}

/** A progress row: the bar and a line of text (read out as it changes).
 *  `upload(percent)` while the file goes up; `server(upload)` once the
 *  server is importing it (the bar without a value: indeterminate). */
function progress(row, bar, line) {
  return {
    upload(percent) {
      row.hidden = false;
      bar.value = percent;
      bar.setAttribute('aria-valuetext', `${percent}% uploaded`);
      line.textContent = `Uploading: ${percent}%`;
    },
    server(upload) {
      row.hidden = false;
      bar.removeAttribute('value');
      bar.setAttribute('aria-valuetext', 'Uploaded; importing…');
      line.textContent = upload ? phaseText(upload) : 'Importing…';
    },
    hide() {
      row.hidden = true;
      line.textContent = '';
    },
  };
}

function counted(summary) {
  const parts = [
    [summary.tasks, 'task', 'tasks'],
    [summary.labels, 'label', 'labels'],
    [summary.comments, 'comment', 'comments'],
    [summary.people, 'person', 'people'],
  ].map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  let text = `Imported ${parts.join(', ')}.`;
  if (summary.skipped_cards) text += ` ${summary.skipped_cards} archived card(s) left out.`;
  return text;
}

// The largest file the server takes (docs/api.md).
const MAX_BYTES = 512 * 1024 * 1024;

async function chosenFile(form, input) {
  const file = input.files[0];
  const refuse = (message) => {
    showFormError(form, new ApiError(422, { detail: `The file ${message}.`, errors: [{ field: 'file', message }] }));
    input.focus();
    return null;
  };
  if (!file) return refuse('is required');
  if (file.size > MAX_BYTES) return refuse('is larger than 512 MiB, more than MicroTaskHub imports');
  return file;
}

export class Transfer {
  constructor(state, imported) {
    this.state = state;
    this.imported = imported; // reloads the views
    this.board = null; // the Trello board's upload id, once read

    const importForm = $('#import-form');
    importForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.importExport(importForm, event.submitter || importForm.querySelector('[type=submit]'));
    });
    const fileForm = $('#trello-file-form');
    fileForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.readBoard(fileForm, event.submitter || fileForm.querySelector('[type=submit]'));
    });
    const trelloForm = $('#trello-form');
    trelloForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.importBoard(trelloForm, event.submitter || trelloForm.querySelector('[type=submit]'));
    });
  }

  /** Shows the page as the signed-in person may use it. */
  render() {
    const allowed = Boolean(this.state.can?.transfer_workspace);
    $('#transfer-not-allowed').hidden = allowed;
    $('#transfer-panels').hidden = !allowed;
  }

  async importExport(form, button) {
    clearFormErrors(form);
    showNotice($('#import-done'), '');
    const file = await chosenFile(form, $('#import-file'));
    if (file === null) return;
    const show = progress($('#import-progress-row'), $('#import-progress'), $('#import-progress-text'));
    try {
      const summary = await busy(button, 'Importing…', async () => {
        const id = await stage('microtaskhub', file, show.upload);
        show.server(null);
        return run(id, undefined, show.server);
      });
      const done = counted(summary);
      showNotice($('#import-done'), done);
      announce(done);
      form.reset();
      await this.imported();
    } catch (e) {
      showFormError(form, e);
    } finally {
      show.hide();
    }
  }

  async readBoard(form, button) {
    clearFormErrors(form);
    showNotice($('#trello-done'), '');
    $('#trello-form').hidden = true;
    const file = await chosenFile(form, $('#trello-file'));
    if (file === null) return;
    this.forgetBoard();
    const show = progress($('#trello-file-progress-row'), $('#trello-file-progress'), $('#trello-file-progress-text'));
    try {
      const preview = await busy(button, 'Reading…', async () => {
        const id = await stage('trello', file, show.upload);
        this.board = id;
        show.server(null);
        return (await request('POST', `/api/imports/${id}/trello/preview`)).data;
      });
      this.showMapping(preview);
    } catch (e) {
      this.forgetBoard();
      showFormError(form, e);
    } finally {
      show.hide();
    }
  }

  /** The board read before, if any, is not kept on the server. */
  forgetBoard() {
    if (this.board !== null) request('DELETE', `/api/imports/${this.board}`).catch(() => {});
    this.board = null;
  }

  /** The mapping form, filled with the server's suggestions. */
  showMapping(preview) {
    const people = [...this.state.users].filter((u) => u.active)
      .sort((a, b) => a.full_name.localeCompare(b.full_name));
    const lists = preview.lists.filter((l) => l.cards > 0 || l.archived_cards > 0);
    $('#trello-summary').textContent = `“${preview.board}”: ${preview.cards} card(s), `
      + `${preview.archived_cards} archived, ${preview.comments} comment(s), ${preview.members.length} member(s).`;
    $('#trello-lists').replaceChildren(...lists.flatMap((list, i) => {
      const id = `trello-list-${i}`;
      const select = el('select', { id, 'data-list': list.id },
        ...STATUSES.map(([value, label]) => el('option', { value, selected: value === list.status }, label)));
      const note = list.closed ? ' (archived list)' : '';
      return [el('label', { for: id }, `${list.name}${note} · ${list.cards} card(s)`), select];
    }));
    $('#trello-members').replaceChildren(...preview.members.flatMap((member, i) => {
      const id = `trello-member-${i}`;
      const choices = [
        el('option', { value: 'new', selected: !member.person_id }, 'New member (no password yet)'),
        el('option', { value: 'none' }, 'Nobody'),
        ...people.map((p) => el('option', { value: p.id, selected: p.id === member.person_id }, `${p.full_name} (${p.email})`)),
      ];
      const username = member.username ? ` @${member.username}` : '';
      return [el('label', { for: id }, `${member.full_name}${username}`), el('select', { id, 'data-member': member.id }, ...choices)];
    }));
    if (!preview.members.length) $('#trello-members').replaceChildren(el('p', { class: 'subtitle' }, 'No members.'));
    $('#trello-assignee').replaceChildren(...people.map((p) => el('option', { value: p.id, selected: p.id === this.state.me?.id }, p.full_name)));
    const form = $('#trello-form');
    clearFormErrors(form);
    form.hidden = false;
    form.querySelector('select, input')?.focus();
  }

  mapping() {
    const lists = {};
    for (const select of document.querySelectorAll('#trello-lists select')) lists[select.dataset.list] = select.value;
    const members = {};
    for (const select of document.querySelectorAll('#trello-members select')) members[select.dataset.member] = select.value;
    const archived = $('#trello-form').elements.archived.value;
    const mapping = { lists, members, archived };
    const assignee = $('#trello-assignee').value;
    if (assignee) mapping.assignee_id = assignee;
    return mapping;
  }

  async importBoard(form, button) {
    clearFormErrors(form);
    if (this.board === null) return;
    const show = progress($('#trello-progress-row'), $('#trello-progress'), $('#trello-progress-text'));
    try {
      const summary = await busy(button, 'Importing…', () => {
        show.server(null);
        return run(this.board, { mapping: this.mapping() }, show.server);
      });
      const done = counted(summary);
      form.hidden = true;
      this.board = null;
      $('#trello-file-form').reset();
      showNotice($('#trello-done'), done);
      announce(done);
      await this.imported();
    } catch (e) {
      // A run is made once: the board is read again for another try.
      this.board = null;
      form.hidden = true;
      showFormError($('#trello-file-form'), e);
    } finally {
      show.hide();
    }
  }
}
