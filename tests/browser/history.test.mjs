// Task history (issue 21): the task dialog's timeline says who changed what,
// from what to what, newest first — here Hal, a member, moves their task in
// a browser of their own, the admin reassigns and renames it, and the admin's
// dialog lists each step with the names from the team. Its own person and task.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const HAL = { full_name: 'Hal History', email: emailOf('hal', 'history') };
const PASSWORD = 'a long member passphrase';
const artifacts = new URL('./artifacts/', import.meta.url).pathname;
let app;
let browser;
let admin; // the admin's page
let hal; // Hal's page, in a browser context of their own
let call; // API calls as the admin
const ids = {};

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ({ id: ids.hal, page: hal } = await signedInPerson({ app, browser, call }, HAL, PASSWORD));
  ids.task = (await call('POST', '/api/tasks', { title: 'Write the changelog', assignee_id: ids.hal })).id;
  ids.admin = (await call('GET', '/auth/session')).user.id;
});

after(async () => {
  try {
    if (ids.task) {
      await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${ids.task}`);
    }
    if (ids.hal) await call('DELETE', `/api/users/${ids.hal}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

test('the task dialog\'s timeline shows who changed what', async () => {
  // Hal moves their task, in their own browser.
  await hal.goto(app.url);
  const card = hal.locator('.card', { hasText: 'Write the changelog' });
  await card.getByRole('button', { name: 'Move “Write the changelog” to In progress' }).click();
  await hal.locator('[data-list="in_progress"] .card', { hasText: 'Write the changelog' }).waitFor();
  // The admin takes it over and renames it.
  await call('PATCH', `/api/tasks/${ids.task}`, { assignee_id: ids.admin, title: 'Write the release notes' });

  await admin.reload();
  await admin.locator('.card', { hasText: 'Write the release notes' })
    .getByRole('button', { name: 'Edit “Write the release notes”' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Edit task' });
  const timeline = dialog.getByRole('region', { name: 'History' });
  const entries = timeline.locator('li');
  await entries.nth(3).waitFor();
  const lines = await entries.locator('.timeline-what').allInnerTexts();
  // One change of two fields is two entries, in the order of the task's
  // fields (title before assignee), so newest first lists the assignee first.
  assert.deepEqual(lines, [
    'Administrator reassigned it from Hal History to Administrator',
    'Administrator changed the title from “Write the changelog” to “Write the release notes”',
    'Hal History moved it from To do to In progress',
    'Administrator created it as “Write the changelog”',
  ]);
  assert.ok(await entries.first().locator('time[datetime]').isVisible());
  mkdirSync(artifacts, { recursive: true });
  await admin.screenshot({ path: `${artifacts}history-timeline.png` });
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // A new task has no history to show.
  await admin.getByRole('button', { name: 'New task' }).click();
  await admin.getByRole('dialog', { name: 'New task' }).waitFor();
  assert.equal(await admin.getByRole('region', { name: 'History' }).count(), 0);
});
