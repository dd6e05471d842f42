// Views in the URL (issue 22) in a real browser: every filter of the board
// (search words, assignee, status, a label, due date) is in the address, so
// a reload, Back and Forward, a bookmark opened by another person and a
// bookmark opened before signing in all show the same view; each person
// saves named views of their own and opens one with one click; cards say
// "Overdue" and "Due soon" in words. The filter and view controls are
// worked by keyboard alone. No sleeps: each check waits for the DOM. Its
// own people and tasks.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { boardSettled, emailOf, removeTasks, signIn, signedInPerson, startSignedIn } from './stack.mjs';

const VERA = { full_name: 'Vera Viewer', email: emailOf('vera', 'views') };
const PASSWORD = 'a long member passphrase';
const LATE = 'Views: renew the certificate';
const SOON = 'Views: book the venue';
const LATER = 'Views: plan the offsite';
const DONE_LATE = 'Views: filed the report';
let app;
let browser;
let page; // the admin's
let vera; // Vera's page, in a browser context of her own
let call;
let me;
let label; // a label of this file's, on SOON
const ids = [];

/** The local date `days` from today, YYYY-MM-DD (the browser's, on this machine). */
function day(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const filters = (p) => p.getByRole('search', { name: 'Filter tasks' });
const card = (p, title) => p.locator('#board .card', { hasText: title });
const params = (p) => Object.fromEntries(new URL(p.url()).searchParams);

/** The board's titles once it has settled, sorted. */
async function titles(p) {
  await boardSettled(p);
  return (await p.locator('#board .card-title').allInnerTexts()).filter((t) => t.startsWith('Views:')).sort();
}

/** The filter controls' values, as a person sees them set. */
async function controls(p) {
  return {
    q: await p.locator('#filter-q').inputValue(),
    assignee_id: await p.locator('#filter-assignee').inputValue(),
    status: await p.locator('#filter-status').inputValue(),
    due: await p.locator('#filter-due').inputValue(),
  };
}

before(async () => {
  ({ app, browser, page, call } = await startSignedIn());
  me = (await call('GET', '/auth/session')).user.id;
  ({ page: vera } = await signedInPerson({ app, browser, call }, VERA, PASSWORD));
  label = (await call('POST', '/api/labels', { name: 'views-venue', color: 'teal' })).id;
  for (const [title, due_date, status, label_ids] of [[LATE, day(-3), 'todo', []], [SOON, day(1), 'todo', [label]],
    [LATER, day(30), 'in_progress', []], [DONE_LATE, day(-5), 'done', []]]) {
    ids.push((await call('POST', '/api/tasks', { title, due_date, status, label_ids, assignee_id: me })).id);
  }
  await page.goto(`${app.url}/board`);
  await card(page, LATE).waitFor();
  await boardSettled(page);
});

after(async () => {
  try {
    await removeTasks(call, ids);
    if (label) await call('DELETE', `/api/labels/${label}`);
  } finally {
    await browser?.close();
  }
});

test('cards say overdue and due soon in words', async () => {
  const late = card(page, LATE).locator('.due-badge');
  assert.equal(await late.innerText(), 'Overdue');
  assert.equal(await late.getAttribute('data-due'), 'overdue');
  assert.equal(await card(page, SOON).locator('.due-badge').innerText(), 'Due soon');
  // Far off, or done: no badge.
  assert.equal(await card(page, LATER).locator('.due-badge').count(), 0);
  assert.equal(await card(page, DONE_LATE).locator('.due-badge').count(), 0);
});

test('every filter is in the URL: reload, Back and Forward show the same view', async () => {
  await filters(page).getByLabel('Due', { exact: true }).selectOption('overdue');
  await page.waitForURL((url) => url.searchParams.get('due') === 'overdue');
  assert.deepEqual(await titles(page), [LATE]);
  await filters(page).getByLabel('Status').selectOption('todo');
  await page.waitForURL((url) => url.searchParams.get('status') === 'todo');
  await filters(page).getByLabel('Assignee').selectOption(me);
  await page.waitForURL((url) => url.searchParams.get('assignee_id') === me);
  // "My tasks" is this very view: pressed.
  assert.equal(await page.locator('#my-tasks').getAttribute('aria-pressed'), 'true');
  await filters(page).getByLabel('Search').fill('certificate');
  await page.waitForURL((url) => url.searchParams.get('q') === 'certificate');
  assert.deepEqual(await titles(page), [LATE]);
  const view = { q: 'certificate', assignee_id: me, status: 'todo', due: 'overdue' };
  assert.deepEqual(params(page), view);

  await page.reload();
  await card(page, LATE).waitFor();
  assert.deepEqual(await controls(page), view);
  assert.deepEqual(await titles(page), [LATE]);

  // Back: the search undone, then the assignee; Forward: the assignee again.
  await page.goBack();
  await page.waitForURL((url) => !url.searchParams.has('q'));
  assert.equal(await page.locator('#filter-q').inputValue(), '');
  await page.goBack();
  await page.waitForURL((url) => !url.searchParams.has('assignee_id'));
  assert.deepEqual(await controls(page), { q: '', assignee_id: '', status: 'todo', due: 'overdue' });
  assert.equal(await page.locator('#my-tasks').getAttribute('aria-pressed'), 'false');
  await page.goForward();
  await page.waitForURL((url) => url.searchParams.get('assignee_id') === me);
  assert.equal(await filters(page).getByLabel('Assignee').inputValue(), me);
  assert.deepEqual(await titles(page), [LATE]);
  // The top bar's Board link comes back to the view from another page.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Team' }).click();
  await page.waitForURL((url) => url.pathname === '/team');
  await nav.getByRole('link', { name: 'Board' }).click();
  await page.waitForURL((url) => url.pathname === '/board');
  assert.deepEqual(params(page), { assignee_id: me, status: 'todo', due: 'overdue' });
  assert.deepEqual(await titles(page), [LATE]);

  // Labels too: ticked, in the URL, ticked again after a reload.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((url) => url.search === '');
  await filters(page).getByRole('checkbox', { name: 'views-venue' }).check();
  await page.waitForURL((url) => url.searchParams.get('label') === label);
  assert.deepEqual(await titles(page), [SOON]);
  await page.reload();
  await card(page, SOON).waitFor();
  assert.ok(await filters(page).getByRole('checkbox', { name: 'views-venue' }).isChecked());
  assert.deepEqual(await titles(page), [SOON]);

  // "My tasks" is one click, and a step of its own.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((url) => url.search === '');
  await page.getByRole('button', { name: 'My tasks' }).click();
  await page.waitForURL((url) => url.searchParams.get('assignee_id') === me);
  assert.deepEqual(await titles(page), [DONE_LATE, LATER, SOON, LATE].sort());
  await filters(page).getByLabel('Due', { exact: true }).selectOption('this_week');
  await page.waitForURL((url) => url.searchParams.get('due') === 'this_week');
  const week = await titles(page);
  // Tomorrow is in this week unless today is a Sunday.
  assert.deepEqual(week, new Date().getDay() === 0 ? [] : [SOON]);
});

test('a shared link shows another person the same view, and survives signing in', async () => {
  const shared = `${app.url}/board?status=todo&due=overdue&q=certificate`;
  await vera.goto(shared);
  await card(vera, LATE).waitFor();
  assert.deepEqual(await controls(vera), { q: 'certificate', assignee_id: '', status: 'todo', due: 'overdue' });
  assert.deepEqual(await titles(vera), [LATE]);

  // Someone not signed in yet: the view is there once they are.
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const stranger = await context.newPage();
  try {
    await stranger.goto(shared);
    await signIn(stranger, app.username, app.password);
    await card(stranger, LATE).waitFor();
    assert.deepEqual(params(stranger), { status: 'todo', due: 'overdue', q: 'certificate' });
    assert.equal(await stranger.locator('#filter-due').inputValue(), 'overdue');
    assert.deepEqual(await titles(stranger), [LATE]);
  } finally {
    await context.close();
  }
});

test('people save views of their own, open one with a click, rename and delete them, by keyboard', async () => {
  await page.goto(`${app.url}/board`);
  await card(page, LATE).waitFor();
  await boardSettled(page);
  // Keyboard only: "/" to the search, then Tab to the due filter.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-q');
  for (let step = 0; step < 10 && (await page.evaluate(() => document.activeElement.id)) !== 'filter-due'; step += 1) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-due');
  assert.ok(await page.evaluate(() => document.activeElement.matches(':focus-visible')), 'the focus shows');
  await page.keyboard.press('ArrowDown'); // Overdue
  await page.waitForURL((url) => url.searchParams.get('due') === 'overdue');
  assert.deepEqual(await titles(page), [LATE]);

  // To "Save view…", and save it under a name.
  const saveButton = page.getByRole('button', { name: 'Save view…' });
  for (let step = 0; step < 30 && !(await saveButton.evaluate((b) => b === document.activeElement)); step += 1) {
    await page.keyboard.press('Tab');
  }
  assert.ok(await saveButton.evaluate((b) => b === document.activeElement && b.matches(':focus-visible')));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Save view' });
  await dialog.waitFor();
  await page.keyboard.type('Late ones');
  await page.keyboard.press('Enter');
  const link = page.getByRole('link', { name: 'Late ones' });
  await link.waitFor();
  assert.equal(await link.getAttribute('aria-current'), 'true');
  // Stored as the board's filters, for this person only.
  const [saved] = (await call('GET', '/api/views')).filter((v) => v.name === 'Late ones');
  assert.equal(saved.query, 'due=overdue');
  const theirs = await vera.request.get(`${app.url}/api/views`);
  assert.deepEqual(await theirs.json(), []);

  // The same name again: refused, said in the dialog.
  await saveButton.click();
  await dialog.waitFor();
  await dialog.getByLabel('Name').fill('late ones');
  await dialog.getByRole('button', { name: 'Save view' }).click();
  await dialog.getByText('You already have a view named').waitFor();
  await page.keyboard.press('Escape');

  // Clear the filters, then open the view with one keypress on its link.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((url) => url.search === '');
  assert.equal(await link.getAttribute('aria-current'), null);
  await link.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.searchParams.get('due') === 'overdue');
  assert.equal(await page.locator('#filter-due').inputValue(), 'overdue');
  assert.deepEqual(await titles(page), [LATE]);
  assert.equal(await link.getAttribute('aria-current'), 'true');

  // Rename by keyboard.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Rename view “Late ones”');
  await page.keyboard.press('Enter');
  const rename = page.getByRole('dialog', { name: 'Rename “Late ones”' });
  await rename.waitFor();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Overdue');
  await page.keyboard.press('Enter');
  const renamed = page.getByRole('link', { name: 'Overdue', exact: true });
  await renamed.waitFor();

  // Delete by keyboard (confirmed).
  await page.getByRole('button', { name: 'Delete view “Overdue”' }).focus();
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('dialog', { name: 'Delete this view?' });
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Delete view' }).focus();
  await page.keyboard.press('Enter');
  await renamed.waitFor({ state: 'detached' });
  assert.deepEqual((await call('GET', '/api/views')).filter((v) => v.name === 'Overdue'), []);
  // The board keeps its filters.
  assert.equal(params(page).due, 'overdue');
});
