// The app and a browser for a test. The app is the one `run.sh` starts
// (throwaway PostgreSQL, migrations, `runner up` or `spin up`), passed in
// MTH_URL, MTH_USERNAME (the first admin's email) and MTH_PASSWORD: run the
// suite with tests/browser/run.sh. The browser is Debian's Chromium, driven
// by playwright-core.
//
// The test files share that one app and its database, and run in any order
// (or alone): each file makes its own people (emailOf) and tasks, and counts
// on the board only relative to what was there before it (columnCounts).

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

// Every answer of the API the browser and the tests' own calls receive is
// recorded here (one JSON line each), and run-tests.sh checks them all
// against docs/openapi.json afterwards, with the API suites' own checker
// (tests/src/contract.rs, through the check-answers binary).
const ANSWERS = process.env.MTH_ANSWERS;
const API_PATH = /^\/(api|auth|users|tasks|health)(\/|$)/;

/** Records one answer (a Playwright Response or APIResponse) of `method`. */
async function record(method, response) {
  if (!ANSWERS) return;
  const url = new URL(response.url());
  if (!API_PATH.test(url.pathname)) return;
  let body = '';
  try {
    body = (await response.body()).toString('base64');
  } catch {
    return; // a page that navigated away before its answer's body was read
  }
  const line = {
    test: process.argv[1]?.split('/').pop(),
    method, path: url.pathname, status: response.status(), headers: response.headers(), body,
  };
  appendFileSync(ANSWERS, `${JSON.stringify(line)}\n`);
}

/** Has `context` record every answer its pages receive. */
function recordAnswers(context) {
  context.on('response', (response) => record(response.request().method(), response));
  return context;
}

export async function startApp() {
  if (!process.env.MTH_URL) {
    throw new Error('MTH_URL is not set: run the browser tests with tests/browser/run.sh, which starts the app');
  }
  return {
    url: process.env.MTH_URL.replace(/\/$/, ''),
    username: process.env.MTH_USERNAME || 'admin@example.com',
    password: process.env.MTH_PASSWORD,
    async stop() {}, // run.sh stops it
  };
}

/** API calls with `page`'s session, as the UI makes them (same origin):
 *  `call(method, path, data)` resolves to the JSON answer, and fails the
 *  test unless the answer is a success. */
export function apiAs(page, url) {
  return async (method, path, data) => {
    const response = await page.request.fetch(`${url}${path}`, {
      method, data, headers: { origin: new URL(url).origin },
    });
    await record(method, response);
    assert.ok(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`);
    return response.status() === 204 ? null : response.json();
  };
}

/** Fills in and sends the sign-in dialog (open on `page`). */
export async function signIn(page, email, password) {
  const dialog = page.getByRole('dialog', { name: 'Sign in' });
  if (email !== undefined) await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Password', { exact: true }).fill(password);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
}

/** The app, a browser, and a page on which the first admin is signed in and
 *  sees the board; `call` makes API calls as them (see apiAs). */
export async function startSignedIn() {
  const app = await startApp();
  const browser = await startBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(app.url);
  await signIn(page, app.username, app.password);
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  return { app, browser, page, call: apiAs(page, app.url) };
}

/** A new person who accepted their invitation and set `password`, signed in
 *  on a page of a browser context of their own (someone at another computer;
 *  the page has not opened the app yet). `call` makes them, as the admin. */
export async function signedInPerson({ app, browser, call }, person, password) {
  const id = (await call('POST', '/api/users', person)).id;
  const link = await call('POST', `/api/users/${id}/invitation`);
  const token = new URL(link.path, app.url).hash.slice(1);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const set = await page.request.post(`${app.url}/auth/set-password`, {
    data: { token, password }, headers: { origin: app.url },
  });
  assert.ok(set.ok(), await set.text());
  return { id, page };
}

/** Headless Chromium; every page's answers are recorded (see record). */
export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => recordAnswers(await newContext(options));
  browser.newPage = async (options) => {
    const page = await browser.newContext(options).then((context) => context.newPage());
    // As Playwright's own newPage: closing the page closes its context.
    page.on('close', () => page.context().close().catch(() => {}));
    return page;
  };
  return browser;
}

/** The email address of a person that test file `file` makes: tagged with
 *  the file, so that no two files meet each other's people. */
export function emailOf(name, file) {
  return `${name}.${file}@example.com`;
}

/** Waits until the board shows the answer of its newest load and no load is
 *  out (`aria-busy="false"`, see newestOnly in static/js/ui.js), on whichever
 *  view. A load that has not started yet is not waited for: wait first for
 *  the change at hand to show, then for this. */
export async function boardSettled(page) {
  await page.locator('#board[aria-busy="false"]').waitFor({ state: 'attached' });
}

/** The board's column counts, { todo, in_progress, done }, once it has settled. */
export async function columnCounts(page) {
  await boardSettled(page);
  const counts = {};
  for (const status of ['todo', 'in_progress', 'done']) {
    counts[status] = Number(await page.locator(`[data-count="${status}"]`).textContent());
  }
  return counts;
}

/** Removes a test file's own tasks (each moved to done first, as the API
 *  deletes only finished tasks), through `call` (see apiAs). */
export async function removeTasks(call, ids) {
  for (const id of ids) {
    await call('PATCH', `/api/tasks/${id}`, { status: 'done' });
    await call('DELETE', `/api/tasks/${id}`);
  }
}
