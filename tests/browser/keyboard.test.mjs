// The board by keyboard alone (issue 22): `?` lists the shortcuts and
// Escape closes the list, `n` opens a new task, neither acts while typing
// in a field; a task is made, then moved across the columns and back with
// the arrow keys on its card (the keyboard's drag and drop), the focus
// staying on the card and always visible. No sleeps: each check waits for
// the DOM. Its own person and task, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { emailOf, startSignedIn } from './stack.mjs';

const KIM = { full_name: 'Kim Keys', email: emailOf('kim', 'keyboard') };
const TITLE = 'Typed without a mouse';
let app;
let browser;
let page;
let call;
const ids = {};

before(async () => {
  ({ app, browser, page, call } = await startSignedIn());
  ids.kim = (await call('POST', '/api/users', KIM)).id;
  await page.reload(); // the assignee list knows Kim
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
});

after(async () => {
  try {
    if (ids.task) {
      await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${ids.task}`);
    }
    if (ids.kim) await call('DELETE', `/api/users/${ids.kim}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

const focused = () => page.evaluate(() => {
  const node = document.activeElement;
  const style = getComputedStyle(node);
  return {
    label: node.getAttribute('aria-label') || node.textContent.trim(),
    id: node.id,
    task: node.closest('.card')?.dataset.taskId,
    column: node.closest('.column')?.dataset.status,
    outline: `${style.outlineStyle} ${style.outlineWidth}`,
  };
});

test('? lists the shortcuts and Escape closes the list; neither ? nor n acts while typing', async () => {
  await page.locator('#main').focus();
  await page.keyboard.press('?');
  const list = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await list.waitFor();
  assert.match(await list.textContent(), /New task/);
  await page.keyboard.press('Escape');
  await list.waitFor({ state: 'hidden' });

  // Typed into a field, the keys are text.
  await page.getByRole('link', { name: 'Account' }).click();
  const name = page.locator('#token-name');
  await name.fill('');
  await name.pressSequentially('n?');
  assert.equal(await name.inputValue(), 'n?');
  assert.equal(await page.locator('dialog[open]').count(), 0, 'no dialog opened');
  await name.fill('');
  await page.getByRole('link', { name: 'Board' }).click();
});

test('n opens a new task; it is filled and saved from the keyboard', async () => {
  await page.locator('#main').focus();
  await page.keyboard.press('n');
  const dialog = page.getByRole('dialog', { name: 'New task' });
  await dialog.waitFor();
  assert.equal((await focused()).id, 'task-title', 'the focus starts on the title');
  await page.keyboard.type(TITLE);
  await page.keyboard.press('Tab'); // the description
  await page.keyboard.press('Tab'); // the assignee
  assert.equal((await focused()).id, 'task-assignee');
  await dialog.getByLabel('Assignee').selectOption({ label: `${KIM.full_name} (${KIM.email})` });
  await page.locator('#task-title').focus();
  await page.keyboard.press('Enter'); // sends the form
  await dialog.waitFor({ state: 'hidden' });
  const card = page.locator('.card', { hasText: TITLE });
  await card.waitFor();
  ids.task = await card.getAttribute('data-task-id');
});

test('the arrow keys move a focused card between the columns, and the focus stays on it, visible', async () => {
  const card = page.locator(`.card[data-task-id="${ids.task}"]`);
  const inColumn = (status) => page.locator(`.column[data-status="${status}"] .card[data-task-id="${ids.task}"]`);
  // From the top of the page, Tab reaches the card's first button.
  await page.locator('#main').focus();
  for (let step = 0; step < 200 && (await focused()).task !== ids.task; step += 1) await page.keyboard.press('Tab');
  let now = await focused();
  assert.equal(now.task, ids.task, 'Tab reaches the card');
  assert.notEqual(now.outline.split(' ')[0], 'none', `the focus is visible (${now.outline})`);

  await page.keyboard.press('ArrowRight');
  await inColumn('in_progress').waitFor();
  await page.locator('#board[aria-busy="false"]').waitFor({ state: 'attached' });
  await page.waitForFunction((id) => document.activeElement?.closest('.card')?.dataset.taskId === id, ids.task);
  now = await focused();
  assert.equal(now.column, 'in_progress', 'the focus moved with the card');
  assert.notEqual(now.outline.split(' ')[0], 'none', `the focus is visible (${now.outline})`);

  await page.keyboard.press('ArrowRight');
  await inColumn('done').waitFor();
  await page.waitForFunction((id) => document.activeElement?.closest('.column[data-status="done"] .card')?.dataset.taskId === id, ids.task);
  // No column after Done: the key does nothing.
  await page.keyboard.press('ArrowRight');
  await page.locator('#board[aria-busy="false"]').waitFor({ state: 'attached' });
  assert.equal(await inColumn('done').count(), 1);

  await page.keyboard.press('ArrowLeft');
  await inColumn('in_progress').waitFor();
  assert.equal(await card.count(), 1);
});
