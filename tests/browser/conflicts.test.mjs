// No edit is silently lost, in two real browsers: the admin and Cy, a
// member, both work on Cy's task. A save based on an old version is refused
// (412) and the dialog shows, field by field, what the other person changed:
// Cy keeps theirs or takes the other's, and saves again. A move from a stale
// board says what happened instead of overwriting. Its own person (CY) and task.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const CY = { full_name: 'Cy Conflict', email: emailOf('cy', 'conflicts') };
const PASSWORD = 'a long member passphrase';
let app;
let browser;
let admin; // the admin's page
let cy; // Cy's page, in a browser context of their own
let call; // API calls as the admin
const ids = {};

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ({ id: ids.cy, page: cy } = await signedInPerson({ app, browser, call }, CY, PASSWORD));
  ids.task = (await call('POST', '/api/tasks', { title: 'Plan the launch', assignee_id: ids.cy })).id;
  await cy.goto(app.url);
  await cy.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  await admin.reload();
  await admin.getByRole('heading', { name: 'Board', exact: true }).waitFor();
});

after(async () => {
  try {
    if (ids.task) {
      await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${ids.task}`);
    }
    if (ids.cy) await call('DELETE', `/api/users/${ids.cy}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

const stored = () => call('GET', `/api/tasks/${ids.task}?include_assignee=false`);

/** Opens the task's dialog on `page`, from its card, as the board shows it. */
async function edit(page, title) {
  await page.locator('.card', { hasText: title }).getByRole('button', { name: `Edit “${title}”` }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit task' });
  await dialog.waitFor();
  return dialog;
}

test('both edit one task: the later save shows the conflict, and Cy keeps theirs', async () => {
  const cyDialog = await edit(cy, 'Plan the launch');
  await cyDialog.getByLabel('Title').fill('Plan the launch party');
  await cyDialog.getByLabel('Description').fill('Cake for everyone.');

  // Meanwhile the admin, in their own browser, saves first.
  const adminDialog = await edit(admin, 'Plan the launch');
  await adminDialog.getByLabel('Title').fill('Plan the launch date');
  await adminDialog.getByLabel('Due date').fill('2031-05-04');
  await adminDialog.getByRole('button', { name: 'Save task' }).click();
  await admin.locator('.card', { hasText: 'Plan the launch date' }).waitFor();

  await cyDialog.getByRole('button', { name: 'Save task' }).click();
  const conflict = cy.getByRole('region', { name: 'Changed while you were editing' });
  await conflict.waitFor();
  assert.match(await conflict.innerText(), /Administrator saved this task while you were editing/);
  // Both changed the title: both values, Cy chooses.
  const title = conflict.locator('li[data-field="title"]');
  assert.match(await title.innerText(), /theirs “Plan the launch date”, yours “Plan the launch party”/);
  // Only the admin changed the due date: taken into Cy's form.
  assert.match(await conflict.innerText(), /Due date: now .*taken; you had not changed it/);
  assert.equal(await cyDialog.getByLabel('Due date').inputValue(), '2031-05-04');
  assert.equal(await cyDialog.getByLabel('Title').inputValue(), 'Plan the launch party');
  assert.equal((await stored()).title, 'Plan the launch date', 'nothing of Cy\'s was written');

  await cyDialog.getByRole('button', { name: 'Save task' }).click();
  await cyDialog.waitFor({ state: 'hidden' });
  const task = await stored();
  assert.deepEqual([task.title, task.description, task.due_date],
    ['Plan the launch party', 'Cake for everyone.', '2031-05-04'], 'both people\'s work is kept');
});

test('a conflict where Cy takes the other person\'s value', async () => {
  const cyDialog = await edit(cy, 'Plan the launch party');
  await cyDialog.getByLabel('Title').fill('Cy renames it');
  await call('PATCH', `/api/tasks/${ids.task}`, { title: 'Admin renames it' });
  await cyDialog.getByRole('button', { name: 'Save task' }).click();
  const conflict = cy.getByRole('region', { name: 'Changed while you were editing' });
  await conflict.locator('li[data-field="title"]').getByRole('button', { name: 'Use theirs' }).click();
  assert.equal(await cyDialog.getByLabel('Title').inputValue(), 'Admin renames it');
  await cyDialog.getByRole('button', { name: 'Save task' }).click();
  await cyDialog.waitFor({ state: 'hidden' });
  const task = await stored();
  assert.deepEqual([task.title, task.description], ['Admin renames it', 'Cake for everyone.']);
});

test('a move from a board that is out of date is not applied, and says why', async () => {
  // Cy's board does not hear of the admin's move: its change feed's stream
  // fails, as on a network that drops it (otherwise the board would show
  // the move within a second, and the race would be the test's). Cut before
  // the page loads, so no stream opened earlier can still bring news.
  await cy.route('**/api/changes*', (route) => route.abort('internetdisconnected'));
  const cut = cy.waitForEvent('requestfailed', (request) => request.url().includes('/api/changes'));
  await cy.reload();
  const card = cy.locator('.card', { hasText: 'Admin renames it' });
  await card.waitFor();
  await cut;
  try {
    // The admin moves it to done; Cy's board still shows it in To do.
    await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
    await card.getByRole('button', { name: 'Move “Admin renames it” to In progress' }).click();
    const moved = cy.locator('[data-list="done"] .card', { hasText: 'Admin renames it' });
    await moved.locator('.card-error', { hasText: 'Not moved: Administrator changed this task meanwhile (it is now in Done).' }).waitFor();
    assert.equal((await stored()).status, 'done');
  } finally {
    await cy.unroute('**/api/changes*');
  }
});
