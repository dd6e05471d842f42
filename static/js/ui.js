// Small DOM helpers shared by the views: building elements, form errors,
// busy buttons, announcements for screen readers.

export const $ = (selector, root = document) => root.querySelector(selector);

/** el('button', {class: 'btn', onclick}, 'Text', child...) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export function announce(message) {
  const announcer = $('#announcer');
  announcer.textContent = '';
  // A fresh text node makes screen readers read repeated messages too.
  setTimeout(() => { announcer.textContent = message; }, 50);
}

/** Runs `work` with the button disabled and showing progress. */
export async function busy(button, label, work) {
  const original = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = original;
  }
}

export function clearFormErrors(form) {
  for (const node of form.querySelectorAll('.field-error, .form-error')) node.textContent = '';
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

/** Shows an ApiError next to what caused it: each 422 field under its input,
 *  anything else in the form's own error line. The inputs keep their values. */
export function showFormError(form, error) {
  let placed = 0;
  for (const { field, message } of error.errors || []) {
    const slot = document.getElementById(`${form.id}-${field}-error`);
    if (!slot) continue;
    slot.textContent = sentence(field, message);
    const input = form.elements.namedItem(field);
    if (input) input.setAttribute('aria-invalid', 'true');
    placed += 1;
  }
  // Focus the first field in reading order that needs attention.
  form.querySelector('[aria-invalid="true"]')?.focus();
  if (placed === 0 || placed < (error.errors || []).length) {
    document.getElementById(`${form.id}-error`).textContent = error.message;
  }
}

/** Sends `form` with `work(fields)` on submit: earlier errors cleared, the
 *  submit button busy with `label`; a refusal — the server's, or one `work`
 *  throws as `{ errors, message }` — is shown next to its field (see
 *  showFormError), everything typed kept, and handed to `failed`. */
export function onSubmit(form, label, work, failed = () => {}) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    try {
      await busy(form.querySelector('[type="submit"]'), label, () => work(form.elements));
    } catch (e) {
      // An ended session is explained by the sign-in dialog, over the form.
      if (!e.signedOut) showFormError(form, e);
      failed(e);
    }
  });
}

/** The fields of `form` that are empty, as 422-style errors (or nothing). */
export function requireFields(form, names) {
  const errors = names.filter((name) => !form.elements[name].value)
    .map((field) => ({ field, message: 'is required' }));
  if (errors.length) throw { errors, message: '' };
}

const FIELD_NAMES = {
  full_name: 'Full name', email: 'Email', role: 'Role', title: 'Title', description: 'Description',
  assignee_id: 'Assignee', due_date: 'Due date', status: 'Status', password: 'Password', access: 'Access',
  name: 'Name', body: 'Comment', color: 'Colour', label_ids: 'Labels', new_password: 'New password', current_password: 'This password', repeat: 'The repeated password', file: 'The file',
};

function sentence(field, message) {
  const name = FIELD_NAMES[field] || field;
  return `${name} ${message}.`.replace(/\.\.$/, '.');
}

export function showNotice(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

/** Opens the confirm dialog; resolves true when the user confirms. */
export function confirmAction(title, message, confirmLabel) {
  const dialog = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-message').textContent = message;
  $('#confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
  });
}

/** The dialog that creates or edits one thing (`#<name>-dialog`, its form
 *  `#<name>-form`, its heading `#<name>-dialog-title`). `open(item)` shows it
 *  empty (item null) or filled by `fill(fields, item)`. On submit
 *  `save(fields, item)` sends it and resolves to what to announce; then the
 *  dialog closes and `saved()` reloads. A refusal — the server's, or one
 *  `save` throws as `{ errors, message }` — stays in the dialog, next to its
 *  field, with everything typed. */
export class FormDialog {
  constructor(name, { title, focus, fill, save, saved }) {
    this.dialog = $(`#${name}-dialog`);
    this.form = $(`#${name}-form`);
    this.heading = $(`#${name}-dialog-title`);
    Object.assign(this, { title, focus, fill, save, saved });
    this.item = null;
    onSubmit(this.form, 'Saving…', async (fields) => {
      const message = await this.save(fields, this.item);
      this.dialog.close();
      announce(message);
      await this.saved();
    });
  }

  open(item) {
    this.item = item;
    clearFormErrors(this.form);
    this.form.reset();
    this.heading.textContent = this.title(item);
    this.fill(this.form.elements, item);
    this.dialog.showModal();
    this.form.elements[this.focus].focus();
  }
}

/** `node`, or, once its list has been drawn again (a live change, another
 *  load) and it has left the page, its counterpart in the row drawn in its
 *  place: the row is the nearest ancestor with a `data-…-id` attribute, the
 *  node its element of the same `aria-label` (a button) or classes. */
export function onPage(node) {
  if (node.isConnected) return node;
  const key = (element) => [...element.attributes].find((a) => /^data-[a-z-]+-id$/.test(a.name));
  let row = node.parentElement;
  while (row && !key(row)) row = row.parentElement;
  if (!row) return node;
  const { name, value } = key(row);
  const fresh = document.querySelector(`[${name}="${CSS.escape(value)}"]`);
  const label = node.getAttribute('aria-label');
  const selector = label
    ? `[aria-label="${CSS.escape(label)}"]`
    : [...node.classList].map((c) => `.${CSS.escape(c)}`).join('');
  return (fresh && selector && fresh.querySelector(selector)) || node;
}

/** A delete (or another change to confirm first, with its own `progress`
 *  label) behind the confirm dialog (`confirm`: title, message, button
 *  label). `button` shows progress; a refusal is written in `error` in the
 *  server's words and focus stays on the button; success announces `done`
 *  and calls `reload()`. */
export async function confirmedDelete({ button, error, confirm, send, done, reload, progress = 'Deleting…' }) {
  error.textContent = '';
  if (!(await confirmAction(...confirm))) return;
  try {
    await busy(button, progress, send);
  } catch (e) {
    // The list may have been drawn again while the dialog was open (another
    // person's change, live): the refusal goes to the row now on the page.
    if (!e.signedOut) onPage(error).textContent = e.message;
    onPage(button).focus();
    return;
  }
  announce(done);
  await reload();
}

/** The loads of one list, which may overlap (a sign-in, a save and a filter
 *  change each reload it) and whose answers may come back in any order: only
 *  the newest load's answer is shown, or its failure reported; an older one
 *  that answers later is dropped, so the list never goes back to how it was
 *  before a change. `region` is `aria-busy` while any load is out, and turns
 *  false only once what it shows is final: assistive technology waits for
 *  that, and so do the browser tests.
 *  Returns `load(fetch, show, fail)`: `fetch()` asks the server, `show(answer)`
 *  renders the answer, `fail(error)` reports a failure. */
export function newestOnly(region) {
  let newest = 0; // the number of the newest load started
  let pending = 0;
  return async (fetch, show, fail) => {
    const mine = ++newest;
    pending += 1;
    region.setAttribute('aria-busy', 'true');
    try {
      const answer = await fetch();
      if (mine === newest) show(answer);
    } catch (e) {
      if (mine === newest) fail(e);
    } finally {
      pending -= 1;
      if (pending === 0) region.setAttribute('aria-busy', 'false');
    }
  };
}

/** Today as YYYY-MM-DD in the user's own time zone. */
export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function formatDate(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** An API timestamp (RFC 3339) as a local date and time. */
export function formatTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Every `[data-copy="<input id>"]` button copies that read-only input. */
export function enableCopyButtons() {
  for (const button of document.querySelectorAll('[data-copy]')) {
    button.addEventListener('click', async () => {
      const input = document.getElementById(button.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        announce('Copied.');
      } catch {
        // No clipboard access (an insecure origin, or refused): the text is
        // selected, ready for the keyboard's copy.
        announce('Press Ctrl+C (or ⌘C) to copy the selected text.');
      }
    });
  }
}

/** Up to two initials for an avatar. */
export function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0].toUpperCase()).join('');
}
