// Export and import (issue 22) in a real browser: the admin opens "Export
// and import", downloads the workspace (JSON) and the tasks (CSV), reads a
// Trello board's export, confirms the mapping the page proposes (lists to
// statuses, a member matched to a person by full name, one new, one
// nobody) and sees the board's cards on the board, with the progress shown
// on the way. Files go up in chunks (PUT /api/imports/{id}/chunks/{n}) and
// are then run (POST /api/imports/{id}/run) while the page asks how far the
// server has got. Importing an export into this workspace, which has data,
// is refused in the form. A member sees no such page. Its own people,
// labels and tasks, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { boardSettled, emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const BOARD = new URL('../fixtures/trello-board.json', import.meta.url).pathname;
const ADA = { full_name: 'Ada Lovelace', email: emailOf('ada', 'import') };
const MEL = { full_name: 'Mel Member', email: emailOf('mel', 'import') };
const PASSWORD = 'a long member passphrase';
const CARDS = ['Fix the login page', 'Write "docs", then =review', 'Pick a domain name'];
let app;
let browser;
let admin;
let call;
const ids = { people: [], labelsBefore: new Set() };

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ids.ada = (await call('POST', '/api/users', ADA)).id;
  ids.people.push(ids.ada);
  for (const label of await call('GET', '/api/labels?limit=500')) ids.labelsBefore.add(label.id);
  await admin.reload();
  await admin.getByRole('heading', { name: 'Board' }).waitFor();
});

after(async () => {
  try {
    for (const task of await call('GET', '/api/tasks?limit=500')) {
      if (!CARDS.includes(task.title)) continue;
      if (task.status !== 'done') await call('PATCH', `/api/tasks/${task.id}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${task.id}`);
    }
    for (const label of await call('GET', '/api/labels?limit=500')) {
      if (!ids.labelsBefore.has(label.id)) await call('DELETE', `/api/labels/${label.id}`);
    }
    for (const person of await call('GET', '/api/users?limit=500')) {
      if (person.email.endsWith('@import.invalid')) ids.people.push(person.id);
    }
    for (const id of ids.people) await call('DELETE', `/api/users/${id}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

test('a member has no export and import page', async () => {
  const { id, page } = await signedInPerson({ app, browser, call }, MEL, PASSWORD);
  ids.people.push(id);
  await page.goto(`${app.url}/transfer`);
  await page.getByRole('heading', { name: 'Export and import' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Export and import' }).count(), 0, 'no link in the menu');
  await page.getByText('Only admins export and import the workspace.').waitFor();
  assert.equal(await page.locator('#transfer-panels').isHidden(), true);
  await page.close();
});

test('the admin downloads the workspace as JSON and the tasks as CSV', async () => {
  await admin.getByRole('link', { name: 'Export and import' }).click();
  await admin.getByRole('heading', { name: 'Export and import' }).waitFor();
  const [json] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByRole('link', { name: 'Download everything (JSON)' }).click(),
  ]);
  const document = JSON.parse(await readFile(await json.path(), 'utf8'));
  assert.equal(document.format, 'microtaskhub-export');
  assert.ok(document.people.some((p) => p.email === ADA.email), 'Ada is in the export');
  assert.ok(document.people.every((p) => !('password' in p)), 'no secrets');
  const [csv] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByRole('link', { name: 'Download tasks (CSV)' }).click(),
  ]);
  const text = await readFile(await csv.path(), 'utf8');
  assert.ok(text.startsWith('\ufeffid,title,description,status,'), text.slice(0, 80));
});

/** The requests the page sends to the staged-upload API while `work` runs:
 *  "METHOD /api/imports/…" with the upload's id as `{id}`. */
async function importRequests(work) {
  const seen = [];
  const note = (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/api/import')) seen.push(`${request.method()} ${path.replace(/[0-9a-f-]{36}/, '{id}')}`);
  };
  admin.on('request', note);
  try {
    await work();
  } finally {
    admin.off('request', note);
  }
  return seen;
}

test('the admin imports a Trello board with the mapping form, and sees its cards on the board', async () => {
  await admin.getByRole('link', { name: 'Export and import' }).click();
  await admin.getByLabel('Trello board (JSON)').setInputFiles(BOARD);
  const form = admin.locator('#trello-form');
  const read = await importRequests(async () => {
    await admin.getByRole('button', { name: 'Read the board' }).click();
    await form.waitFor();
  });
  // Staged in one chunk (the fixture is small), then previewed from there.
  assert.deepEqual(read, [
    'POST /api/imports', 'PUT /api/imports/{id}/chunks/0', 'POST /api/imports/{id}/trello/preview',
  ]);
  assert.match(await admin.locator('#trello-summary').textContent(), /Website relaunch.*3 card\(s\), 2 archived/);
  // The proposed mapping: statuses by the lists' names, Ada by her name.
  assert.equal(await form.getByLabel(/^To Do/).inputValue(), 'todo');
  assert.equal(await form.getByLabel(/^Doing/).inputValue(), 'in_progress');
  assert.equal(await form.getByLabel(/^Done/).inputValue(), 'done');
  assert.equal(await form.getByLabel('Ada Lovelace @adalovelace').inputValue(), ids.ada);
  assert.equal(await form.getByLabel('Grace Hopper @gracehopper').inputValue(), 'new');
  // Linus has left the board: his comment stays, by nobody. By keyboard.
  const linus = form.getByLabel('Linus Former @linusformer');
  await linus.focus();
  await linus.selectOption('none');
  assert.equal(await linus.inputValue(), 'none');
  await form.getByLabel('Leave them out').check();
  // The upload's progress is shown while it goes (too fast here to poll
  // for: the page notes when the bar appears and what it said).
  await admin.evaluate(() => {
    const row = document.querySelector('#trello-progress-row');
    const bar = document.querySelector('#trello-progress');
    window.progressSeen = [];
    new MutationObserver(() => {
      if (!row.hidden) window.progressSeen.push(bar.getAttribute('aria-valuetext'));
    }).observe(row, { attributes: true });
    new MutationObserver(() => window.progressSeen.push(bar.getAttribute('aria-valuetext')))
      .observe(bar, { attributes: true, attributeFilter: ['aria-valuetext'] });
  });
  const done = admin.locator('#trello-done:not([hidden])');
  const ran = await importRequests(async () => {
    await form.getByRole('button', { name: 'Import the board' }).click();
    await done.waitFor();
  });
  assert.equal(ran[0], 'POST /api/imports/{id}/run', `the staged board is run: ${ran}`);
  assert.ok(ran.slice(1).every((r) => r === 'GET /api/imports/{id}'), `then only progress asked: ${ran}`);
  assert.match(await done.textContent(), /Imported 3 tasks, .*2 comments, 1 person\. 2 archived card\(s\) left out\./);
  const seen = await admin.evaluate(() => window.progressSeen);
  assert.ok(seen.includes('Uploaded; importing…'), `the progress bar was shown: ${seen}`);
  assert.equal(await admin.locator('#trello-progress-row').isHidden(), true, 'and hidden at the end');
  assert.equal(await form.isHidden(), true);

  await admin.getByRole('link', { name: 'Board' }).click();
  await boardSettled(admin);
  const column = (status) => admin.locator(`[data-status="${status}"]`);
  await column('todo').locator('.card', { hasText: 'Fix the login page' }).waitFor();
  await column('in_progress').locator('.card', { hasText: 'Write "docs", then =review' }).waitFor();
  await column('done').locator('.card', { hasText: 'Pick a domain name' }).waitFor();
  const login = admin.locator('.card', { hasText: 'Fix the login page' });
  await login.locator('.label-chip', { hasText: 'Bug' }).waitFor();
});

test('an export is refused into a workspace with data, in the form, and nothing changes', async () => {
  const before = (await call('GET', '/api/tasks?limit=500')).length;
  const document = await call('GET', '/api/export');
  await admin.getByRole('link', { name: 'Export and import' }).click();
  await admin.getByLabel('Export file (JSON)').setInputFiles({
    name: 'export.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(document)),
  });
  const error = admin.locator('#import-form-error:not(:empty)');
  const sent = await importRequests(async () => {
    await admin.getByRole('button', { name: 'Import', exact: true }).click();
    await error.waitFor();
  });
  assert.match(await error.textContent(), /only into an empty workspace/);
  // Through chunks, like any file: made, sent, run.
  assert.deepEqual(sent.filter((r) => !r.startsWith('GET')), [
    'POST /api/imports', 'PUT /api/imports/{id}/chunks/0', 'POST /api/imports/{id}/run',
  ]);
  assert.equal(await admin.locator('#import-progress-row').isHidden(), true, 'the progress is hidden at the end');
  assert.equal((await call('GET', '/api/tasks?limit=500')).length, before);
});
