// Live updates (issue 21): two people in two browser contexts; what one does
// shows on the other's open board and team page within a few seconds,
// without a reload (the pages follow the change feed's stream, GET
// /api/changes), also after the app restarts.
// No sleeps: each check waits for the DOM to show the change. Its own
// person (LEE) and task.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const LEE = { full_name: 'Lee Live', email: emailOf('lee', 'live') };
const NEWCOMER = { full_name: 'Nia Newcomer', email: emailOf('nia', 'live') };
const PASSWORD = 'a long member passphrase';
const SOON = { timeout: 5000 }; // "within a second", with room for a loaded CI machine
let app;
let browser;
let admin; // the admin's page
let lee; // Lee's page, in a browser context of their own
let call; // API calls as the admin
const ids = {};

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ({ id: ids.lee, page: lee } = await signedInPerson({ app, browser, call }, LEE, PASSWORD));
  ids.task = (await call('POST', '/api/tasks', { title: 'Ship the live board', assignee_id: ids.lee })).id;
  await lee.goto(app.url);
  await lee.locator('.card', { hasText: 'Ship the live board' }).waitFor();
  await admin.reload();
  await admin.locator('.card', { hasText: 'Ship the live board' }).waitFor();
  // Set once: still there at the end means the page never reloaded.
  await admin.evaluate(() => { window.notReloaded = true; });
});

after(async () => {
  try {
    if (ids.task) {
      await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${ids.task}`).catch(() => {});
    }
    if (ids.newcomer) await call('DELETE', `/api/users/${ids.newcomer}`);
    if (ids.lee) await call('DELETE', `/api/users/${ids.lee}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

test('one person\'s move shows on the other\'s open board without a reload', async () => {
  await lee.locator('.card', { hasText: 'Ship the live board' })
    .getByRole('button', { name: 'Move “Ship the live board” to In progress' }).click();
  await admin.locator('[data-list="in_progress"] .card', { hasText: 'Ship the live board' }).waitFor(SOON);

  // An edit and a new task, the other way round.
  await call('PATCH', `/api/tasks/${ids.task}`, { title: 'Ship the live board today' });
  await lee.locator('.card', { hasText: 'Ship the live board today' }).waitFor(SOON);
  assert.equal(await admin.evaluate(() => window.notReloaded), true, 'the admin\'s page was not reloaded');
});

test('a person added by the admin appears on the other\'s team page', async () => {
  await lee.getByRole('link', { name: 'Team' }).click();
  await lee.getByRole('heading', { name: 'Team' }).waitFor();
  ids.newcomer = (await call('POST', '/api/users', NEWCOMER)).id;
  await lee.locator('#team-view').getByText('Nia Newcomer').waitFor(SOON);
});

test('a deleted task leaves the other\'s board', async () => {
  await lee.getByRole('link', { name: 'Board' }).click();
  await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
  await lee.locator('[data-list="done"] .card', { hasText: 'Ship the live board today' }).waitFor(SOON);
  await call('DELETE', `/api/tasks/${ids.task}`);
  await lee.locator('.card', { hasText: 'Ship the live board today' }).waitFor({ state: 'detached', ...SOON });
  ids.task = null;
});

test('after the app restarts, both open boards catch up without a reload', async (t) => {
  // scripts/with-app.sh restarts the app on a signal (same port, same
  // database); its engine's start-up (compiling the components) can take a
  // while on a loaded machine.
  const supervisor = Number(process.env.MTH_APP_SUPERVISOR);
  const restarts = process.env.MTH_APP_RESTARTS;
  if (!supervisor || !restarts) return t.skip('not started by scripts/with-app.sh');
  const before = readFileSync(restarts, 'utf8');
  process.kill(supervisor, 'SIGUSR1');
  const deadline = Date.now() + 180_000;
  while (readFileSync(restarts, 'utf8') === before) {
    assert.ok(Date.now() < deadline, 'the app did not come back within 3 minutes');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Both pages' streams broke with the app; each reconnects from its
  // cursor and shows what is changed now.
  const id = (await call('POST', '/api/tasks', { title: 'Made after the restart', assignee_id: ids.lee })).id;
  await lee.locator('.card', { hasText: 'Made after the restart' }).waitFor(SOON);
  await admin.locator('.card', { hasText: 'Made after the restart' }).waitFor(SOON);
  assert.equal(await admin.evaluate(() => window.notReloaded), true, 'the admin\'s page was not reloaded');
  await call('PATCH', `/api/tasks/${id}`, { status: 'done' });
  await call('DELETE', `/api/tasks/${id}`);
});
