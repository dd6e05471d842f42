// A team's day in a real browser: sign in, add a person, give them a task,
// move it across the board, see a refused delete explained, finish, clean up.
// Its own person (ADA); the board's counts are checked against what was there
// before (`counted`), whatever other files left.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { apiAs, columnCounts, emailOf, signIn, startApp, startBrowser } from './stack.mjs';

const artifacts = new URL('./artifacts/', import.meta.url).pathname;
const ADA = { full_name: 'Ada Lovelace', email: emailOf('ada', 'board') };
let app;
let browser;
let page;
let counted; // the board's column counts before this file's task

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  app = await startApp();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

const card = (title) => page.locator('.card', { hasText: title });
const column = (status) => page.locator(`[data-list="${status}"]`);

/** Goes to a view, opens its dialog with `button`, fills `fields` (label → value). */
async function openAndFill(view, button, dialogName, fields) {
  await page.getByRole('link', { name: view }).click();
  await page.getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog', { name: dialogName });
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label).fill(value);
  return dialog;
}

test('a wrong password is refused in words', async () => {
  await page.goto(app.url);
  await signIn(page, app.username, 'not-the-password');
  await assert.doesNotReject(page.getByText('Incorrect email or password.').waitFor());
  assert.equal(await page.locator('#topbar').isVisible(), false);
});

test('signing in shows the board, and the session survives a reload', async () => {
  await signIn(page, undefined, app.password); // the email is still there
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  // The first admin, made from ui_username on their first sign-in.
  assert.equal(await page.locator('#account-name').innerText(), 'Administrator');
  await page.reload();
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  assert.equal(await page.locator('#login-dialog').isVisible(), false);
});

test('create a person', async () => {
  const dialog = await openAndFill('Team', 'Add person', 'Add person',
    { 'Full name': ADA.full_name, Email: 'not-an-email' });
  await dialog.getByRole('button', { name: 'Save person' }).click();
  // The API's 422 appears next to the field, and what was typed stays.
  await page.locator('#user-form-email-error', { hasText: 'valid email address' }).waitFor();
  assert.equal(await dialog.getByLabel('Full name').inputValue(), ADA.full_name);
  await dialog.getByLabel('Email').fill(ADA.email);
  await dialog.getByRole('button', { name: 'Save person' }).click();
  await page.locator('.person', { hasText: ADA.email }).waitFor();
});

test('create a task for them and move it to In progress', async () => {
  counted = await columnCounts(page);
  const dialog = await openAndFill('Board', 'New task', 'New task',
    { Title: 'Write the first program', Description: 'For the Analytical Engine.' });
  await dialog.getByLabel('Assignee').selectOption({ label: `${ADA.full_name} (${ADA.email})` });
  await dialog.getByLabel('Due date').fill('2020-01-15');
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await column('todo').locator('.card', { hasText: 'Write the first program' }).waitFor();
  assert.match(await card('Write the first program').innerText(), /Ada Lovelace/);
  assert.match(await card('Write the first program').innerText(), /Overdue/);
  assert.deepEqual(await columnCounts(page), { ...counted, todo: counted.todo + 1 });

  await page.getByRole('button', { name: 'Move “Write the first program” to In progress' }).click();
  await column('in_progress').locator('.card', { hasText: 'Write the first program' }).waitFor();
  assert.deepEqual(await columnCounts(page), { ...counted, in_progress: counted.in_progress + 1 });
  await page.screenshot({ path: `${artifacts}board.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${artifacts}board-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('deleting the person is refused, with the reason shown', async () => {
  await page.getByRole('link', { name: 'Team' }).click();
  const person = page.locator('.person', { hasText: ADA.email });
  await page.getByRole('button', { name: `Delete ${ADA.full_name}` }).click();
  // While the dialog is open the list is drawn again (another change, shown
  // live): the refusal must still reach Ada's row as it now is.
  const id = await person.getAttribute('data-user-id');
  await apiAs(page, app.url)('PATCH', `/api/users/${id}`, { role: 'mathematician' });
  await person.getByText('mathematician').waitFor();
  await page.getByRole('button', { name: 'Delete person' }).click();
  await person.getByText('1 unfinished task (1 in progress)').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Delete ${ADA.full_name}`);
});

test('finish the task and delete it', async () => {
  await page.getByRole('link', { name: 'Board' }).click();
  await page.getByRole('button', { name: 'Move “Write the first program” to Done' }).click();
  await column('done').locator('.card', { hasText: 'Write the first program' }).waitFor();
  await page.getByRole('button', { name: 'Delete “Write the first program”' }).click();
  await page.getByRole('button', { name: 'Delete task' }).click();
  await card('Write the first program').waitFor({ state: 'detached' });
  assert.deepEqual(await columnCounts(page), counted);
});

test('delete the person, then sign out', async () => {
  await page.getByRole('link', { name: 'Team' }).click();
  const people = await page.locator('.person').count();
  await page.getByRole('button', { name: `Delete ${ADA.full_name}` }).click();
  await page.getByRole('button', { name: 'Delete person' }).click();
  await page.locator('.person', { hasText: ADA.email }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('.person').count(), people - 1);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('#topbar').isVisible(), false);
});
