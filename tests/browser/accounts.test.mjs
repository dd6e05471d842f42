// Accounts in a real browser: an admin invites a member, who sets a password
// from the link in a browser of their own, works on their own task and not
// on anyone else's, manages their password and API tokens, signs out (a kept
// cookie is worthless), and is signed out at once when deactivated.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { emailOf, signIn, startSignedIn } from './stack.mjs';

const artifacts = new URL('./artifacts/', import.meta.url).pathname;
const BEA = { full_name: 'Bea Builder', email: emailOf('bea', 'accounts') };
const FIRST_PASSWORD = 'correct horse battery';
const SECOND_PASSWORD = 'staple in the paddock';
let app;
let browser;
let admin; // the admin's page
let member; // Bea's page, in a browser context of her own
let call; // API calls as the admin
let link; // Bea's invitation
const ids = {};

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ app, browser, page: admin, call } = await startSignedIn());
  ids.admin = (await call('GET', '/auth/session')).user.id;
});

after(async () => {
  // Leave the database as found: the files share one app, and the showcase's
  // screenshots are best without other files' tasks.
  try {
    for (const id of [ids.beaTask, ids.adminTask].filter(Boolean)) {
      await call('PATCH', `/api/tasks/${id}`, { status: 'done' });
      await call('DELETE', `/api/tasks/${id}`);
    }
    if (ids.bea) await call('DELETE', `/api/users/${ids.bea}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

/** `fetch` from inside `page`, as a script on the page would (cookie, Origin). */
function fetchIn(page, method, path, body) {
  return page.evaluate(async ([method, path, body]) => {
    const response = await fetch(path, {
      method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }, [method, path, body]);
}

const card = (page, title) => page.locator('.card', { hasText: title });
const column = (page, status) => page.locator(`[data-list="${status}"]`);

test('an admin adds a member and sees their access', async () => {
  await admin.getByRole('link', { name: 'Team' }).click();
  await admin.getByRole('button', { name: 'Add person' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Add person' });
  await dialog.getByLabel('Full name').fill(BEA.full_name);
  await dialog.getByLabel('Email').fill(BEA.email);
  await dialog.getByLabel('Role').fill('carpenter');
  assert.equal(await dialog.getByLabel('Access').inputValue(), 'member');
  await dialog.getByRole('button', { name: 'Save person' }).click();
  const row = admin.locator('.person', { hasText: BEA.email });
  await row.waitFor();
  assert.equal(await row.locator('.badge').innerText(), 'Member');
  assert.equal(await admin.locator('.person', { hasText: app.username }).locator('.badge').innerText(), 'Admin');
  ids.bea = await row.getAttribute('data-user-id');

  ids.beaTask = (await call('POST', '/api/tasks', { title: 'Sand the shelves', assignee_id: ids.bea })).id;
  ids.adminTask = (await call('POST', '/api/tasks', { title: 'Audit the books', assignee_id: ids.admin })).id;
});

test('the admin makes an invitation link, shown in a dialog to copy', async () => {
  await admin.getByRole('button', { name: `New password link for ${BEA.full_name}` }).click();
  const dialog = admin.getByRole('dialog', { name: `Password link for ${BEA.full_name}` });
  link = await dialog.getByLabel('Link', { exact: true }).inputValue();
  assert.ok(link.startsWith(`${app.url}/set-password#`), link);
  assert.match(await dialog.innerText(), /works once/);
  await dialog.getByRole('button', { name: 'Copy' }).click();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.waitFor({ state: 'hidden' });
});

test('the member sets a password from the link and lands on the board', async () => {
  member = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await member.goto(link);
  const dialog = member.getByRole('dialog', { name: 'Choose your password' });
  await dialog.waitFor();
  await member.screenshot({ path: `${artifacts}set-password.png` });
  await dialog.getByLabel('New password').fill('too short');
  await dialog.getByLabel('Repeat the password').fill('too shorT');
  await dialog.getByRole('button', { name: 'Set password and sign in' }).click();
  await dialog.getByText('The repeated password does not match.').waitFor();

  // The server's rule, next to the field.
  await dialog.getByLabel('Repeat the password').fill('too short');
  await dialog.getByRole('button', { name: 'Set password and sign in' }).click();
  await dialog.getByText('Password must be at least 12 characters.').waitFor();

  await dialog.getByLabel('New password').fill(FIRST_PASSWORD);
  await dialog.getByLabel('Repeat the password').fill(FIRST_PASSWORD);
  await dialog.getByRole('button', { name: 'Set password and sign in' }).click();
  await member.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  assert.equal(new URL(member.url()).pathname, '/board');
  assert.equal(new URL(member.url()).hash, '', 'the used link left the address bar');
  assert.equal(await member.locator('#account-name').innerText(), BEA.full_name);
});

test('a used link is refused in words, with whom to ask', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(link);
    const dialog = page.getByRole('dialog', { name: 'Choose your password' });
    await dialog.getByLabel('New password').fill('someone else entirely');
    await dialog.getByLabel('Repeat the password').fill('someone else entirely');
    await dialog.getByRole('button', { name: 'Set password and sign in' }).click();
    await dialog.getByText(/This link no longer works.*Ask an admin for a new link/).waitFor();
  } finally {
    await context.close();
  }
});

test('"My tasks" shows only the member\'s own tasks; they move theirs', async () => {
  const mine = member.getByRole('button', { name: 'My tasks' });
  assert.equal(await mine.getAttribute('aria-pressed'), 'false');
  await card(member, 'Audit the books').waitFor();
  await mine.click();
  await card(member, 'Audit the books').waitFor({ state: 'detached' });
  assert.equal(await mine.getAttribute('aria-pressed'), 'true');
  assert.equal(await member.locator('.board .card').count(), 1);

  await member.getByRole('button', { name: 'Move “Sand the shelves” to In progress' }).click();
  await column(member, 'in_progress').locator('.card', { hasText: 'Sand the shelves' }).waitFor();
  assert.match(await card(member, 'Sand the shelves').innerText(), /Created by Administrator · changed by Bea Builder/);
  await mine.click();
  await card(member, 'Audit the books').waitFor();
  assert.equal(await mine.getAttribute('aria-pressed'), 'false');
});

test("the member gets no controls on another's task, and the API refuses them", async () => {
  // Only the comments button: everyone reads and comments on every task.
  const buttons = card(member, 'Audit the books').getByRole('button');
  assert.deepEqual(await buttons.evaluateAll((all) => all.map((b) => b.getAttribute('aria-label'))),
    ['0 comments on “Audit the books”']);
  await member.screenshot({ path: `${artifacts}board-member.png` });
  assert.equal(await card(member, 'Audit the books').getAttribute('draggable'), null);
  assert.ok(await card(member, 'Sand the shelves').getByRole('button', { name: 'Edit “Sand the shelves”' }).isVisible());

  const refused = await fetchIn(member, 'PATCH', `/api/tasks/${ids.adminTask}`, { status: 'done' });
  assert.equal(refused.status, 403);
  assert.match(refused.body.detail, /only the tasks assigned to them/);
  // Nor do they manage the team: it is read-only for them.
  await member.getByRole('link', { name: 'Team' }).click();
  await member.locator('.person', { hasText: BEA.email }).waitFor();
  assert.equal(await member.getByRole('button', { name: 'Add person' }).isVisible(), false);
  assert.equal(await member.locator('#people').getByRole('button').count(), 0);
  assert.equal((await fetchIn(member, 'POST', `/api/users/${ids.admin}/invitation`)).status, 403);
});

test('the member changes their password on the account page', async () => {
  await member.getByRole('link', { name: 'Account' }).click();
  await member.getByRole('heading', { name: 'Your account' }).waitFor();
  const form = member.locator('#password-form');
  await form.getByLabel('Current password').fill('not my password at all');
  await form.getByLabel('New password').fill(SECOND_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByText('This password is not your current password.').waitFor();
  await form.getByLabel('Current password').fill(FIRST_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByText('Your password was changed.').waitFor();
  assert.equal(await form.getByLabel('Current password').inputValue(), '');
});

test('a personal API token needs the password, is shown once with its expiry, works, and stops working when revoked', async () => {
  const form = member.locator('#token-form');
  await form.getByLabel('Name').fill('Shelf inventory script');
  await form.getByLabel('Expires after').selectOption('30');
  await form.getByLabel('Your password').fill('not my password at all');
  await form.getByRole('button', { name: 'Create token' }).click();
  await form.getByText('That is not your password, so no token was created.').waitFor();
  await form.getByLabel('Your password').fill(SECOND_PASSWORD);
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = member.getByLabel('New token');
  await shown.waitFor();
  const token = await shown.inputValue();
  assert.match(token, /^mth_pat_/);
  // In the form (the live region may soon say it too).
  assert.ok(await member.locator('#new-token').getByText('it will not be shown again').isVisible());
  const tokens = member.locator('#tokens');
  await tokens.getByText('Shelf inventory script').waitFor();
  const [listed] = (await fetchIn(member, 'GET', '/auth/tokens')).body;
  const days = (Date.parse(listed.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
  await tokens.getByText(/expires /).waitFor();
  await member.screenshot({ path: `${artifacts}account.png`, fullPage: true });

  const asProgram = () => fetch(`${app.url}/tasks?assignee_id=${ids.bea}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await asProgram()).status, 200);

  // Gone from the page once it is left; the list keeps the name.
  await member.reload();
  await tokens.getByText('Shelf inventory script').waitFor();
  assert.equal(await member.getByLabel('New token').isVisible(), false);
  assert.doesNotMatch(await member.locator('#account-view').innerText(), /mth_pat_/);

  await member.getByRole('button', { name: 'Revoke Shelf inventory script' }).click();
  await member.getByRole('button', { name: 'Revoke token' }).click();
  await tokens.getByText('Shelf inventory script').waitFor({ state: 'detached' });
  assert.equal((await asProgram()).status, 401);
});

test('after signing out, a kept copy of the cookie is refused', async () => {
  const context = member.context();
  const [kept] = (await context.cookies()).filter((c) => c.name === 'mth_session');
  assert.ok(kept, 'signed in with a session cookie');
  await member.getByRole('button', { name: 'Sign out' }).click();
  await member.getByText('You have signed out.').waitFor();

  await context.addCookies([kept]);
  assert.equal((await fetchIn(member, 'GET', '/auth/session')).status, 401);
  await member.goto(`${app.url}/board`);
  await member.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await member.locator('#topbar').isVisible(), false);

  // Signing in starts loadAll() (team, board, then tokens). The next test
  // ends this session: a load still out then would meet the ended session
  // before the action that test makes, so wait for the last one's answer.
  const lastLoad = member.waitForResponse(
    (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/auth/tokens');
  await signIn(member, BEA.email, SECOND_PASSWORD);
  await member.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  assert.equal((await lastLoad).status(), 200);
});

test('a deactivated member\'s open page signs them out by itself', async () => {
  await admin.getByRole('button', { name: `Deactivate ${BEA.full_name}` }).click();
  await admin.getByRole('dialog', { name: `Deactivate ${BEA.full_name}?` }).getByRole('button', { name: 'Deactivate' }).click();
  const row = admin.locator('.person', { hasText: BEA.email });
  await row.getByText('Deactivated').waitFor();
  await row.getByRole('button', { name: `Reactivate ${BEA.full_name}` }).waitFor();
  await admin.screenshot({ path: `${artifacts}team-admin.png` });

  // No click needed: the page's next poll of the change feed (about a
  // second) meets the ended session.
  await member.getByText('Your session has ended').waitFor({ timeout: 5000 });
  await signIn(member, undefined, SECOND_PASSWORD);
  await member.getByText('Incorrect email or password.').waitFor();
});

test('the team page explains why the only admin cannot be made a member', async () => {
  await admin.getByRole('link', { name: 'Team' }).click();
  const me = (await call('GET', '/auth/session')).user;
  await admin.getByRole('button', { name: `Edit ${me.full_name}` }).click();
  const dialog = admin.getByRole('dialog', { name: `Edit ${me.full_name}` });
  await dialog.getByText("This is the team's only active admin").waitFor();
  await dialog.getByLabel('Access').selectOption('member');
  await dialog.getByRole('button', { name: 'Save person' }).click();
  await dialog.getByText(/only active admin, so they cannot be made a member/).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await call('GET', '/auth/session')).user.access, 'admin');
});

test('a throttled sign-in shows the server\'s words', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(app.url);
    // Real guesses against the real throttle: five free failures, then the
    // waits begin (1 s, 2 s, …), so a 429 comes within a few tries however
    // slow the machine.
    let status = 0;
    for (let tries = 0; tries < 12 && status !== 429; tries += 1) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
      await signIn(page, emailOf('guesser', 'accounts'), 'not the password');
      status = (await answer).status();
    }
    assert.equal(status, 429);
    await page.getByText(/Too many failed sign-ins\. Try again in \d+ seconds?\./).waitFor();
  } finally {
    await context.close();
  }
});
