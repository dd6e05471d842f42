// Keyboard shortcuts: `n` opens a new task on the board, `?` lists the
// shortcuts, and on a card the left and right arrows move it to the
// previous or next column (the keyboard's drag and drop). None of them acts
// while a person types in a field, holds Ctrl, Alt or ⌘ (the browser's and
// the screen reader's own keys), or has a dialog open; Escape closes every
// dialog already (the browser's <dialog>).

import { $ } from './ui.js';

/** True when the key belongs to what has the focus, not to the shortcuts. */
function typing(event) {
  return event.isComposing || Boolean(event.target.closest?.('input, textarea, select, [contenteditable]'));
}

/** The card's move button for `key` ("back" or "forward"), if the focus is
 *  on a button of a card the person may move. */
function moveButton(event) {
  const direction = { ArrowLeft: 'back', ArrowRight: 'forward' }[event.key];
  if (!direction || !event.target.closest?.('button')) return null;
  return event.target.closest('.card')?.querySelector(`[data-move="${direction}"]`) ?? null;
}

export function enableShortcuts() {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    if (document.querySelector('dialog[open]') || $('#topbar').hidden) return; // signed out, or busy in a dialog
    const move = moveButton(event);
    if (move) {
      event.preventDefault();
      if (!move.disabled) move.click();
    } else if (event.key === '?') {
      event.preventDefault();
      $('#shortcuts-dialog').showModal();
    } else if (event.key === 'n' && !$('#board-view').hidden) {
      event.preventDefault();
      $('#new-task').click();
    }
  });
}
