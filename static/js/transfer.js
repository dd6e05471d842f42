// Export and import (admins): downloads by links; an export or a Trello
// board uploaded with its progress shown; a Trello board's lists and
// members mapped in a form the server's preview fills (docs/ui.md).

import { ApiError } from './api.js';
import { $, announce, busy, clearFormErrors, el, showFormError, showNotice } from './ui.js';

const STATUSES = [['todo', 'To do'], ['in_progress', 'In progress'], ['done', 'Done']];

/** POSTs `text` (JSON) to `path`, reporting the upload's progress (0–100,
 *  then null while the server works); resolves with the answer's JSON. */
function upload(path, text, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    };
    xhr.upload.onload = () => onProgress(null);
    xhr.onerror = () => reject(new ApiError(0, { detail: 'Cannot reach MicroTaskHub. Check your connection and try again.' }));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.send(text);
  });
}

/** A progress bar's row: shown while uploading; no value (indeterminate)
 *  once the file is sent and the server is writing it. */
function progress(row, bar) {
  return (percent) => {
    row.hidden = false;
    if (percent === null) {
      bar.removeAttribute('value');
      bar.setAttribute('aria-valuetext', 'Uploaded; importing…');
    } else {
      bar.value = percent;
      bar.setAttribute('aria-valuetext', `${percent}% uploaded`);
    }
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

// The server's limit for an import's body (docs/api.md).
const MAX_BYTES = 32 * 1024 * 1024;

async function chosenFile(form, input) {
  const file = input.files[0];
  const refuse = (message) => {
    showFormError(form, new ApiError(422, { detail: `The file ${message}.`, errors: [{ field: 'file', message }] }));
    input.focus();
    return null;
  };
  if (!file) return refuse('is required');
  if (file.size > MAX_BYTES) return refuse('is larger than 32 MiB, more than MicroTaskHub imports at once');
  return file.text();
}

export class Transfer {
  constructor(state, imported) {
    this.state = state;
    this.imported = imported; // reloads the views
    this.board = null; // the Trello file's text, once read

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
    const text = await chosenFile(form, $('#import-file'));
    if (text === null) return;
    const show = progress($('#import-progress-row'), $('#import-progress'));
    try {
      const summary = await busy(button, 'Importing…', () => upload('/api/import', text, show));
      const done = counted(summary);
      showNotice($('#import-done'), done);
      announce(done);
      form.reset();
      await this.imported();
    } catch (e) {
      showFormError(form, e);
    } finally {
      $('#import-progress-row').hidden = true;
    }
  }

  async readBoard(form, button) {
    clearFormErrors(form);
    showNotice($('#trello-done'), '');
    $('#trello-form').hidden = true;
    const text = await chosenFile(form, $('#trello-file'));
    if (text === null) return;
    try {
      const preview = await busy(button, 'Reading…', () => upload('/api/import/trello/preview', text, () => {}));
      this.board = text;
      this.showMapping(preview);
    } catch (e) {
      showFormError(form, e);
    }
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
    // The board's text goes as it is (it may be large): not parsed and
    // serialised again here.
    const body = `{"mapping":${JSON.stringify(this.mapping())},"board":${this.board}}`;
    const show = progress($('#trello-progress-row'), $('#trello-progress'));
    try {
      const summary = await busy(button, 'Importing…', () => upload('/api/import/trello', body, show));
      const done = counted(summary);
      form.hidden = true;
      this.board = null;
      $('#trello-file-form').reset();
      showNotice($('#trello-done'), done);
      announce(done);
      await this.imported();
    } catch (e) {
      showFormError(form, e);
    } finally {
      $('#trello-progress-row').hidden = true;
    }
  }
}
