// Labels (issue 22) in two real browsers: the admin manages the team's
// labels on the team page and puts them on tasks in the task dialog; Lee, a
// member, reads them but cannot manage them. Cards show labels as chips
// (name and colour); the board filters by one or more labels (all of them,
// or any). A rename or a deletion shows on Lee's open board without a
// reload. No sleeps: each check waits for the DOM. Its own person (LEE),
// labels and tasks, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { boardSettled, emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const LEE = { full_name: 'Lee Labeller', email: emailOf('lee', 'labels') };
const PASSWORD = 'a long member passphrase';
const BUG_TASK = 'Fix the label printer';
const DESIGN_TASK = 'Sketch the label sheet';
const SOON = { timeout: 5000 }; // "within a second", with room for a loaded CI machine
let app;
let browser;
let admin; // the admin's page
let lee; // Lee's page, in a browser context of their own
let call; // API calls as the admin
const ids = { tasks: [], labels: [] };

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ({ id: ids.lee, page: lee } = await signedInPerson({ app, browser, call }, LEE, PASSWORD));
  // The admin's page knows Lee from its own load (not only from the feed).
  await admin.reload();
  await admin.getByRole('heading', { name: 'Board', exact: true }).waitFor();
});

after(async () => {
  try {
    for (const id of ids.tasks) {
      await call('PATCH', `/api/tasks/${id}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${id}`);
    }
    const { labels } = ids;
    for (const label of await call('GET', '/api/labels')) {
      if (labels.includes(label.id)) await call('DELETE', `/api/labels/${label.id}`);
    }
    if (ids.lee) await call('DELETE', `/api/users/${ids.lee}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

const card = (page, title) => page.locator('.card', { hasText: title });
const chipOn = (page, title, name) => card(page, title).locator('.card-labels .label-chip', { hasText: name });

/** The admin adds a label with the team page's dialog, by keyboard where it can. */
async function addLabel(name, colour) {
  await admin.getByRole('button', { name: 'New label' }).click();
  const dialog = admin.getByRole('dialog', { name: 'New label' });
  await dialog.waitFor();
  assert.equal(await admin.evaluate(() => document.activeElement.id), 'label-name', 'the name has the focus');
  await admin.keyboard.type(name);
  await dialog.getByLabel('Colour').selectOption({ label: colour });
  assert.equal(await dialog.locator('#label-preview').textContent(), name);
  await dialog.getByRole('button', { name: 'Save label' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const row = admin.locator('#label-list .label-row', { hasText: name });
  await row.waitFor();
  ids.labels.push(await row.getAttribute('data-label-row'));
}

test('admins add labels on the team page; a name taken is refused in the dialog; members only read them', async () => {
  await admin.getByRole('link', { name: 'Team' }).click();
  await admin.locator(`[data-user-id="${ids.lee}"]`).waitFor();
  await addLabel('bug', 'Red');
  await addLabel('design', 'Purple');
  const chip = admin.locator('#label-list .label-chip', { hasText: 'bug' });
  assert.equal(await chip.getAttribute('data-color'), 'red');
  // The chip's text keeps its contrast: dark text on a light tint. Found
  // and read in one step of the page: the list is drawn again when the
  // feed reports the new labels, and a chip taken out of the page has no
  // computed style.
  const colours = await admin.evaluate(() => {
    const node = [...document.querySelectorAll('#label-list .label-chip')]
      .find((n) => n.textContent.trim() === 'bug');
    const style = getComputedStyle(node);
    return [style.color, style.backgroundColor];
  });
  assert.deepEqual(colours, ['rgb(153, 27, 27)', 'rgb(254, 226, 226)']);

  // A duplicate (whatever its case) stays in the dialog with the server's reason.
  await admin.getByRole('button', { name: 'New label' }).click();
  const dialog = admin.getByRole('dialog', { name: 'New label' });
  await dialog.getByLabel('Name').fill('BUG');
  await dialog.getByRole('button', { name: 'Save label' }).click();
  await dialog.locator('#label-form-error', { hasText: 'already a label named' }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Lee sees the labels, without the buttons to manage them.
  await lee.goto(`${app.url}/team`);
  await lee.locator('#label-list .label-chip', { hasText: 'design' }).waitFor();
  assert.equal(await lee.getByRole('button', { name: 'New label' }).isVisible(), false);
  assert.equal(await lee.getByRole('button', { name: /^Edit label/ }).count(), 0);
  await lee.getByRole('link', { name: 'Board' }).click();
});

test('the task dialog puts labels on a task; cards show them, on other open boards too', async () => {
  await admin.getByRole('link', { name: 'Board' }).click();
  await admin.getByRole('button', { name: 'New task' }).click();
  const dialog = admin.getByRole('dialog', { name: 'New task' });
  await dialog.getByLabel('Title').fill(BUG_TASK);
  await dialog.getByLabel('Assignee').selectOption({ label: `${LEE.full_name} (${LEE.email})` });
  const labels = dialog.getByRole('group', { name: /Labels/ });
  await labels.getByRole('checkbox', { name: 'bug' }).check();
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await chipOn(admin, BUG_TASK, 'bug').waitFor();
  ids.tasks.push(await card(admin, BUG_TASK).getAttribute('data-task-id'));

  const design = ids.labels[1];
  ids.tasks.push((await call('POST', '/api/tasks', { title: DESIGN_TASK, assignee_id: ids.lee, label_ids: [design, ids.labels[0]] })).id);
  // Lee's open board shows both, with their labels, without a reload.
  await chipOn(lee, DESIGN_TASK, 'design').waitFor(SOON);
  await chipOn(lee, BUG_TASK, 'bug').waitFor(SOON);

  // Editing a task shows its labels ticked; unticking one takes it off.
  await card(admin, DESIGN_TASK).getByRole('button', { name: `Edit “${DESIGN_TASK}”` }).click();
  const edit = admin.getByRole('dialog', { name: 'Edit task' });
  const bugBox = edit.getByRole('group', { name: /Labels/ }).getByRole('checkbox', { name: 'bug' });
  assert.equal(await bugBox.isChecked(), true);
  await bugBox.uncheck();
  await edit.getByRole('button', { name: 'Save task' }).click();
  await chipOn(admin, DESIGN_TASK, 'bug').waitFor({ state: 'detached' });
  await chipOn(lee, DESIGN_TASK, 'bug').waitFor({ state: 'detached', ...SOON });
  await chipOn(lee, DESIGN_TASK, 'design').waitFor();
});

test('the board filters by one or more labels: all of them, or any', async () => {
  const filter = admin.getByRole('group', { name: 'Labels' }).first();
  const shown = async () => {
    await boardSettled(admin);
    return (await admin.locator('.card .card-title').allTextContents()).filter((t) => t === BUG_TASK || t === DESIGN_TASK).sort();
  };
  await filter.getByRole('checkbox', { name: 'bug' }).check();
  await card(admin, DESIGN_TASK).waitFor({ state: 'detached' });
  assert.deepEqual(await shown(), [BUG_TASK]);
  await filter.getByRole('checkbox', { name: 'design' }).check();
  await card(admin, BUG_TASK).waitFor({ state: 'detached' });
  assert.deepEqual(await shown(), []);
  await admin.getByLabel('Tasks with').selectOption('any');
  await card(admin, DESIGN_TASK).waitFor();
  assert.deepEqual(await shown(), [BUG_TASK, DESIGN_TASK].sort());
  await admin.getByRole('button', { name: 'Clear filters' }).click();
  await boardSettled(admin);
  assert.equal(await filter.getByRole('checkbox', { checked: true }).count(), 0);
});

test('a rename and a deletion on the team page show on other open boards without a reload', async () => {
  await admin.getByRole('link', { name: 'Team' }).click();
  await admin.getByRole('button', { name: 'Edit label bug' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Edit label “bug”' });
  await dialog.getByLabel('Name').fill('defect');
  await dialog.getByLabel('Colour').selectOption({ label: 'Orange' });
  await dialog.getByRole('button', { name: 'Save label' }).click();
  await chipOn(lee, BUG_TASK, 'defect').waitFor(SOON);
  assert.equal(await chipOn(lee, BUG_TASK, 'defect').getAttribute('data-color'), 'orange');

  await admin.getByRole('button', { name: 'Delete label design' }).click();
  await admin.locator('#confirm-ok', { hasText: 'Delete label' }).click();
  await admin.locator('#label-list .label-row', { hasText: 'design' }).waitFor({ state: 'detached' });
  await chipOn(lee, DESIGN_TASK, 'design').waitFor({ state: 'detached', ...SOON });
  // Lee's filter no longer offers it.
  await lee.getByRole('group', { name: 'Labels' }).getByRole('checkbox', { name: 'design' }).waitFor({ state: 'detached' });
});

test('a save refused because the labels changed meanwhile takes theirs when this dialog left them alone', async () => {
  await admin.getByRole('link', { name: 'Board' }).click();
  await card(admin, BUG_TASK).getByRole('button', { name: `Edit “${BUG_TASK}”` }).click();
  const dialog = admin.getByRole('dialog', { name: 'Edit task' });
  const defect = dialog.getByRole('group', { name: /Labels/ }).getByRole('checkbox', { name: 'defect' });
  assert.equal(await defect.isChecked(), true);
  // Someone else takes the label off meanwhile.
  await call('PATCH', `/api/tasks/${ids.tasks[0]}`, { label_ids: [] });
  await dialog.getByLabel('Title').fill(`${BUG_TASK}, again`);
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await dialog.locator('#task-conflict-fields', { hasText: 'Labels: now (none) (taken; you had not changed them).' }).waitFor();
  assert.equal(await defect.isChecked(), false);
  await dialog.getByRole('button', { name: 'Save task' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await card(admin, `${BUG_TASK}, again`).waitFor();
  assert.equal(await chipOn(admin, `${BUG_TASK}, again`, 'defect').count(), 0, 'their change stands');
});
