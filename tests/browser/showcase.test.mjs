// A board with a realistic amount of work on it: drag and drop between
// columns, the filters, and the screenshots used in the README
// (artifacts/showcase-board.png, artifacts/showcase-board-phone.png). Its own
// people and tasks; the board's counts are checked against what was there
// before (`base`), whatever other files left.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { boardSettled, columnCounts, emailOf, signIn, startSignedIn } from './stack.mjs';

const artifacts = new URL('./artifacts/', import.meta.url).pathname;
let app;
let browser;
let page;
let call; // an API call from the signed-in page, as the UI makes it
const people = {};
let base; // the board's column counts before this file's tasks
const SEEDED = { todo: 3, in_progress: 2, done: 1 }; // this file's tasks, by status

/** YYYY-MM-DD, `days` from today. */
function day(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return d.toISOString().slice(0, 10);
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ app, browser, page, call } = await startSignedIn());
  base = await columnCounts(page);

  for (const [key, full_name, role] of [
    ['grace', 'Grace Hopper', 'lead'],
    ['alan', 'Alan Turing', 'member'],
    ['katherine', 'Katherine Johnson', 'member'],
  ]) {
    people[key] = await call('POST', '/api/users', { full_name, email: emailOf(key, 'showcase'), role });
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
});

after(async () => {
  // Leave the database as found: the files share one app, and the showcase's
  // screenshots are best without other files' tasks.
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
/** `base` plus this file's tasks, moved by `changes` (status → how many more or fewer). */
function expected(changes = {}) {
  const counts = {};
  for (const status of Object.keys(SEEDED)) counts[status] = base[status] + SEEDED[status] + (changes[status] ?? 0);
  return counts;
}
const total = (counts) => counts.todo + counts.in_progress + counts.done;

test('every column shows its tasks and count; overdue dates stand out', async () => {
  assert.deepEqual(await columnCounts(page), expected());
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
  assert.deepEqual(await columnCounts(page), expected({ todo: -1, in_progress: +1 }));
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
  await page.waitForFunction((n) => document.querySelectorAll('.board .card').length === n, total(expected()));
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

/** A promise and the functions that settle it. */
function deferred() {
  const d = {};
  d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
  return d;
}

/** Holds back the answer to the page's next `GET /api/tasks`: the server's
 *  real answer, fetched at once (so it is the board as it is then), reaches
 *  the page only on `release()`, which resolves once it has. `answered`
 *  resolves to that answer; it fails if the page asks nothing within
 *  Playwright's timeout. Other requests pass untouched. */
async function holdNextTasksLoad(page) {
  const isTasks = (url) => url.pathname === '/api/tasks';
  const isLoad = (request) => request.method() === 'GET' && isTasks(new URL(request.url()));
  const fetched = deferred();
  const released = deferred();
  const delivered = deferred();
  let taken = false;
  const handler = async (route) => {
    if (taken || !isLoad(route.request())) return route.fallback();
    taken = true;
    try {
      const response = await route.fetch();
      fetched.resolve(response);
      await released.promise;
      await route.fulfill({ response });
      delivered.resolve();
    } catch (e) {
      fetched.reject(e);
      delivered.reject(e);
    }
  };
  await page.route(isTasks, handler);
  const asked = page.waitForRequest(isLoad);
  return {
    answered: Promise.all([asked, fetched.promise]).then(([, response]) => response),
    async release() {
      released.resolve();
      await delivered.promise;
      await page.unroute(isTasks, handler);
    },
  };
}

test('a session that ends mid-edit loses nothing: sign in again and save', async () => {
  const title = 'Written while signed out';
  await page.getByRole('button', { name: 'New task' }).click();
  const dialog = page.getByRole('dialog', { name: 'New task' });
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByLabel('Assignee').selectOption({ label: `Grace Hopper (${people.grace.email})` });
  await page.context().clearCookies(); // the session ends
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await page.getByText('Your session has ended').waitFor();

  // Signing in again reloads the board, and saving reloads it once more.
  // The first load's answer — the board from before the save — is made to
  // arrive last, after the save's load has shown the new task: it must not
  // take the task off the board again.
  const held = await holdNextTasksLoad(page);
  await signIn(page, undefined, app.password);
  await page.locator('#login-dialog').waitFor({ state: 'hidden' });
  const stale = await held.answered;
  assert.equal(stale.status(), 200);
  assert.ok(!(await stale.json()).some((t) => t.title === title), 'the held answer is from before the save');
  assert.equal(await dialog.getByLabel('Title').inputValue(), title);
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await column('todo').locator('.card', { hasText: title }).waitFor();

  await held.release();
  await boardSettled(page); // the late answer has been dealt with
  assert.equal(await column('todo').locator('.card', { hasText: title }).count(), 1,
    'the older answer, arriving last, took the new task off the board');
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
