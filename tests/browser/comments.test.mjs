// Comments (issue 21) in two real browsers: the admin and Cal, a member,
// comment on the admin's task (which Cal may not change, and reads). What
// one writes shows in the other's open dialog and on the card's count
// without a reload; text is shown as text (`<b>x</b>` stays as typed), and
// links in it can be clicked. Authors edit their own; the admin deletes
// anyone's. No sleeps: each check waits for the DOM. Its own person (CAL)
// and task.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { emailOf, signedInPerson, startSignedIn } from './stack.mjs';

const CAL = { full_name: 'Cal Commenter', email: emailOf('cal', 'comments') };
const PASSWORD = 'a long member passphrase';
const TITLE = 'Write the comments guide';
const SOON = { timeout: 5000 }; // "within a second", with room for a loaded CI machine
let app;
let browser;
let admin; // the admin's page
let cal; // Cal's page, in a browser context of their own
let call; // API calls as the admin
const ids = {};

before(async () => {
  ({ app, browser, page: admin, call } = await startSignedIn());
  ({ id: ids.cal, page: cal } = await signedInPerson({ app, browser, call }, CAL, PASSWORD));
  ids.task = (await call('POST', '/api/tasks', { title: TITLE, assignee_id: (await call('GET', '/auth/session')).user.id })).id;
  await cal.goto(app.url);
  await cal.locator('.card', { hasText: TITLE }).waitFor();
  await admin.reload();
  await admin.locator('.card', { hasText: TITLE }).waitFor();
});

after(async () => {
  try {
    if (ids.task) {
      await call('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${ids.task}`);
    }
    if (ids.cal) await call('DELETE', `/api/users/${ids.cal}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

/** The card's comment count, as its button shows it. */
const countOn = (page, n) => page.locator(`.card[data-task-id="${ids.task}"] [data-comment-count="${n}"]`);

/** Opens the task's dialog from the card's comments button. */
async function openComments(page, n, dialogName) {
  await page.getByRole('button', { name: `${n} ${n === 1 ? 'comment' : 'comments'} on “${TITLE}”` }).click();
  const dialog = page.getByRole('dialog', { name: dialogName });
  await dialog.waitFor();
  await dialog.locator('#task-comments-list[aria-busy="false"]').waitFor({ state: 'attached' });
  return dialog;
}

const comment = (dialog, text) => dialog.locator('.comment', { hasText: text });

test('Cal comments on a task they cannot change; the admin sees it live, as text, with a working link', async () => {
  const calDialog = await openComments(cal, 0, 'Task');
  // Read-only for Cal (not their task), but open to comments.
  assert.equal(await calDialog.getByLabel('Title').isDisabled(), true);
  assert.equal(await calDialog.getByRole('button', { name: 'Save task' }).isVisible(), false);
  const link = `${app.url}/health`;
  await calDialog.getByLabel('Add a comment').fill(`Is <b>x</b> right? See ${link}.`);
  await calDialog.getByRole('button', { name: 'Add comment' }).click();
  await comment(calDialog, 'Is <b>x</b> right?').waitFor();

  // The admin's open board counts it without a reload.
  await countOn(admin, 1).waitFor(SOON);
  const adminDialog = await openComments(admin, 1, 'Edit task');
  const shown = comment(adminDialog, 'Cal Commenter');
  await shown.waitFor();
  const body = shown.locator('.comment-body');
  assert.equal(await body.textContent(), `Is <b>x</b> right? See ${link}.`);
  assert.equal(await body.locator('b').count(), 0, 'nothing of the text is HTML');
  const anchor = body.getByRole('link', { name: link });
  assert.equal(await anchor.getAttribute('href'), link, 'the sentence\'s full stop is not part of the link');
  assert.equal(await anchor.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await anchor.getAttribute('target'), '_blank');
  const [opened] = await Promise.all([admin.context().waitForEvent('page'), anchor.click()]);
  await opened.waitForURL(link);
  await opened.close();
  // Not the admin's words: delete, but no edit.
  assert.equal(await shown.getByRole('button', { name: /^Edit/ }).count(), 0);
  assert.equal(await shown.getByRole('button', { name: /^Delete Cal Commenter's comment/ }).count(), 1);
});

test('a comment added in one open dialog appears in the other\'s, and an edit too', async () => {
  const adminDialog = admin.getByRole('dialog', { name: 'Edit task' });
  const calDialog = cal.getByRole('dialog', { name: 'Task' });
  await adminDialog.getByLabel('Add a comment').fill('Looks right to me.');
  await adminDialog.getByRole('button', { name: 'Add comment' }).click();
  await comment(calDialog, 'Looks right to me.').waitFor(SOON);
  await countOn(cal, 2).waitFor(SOON);
  // Cal may not edit or delete the admin's comment.
  assert.equal(await comment(calDialog, 'Looks right to me.').getByRole('button').count(), 0);

  // Cal edits their own; the admin's dialog shows the new text, marked edited.
  // By its id: while edited, its text is in a box, not in the item's text.
  const ownId = await comment(calDialog, 'Is <b>x</b> right?').getAttribute('data-comment-id');
  const own = calDialog.locator(`[data-comment-id="${ownId}"]`);
  await own.getByRole('button', { name: /^Edit your comment/ }).click();
  await own.getByLabel('Edit your comment', { exact: true }).fill('Is <i>y</i> right?');
  await own.getByRole('button', { name: 'Save comment' }).click();
  const edited = comment(adminDialog, 'Is <i>y</i> right?');
  await edited.waitFor(SOON);
  await edited.getByText('edited').waitFor();
});

test('the admin deletes Cal\'s comment; it leaves Cal\'s open dialog and the count drops', async () => {
  const adminDialog = admin.getByRole('dialog', { name: 'Edit task' });
  const calDialog = cal.getByRole('dialog', { name: 'Task' });
  await comment(adminDialog, 'Is <i>y</i> right?').getByRole('button', { name: /^Delete Cal Commenter's comment/ }).click();
  await admin.locator('#confirm-ok', { hasText: 'Delete comment' }).click();
  await comment(adminDialog, 'Is <i>y</i> right?').waitFor({ state: 'detached' });
  await comment(calDialog, 'Is <i>y</i> right?').waitFor({ state: 'detached', ...SOON });
  await countOn(cal, 1).waitFor(SOON);
  await comment(calDialog, 'Looks right to me.').waitFor();
});
