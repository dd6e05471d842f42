// A board with a realistic amount of work on it: drag and drop between
// columns, the filters, and the screenshots used in the README
// (artifacts/showcase-board.png, artifacts/showcase-board-phone.png).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { signIn, startSignedIn } from './stack.mjs';

const artifacts = new URL('./artifacts/', import.meta.url).pathname;
let app;
let browser;
let page;
let call; // an API call from the signed-in page, as the UI makes it
const people = {};

/** YYYY-MM-DD, `days` from today. */
function day(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return d.toISOString().slice(0, 10);
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ app, browser, page, call } = await startSignedIn());

  for (const [key, full_name, email, role] of [
    ['grace', 'Grace Hopper', 'grace@example.com', 'lead'],
    ['alan', 'Alan Turing', 'alan@example.com', 'member'],
    ['katherine', 'Katherine Johnson', 'katherine@example.com', 'member'],
  ]) {
    people[key] = await call('POST', '/api/users', { full_name, email, role });
  }
  const tasks = [
    ['Plan the Q3 roadmap', 'Collect ideas from the team and rank them.', 'grace', 'todo', day(9)],
    ['Review the onboarding guide', null, 'katherine', 'todo', day(4)],
    ['Fix flaky login test', 'Fails about once in twenty runs on CI.', 'alan', 'todo', day(-2)],
    ['Migrate the task board', 'Move the last columns to the new layout.', 'alan', 'in_progress', day(2)],
    ['Write release notes', null, 'grace', 'in_progress', null],
    ['Set up the staging cluster', 'Three nodes, SpinKube, Postgres.', 'katherine', 'done', day(-5)],
  ];
  for (const [title, description, who, status, due_date] of tasks) {
    await call('POST', '/api/tasks', {
      title, description, status, due_date, assignee_id: people[who].id,
    });
  }
  await page.reload();
  await page.locator('[data-count="todo"]', { hasText: '3' }).waitFor();
});

after(async () => {
  // Leave the database as found: the suite may share one app with other files.
  try {
    for (const person of Object.values(people)) {
      for (const task of await call('GET', `/api/tasks?assignee_id=${person.id}`)) {
        if (task.status !== 'done') await call('PATCH', `/api/tasks/${task.id}`, { status: 'done' });
        await call('DELETE', `/api/tasks/${task.id}`);
      }
      await call('DELETE', `/api/users/${person.id}`);
    }
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

const column = (status) => page.locator(`[data-list="${status}"]`);

test('every column shows its tasks and count; overdue dates stand out', async () => {
  assert.equal(await page.locator('[data-count="in_progress"]').innerText(), '2');
  assert.equal(await page.locator('[data-count="done"]').innerText(), '1');
  const flaky = column('todo').locator('.card', { hasText: 'Fix flaky login test' });
  assert.match(await flaky.innerText(), /Overdue/);
  assert.match(await flaky.innerText(), /Alan Turing/);
  // A finished task is never overdue.
  assert.doesNotMatch(await column('done').innerText(), /Overdue/);
});

test('a card can be dragged to another column', async () => {
  const card = column('todo').locator('.card', { hasText: 'Review the onboarding guide' });
  await card.dragTo(page.locator('.column[data-status="in_progress"]'));
  await column('in_progress').locator('.card', { hasText: 'Review the onboarding guide' }).waitFor();
  assert.equal(await page.locator('[data-count="in_progress"]').innerText(), '3');
  assert.equal(await page.locator('[data-count="todo"]').innerText(), '2');
  const [task] = (await call('GET', '/api/tasks?status=in_progress')).filter((t) => t.title === 'Review the onboarding guide');
  assert.ok(task, 'the move reached the API');
});

test('filters by assignee and by status', async () => {
  await page.getByRole('combobox', { name: 'Assignee' }).selectOption({ label: 'Alan Turing' });
  await page.locator('.board .card').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.board .card').length === 2);
  assert.match(await page.locator('#board-summary').innerText(), /2 tasks match the filters/);
  await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'In progress' });
  await page.waitForFunction(() => document.querySelectorAll('.board .card').length === 1);
  assert.equal(await column('in_progress').locator('.card').count(), 1);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.board .card').length === 6);
});

test('screenshots of the board, wide and phone-width', async () => {
  await page.screenshot({ path: `${artifacts}showcase-board.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${artifacts}showcase-board-phone.png`, fullPage: true });
  // Nothing is wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('a session that ends mid-edit loses nothing: sign in again and save', async () => {
  await page.getByRole('button', { name: 'New task' }).click();
  const dialog = page.getByRole('dialog', { name: 'New task' });
  await dialog.getByLabel('Title').fill('Written while signed out');
  await dialog.getByLabel('Assignee').selectOption({ label: 'Grace Hopper (grace@example.com)' });
  await page.context().clearCookies(); // the session ends
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await page.getByText('Your session has ended').waitFor();
  await signIn(page, undefined, app.password);
  await page.locator('#login-dialog').waitFor({ state: 'hidden' });
  assert.equal(await dialog.getByLabel('Title').inputValue(), 'Written while signed out');
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await column('todo').locator('.card', { hasText: 'Written while signed out' }).waitFor();
});

test('moving with the keyboard keeps focus on the moved card', async () => {
  const move = page.getByRole('button', { name: 'Move “Plan the Q3 roadmap” to In progress' });
  await move.focus();
  await page.keyboard.press('Enter');
  await column('in_progress').locator('.card', { hasText: 'Plan the Q3 roadmap' }).waitFor();
  const focused = await page.evaluate(() => document.activeElement.closest('.card')?.textContent ?? '');
  assert.match(focused, /Plan the Q3 roadmap/);
  await page.keyboard.press('Enter'); // the first action there: back to To do
  await column('todo').locator('.card', { hasText: 'Plan the Q3 roadmap' }).waitFor();
});
