// Dark mode and the accessibility scan (issue 22). The theme follows the
// system's setting (the browser context's prefers-color-scheme) until the
// person chooses one in the top bar, and that choice outlives a reload.
// Then axe-core (from npm, injected into the page) scans every page and
// dialog — sign-in, set-password, the board with labelled, overdue, due
// soon and commented cards and a saved view, the save-view dialog with a
// refusal, the task dialog with its history and comments, a refused
// save's conflict, the list of keyboard shortcuts, the delete confirmation,
// the team page with its person and label dialogs and a password link, the
// account page, export and import with a Trello board's mapping, the API
// reference — once in the light theme and once in the dark, and fails on any `serious` or `critical` violation, naming the rule,
// the elements and what is wrong with them. Its own person, labels and
// tasks, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { apiAs, emailOf, signIn, startApp, startBrowser } from './stack.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FAILING = new Set(['serious', 'critical']);
const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;
const TRELLO_BOARD = new URL('../fixtures/trello-board.json', import.meta.url).pathname;
const ADA = { full_name: 'Ada Accessible', email: emailOf('ada', 'a11y') };
const TITLES = { todo: 'Caption the a11y photos', doing: 'Check a11y contrast', done: 'Write the a11y statement' };
let app;
let browser;
let call; // API calls as the admin, from a page of their own kept open
const ids = { tasks: [], labels: [] };

before(async () => {
  app = await startApp();
  browser = await startBrowser();
  const page = await signedInPage('light');
  call = apiAs(page, app.url);
  ids.ada = (await call('POST', '/api/users', ADA)).id;
  for (const [name, color] of [['a11y bug', 'red'], ['a11y docs', 'teal']]) {
    ids.labels.push((await call('POST', '/api/labels', { name, color })).id);
  }
  const task = async (title, extra) => {
    const { id } = await call('POST', '/api/tasks', { title, assignee_id: ids.ada, ...extra });
    ids.tasks.push(id);
    return id;
  };
  const todo = await task(TITLES.todo, {
    description: 'Every photo on the site gets a caption.', due_date: '2020-01-15', label_ids: ids.labels,
  });
  await call('POST', `/api/tasks/${todo}/comments`, { body: 'See https://www.w3.org/WAI/ for the rules.' });
  // Due tomorrow (the browser's date): a "Due soon" badge.
  const tomorrow = new Date(Date.now() + 86400000);
  const due = [tomorrow.getFullYear(), tomorrow.getMonth() + 1, tomorrow.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
  await task(TITLES.doing, { status: 'in_progress', label_ids: [ids.labels[1]], due_date: due });
  // A saved view of the admin's: its link, Rename and Delete under the filters.
  ids.view = (await call('POST', '/api/views', { name: 'a11y overdue', query: 'due=overdue' })).id;
  await task(TITLES.done, { status: 'done', due_date: '2099-12-31' });
});

after(async () => {
  try {
    for (const id of ids.tasks) {
      await call('PATCH', `/api/tasks/${id}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${id}`);
    }
    for (const id of ids.labels) await call('DELETE', `/api/labels/${id}`);
    if (ids.view) await call('DELETE', `/api/views/${ids.view}`);
    if (ids.ada) await call('DELETE', `/api/users/${ids.ada}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

/** A page in a browser whose system setting is `scheme` ('light' or
 *  'dark'). The UI's CSP allows no inline script, and Playwright injects
 *  axe as one: this test's pages alone bypass the CSP (api-docs.test.mjs
 *  checks the page under it). */
function newPage(scheme) {
  return browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: scheme, bypassCSP: true });
}

/** A page (see newPage) on which the first admin is signed in, on the board. */
async function signedInPage(scheme) {
  const page = await newPage(scheme);
  await page.goto(app.url);
  await signIn(page, app.username, app.password);
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  return page;
}

/** Runs axe on `page` as it is now; returns its serious and critical
 *  violations as readable lines, each tagged with `where` (empty: none). */
async function scan(page, where, rules = {}) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const { violations } = await page.evaluate(
    (options) => window.axe.run(document, options),
    { resultTypes: ['violations'], rules },
  );
  return violations.filter((v) => FAILING.has(v.impact)).map((v) => [
    `${where}: ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})`,
    ...v.nodes.slice(0, 6).map((node) => `    ${node.target.join(' ')}\n      ${node.failureSummary.replaceAll('\n', '\n      ')}`),
    ...(v.nodes.length > 6 ? [`    …and ${v.nodes.length - 6} more`] : []),
  ].join('\n'));
}

/** Scans every page and dialog of the app in a browser set to `scheme`,
 *  and fails with every violation found (not just the first page's). */
async function scanEverything(scheme) {
  const found = [];
  const check = async (page, where, rules) => found.push(...await scan(page, `${scheme} ${where}`, rules));
  const page = await newPage(scheme);
  await page.goto(app.url);
  const login = page.getByRole('dialog', { name: 'Sign in' });
  await login.waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), scheme, 'the system theme is followed');
  await check(page, 'sign-in');

  await page.goto(`${app.url}/set-password#not-a-real-token`);
  await page.getByRole('dialog', { name: 'Choose your password' }).waitFor();
  await check(page, 'set-password');
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await page.locator('#set-password-form-password-error:not(:empty)').waitFor();
  await check(page, 'set-password with errors');

  await page.goto(app.url);
  await signIn(page, app.username, app.password);
  const card = (title) => page.locator('.card', { hasText: title });
  await card(TITLES.todo).locator('.label-chip', { hasText: 'a11y bug' }).waitFor();
  await card(TITLES.done).waitFor();
  await check(page, 'board');
  await page.screenshot({ path: `${ARTIFACTS}board-${scheme}.png` });

  await card(TITLES.todo).getByRole('button', { name: /comment/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit task' });
  await dialog.locator('#task-comments-list li').first().waitFor();
  await dialog.locator('#task-timeline-entries li').first().waitFor();
  await check(page, 'task dialog (history, comments)');
  // Someone else saves meanwhile: the refused save shows both versions.
  await call('PATCH', `/api/tasks/${ids.tasks[0]}`, { title: `${TITLES.todo} (theirs, ${scheme})` });
  await dialog.getByLabel('Title').fill(`${TITLES.todo} (mine)`);
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await dialog.locator('#task-conflict:not([hidden])').waitFor();
  await check(page, 'task dialog (conflict)');
  await page.screenshot({ path: `${ARTIFACTS}conflict-${scheme}.png` });
  await dialog.getByRole('button', { name: 'Use theirs' }).click();
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await dialog.waitFor({ state: 'hidden' });

  // The saved views: a name taken, said in the Save view dialog.
  await page.getByRole('link', { name: 'a11y overdue' }).waitFor();
  await page.getByRole('button', { name: 'Save view…' }).click();
  const saveView = page.getByRole('dialog', { name: 'Save view' });
  await saveView.getByLabel('Name').fill('a11y overdue');
  await saveView.getByRole('button', { name: 'Save view' }).click();
  await saveView.locator('.form-error:not(:empty)').waitFor();
  await check(page, 'save view with errors');
  await saveView.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'New task' }).click();
  const newTask = page.getByRole('dialog', { name: 'New task' });
  await newTask.getByRole('button', { name: 'Save task' }).click();
  await newTask.locator('.field-error:not(:empty)').first().waitFor();
  await check(page, 'new task with errors');
  await newTask.getByRole('button', { name: 'Cancel' }).click();

  await page.locator('#main').focus();
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await check(page, 'keyboard shortcuts');
  await page.keyboard.press('Escape');

  await card(TITLES.done).getByRole('button', { name: `Delete “${TITLES.done}”` }).click();
  await page.locator('#confirm-dialog[open]').waitFor();
  await check(page, 'delete confirmation');
  await page.locator('#confirm-dialog').getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('link', { name: 'Team' }).click();
  await page.locator(`[data-user-id="${ids.ada}"]`).waitFor();
  await page.locator('#label-list .label-chip', { hasText: 'a11y docs' }).waitFor();
  await check(page, 'team');
  await page.screenshot({ path: `${ARTIFACTS}team-${scheme}.png`, fullPage: true });
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByRole('dialog', { name: 'Add person' }).waitFor();
  await check(page, 'person dialog');
  await page.getByRole('dialog', { name: 'Add person' }).getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'New label' }).click();
  await page.getByRole('dialog', { name: 'New label' }).waitFor();
  await check(page, 'label dialog');
  await page.getByRole('dialog', { name: 'New label' }).getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: `New password link for ${ADA.full_name}` }).click();
  await page.locator('#link-dialog[open]').waitFor();
  await check(page, 'password link');
  await page.locator('#link-dialog').getByRole('button', { name: 'Done' }).click();

  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.locator('#tokens[aria-busy="false"]').waitFor({ state: 'attached' });
  await check(page, 'account');

  await page.getByRole('link', { name: 'Export and import' }).click();
  await page.getByRole('heading', { name: 'Export and import' }).waitFor();
  await check(page, 'export and import');
  await page.getByLabel('Trello board (JSON)').setInputFiles(TRELLO_BOARD);
  await page.getByRole('button', { name: 'Read the board' }).click();
  await page.locator('#trello-form:not([hidden])').waitFor();
  await check(page, 'Trello mapping');
  await page.screenshot({ path: `${ARTIFACTS}transfer-${scheme}.png`, fullPage: true });

  await page.goto(`${app.url}/api/docs`);
  await page.locator('.swagger-ui .opblock').first().waitFor();
  await page.locator('select#servers[aria-label="Server"]').waitFor();
  // swagger-ui (vendored) makes each operation's summary a <button> that
  // holds other buttons (copy the path, the lock): its own markup, which
  // only a fork of the bundle could change. Every other rule holds there.
  await check(page, 'API reference', { 'nested-interactive': { enabled: false } });
  await page.close();
  assert.ok(found.length === 0, `axe found serious or critical violations:\n${found.join('\n')}`);
}

test('the theme follows the system until one is chosen in the top bar, and the choice is kept', async () => {
  const page = await signedInPage('dark');
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const choice = page.getByLabel('Colour theme');
  assert.equal(await theme(), 'dark');
  assert.equal(await choice.inputValue(), 'system');
  const dark = await background();
  // The system turns light while the page is open: the page follows.
  await page.emulateMedia({ colorScheme: 'light' });
  await page.locator('html[data-theme="light"]').waitFor({ state: 'attached' });
  assert.notEqual(await background(), dark, 'the light theme has another background');
  // Chosen: dark, whatever the system says, after a reload too.
  await choice.selectOption({ label: 'Dark theme' });
  assert.equal(await theme(), 'dark');
  assert.equal(await background(), dark);
  await page.reload();
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  assert.equal(await theme(), 'dark');
  assert.equal(await choice.inputValue(), 'dark');
  // Back to the system's setting (light here).
  await choice.selectOption({ label: 'System theme' });
  assert.equal(await theme(), 'light');
  await page.close();
});

test('axe finds no serious or critical violation on any page, in the light theme', async () => {
  await scanEverything('light');
});

test('axe finds no serious or critical violation on any page, in the dark theme', async () => {
  await scanEverything('dark');
});
