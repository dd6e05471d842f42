// Sign-in with the team's identity provider in a real browser: the sign-in
// page offers "Sign in with Test IdP"; a known person goes through the
// provider's own login page (oidc-provider, started by run.sh) and lands on
// the board, signed in as themselves; signing out offers the provider's
// end-session page; a person the app does not know is sent back to the
// sign-in page, which says why.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { emailOf, startSignedIn } from './stack.mjs';

const artifacts = new URL('./artifacts/', import.meta.url).pathname;
const CARLA = { sub: 'carla-oidc', email: emailOf('carla', 'oidc'), name: 'Carla Codd' };
const DAN = { sub: 'dan-oidc', email: emailOf('dan', 'oidc'), name: 'Dan Unknown' };
let app;
let browser;
let call; // API calls as the first admin
let carlaId;

/** Adds an account to the provider (its test-only control endpoint). */
async function providerAccount(account) {
  const response = await fetch(`${process.env.MTH_IDP_URL}/test/account`, {
    method: 'POST', body: JSON.stringify(account), headers: { 'content-type': 'application/json' },
  });
  assert.equal(response.status, 200);
}

before(async () => {
  assert.ok(process.env.MTH_IDP_URL, 'run.sh starts the identity provider');
  mkdirSync(artifacts, { recursive: true });
  ({ app, browser, call } = await startSignedIn());
  await providerAccount(CARLA);
  await providerAccount(DAN);
  carlaId = (await call('POST', '/api/users', { email: CARLA.email, full_name: 'Carla', role: 'analyst' })).id;
});

after(async () => {
  try {
    if (carlaId) await call('DELETE', `/api/users/${carlaId}`);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

/** A fresh browser context at the sign-in page, through the provider's
 *  login form as `account`; resolves when back at the app. */
async function signInWithProvider(account) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(app.url);
  const dialog = page.getByRole('dialog', { name: 'Sign in' });
  await dialog.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  // The provider's own page (oidc-provider's login form).
  await page.waitForURL((url) => url.origin === new URL(process.env.MTH_IDP_URL).origin);
  await page.locator('input[name="login"]').fill(account.sub);
  await page.locator('input[name="password"]').fill('any password: the test provider checks none');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === new URL(app.url).origin, { timeout: 15000 }).catch(async (e) => {
    // Whatever the provider shows instead (an error page) says why.
    throw new Error(`${e.message}\nstill at ${page.url()}: ${await page.locator('body').innerText()}`);
  });
  return { context, page };
}

test('a known person signs in with the provider and lands on the board as themselves', async () => {
  const { context, page } = await signInWithProvider(CARLA);
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  await assert.doesNotReject(page.locator('#account-name', { hasText: 'Carla' }).waitFor());
  const session = await page.evaluate(async () => (await fetch('/auth/session')).json());
  assert.equal(session.user.email, CARLA.email);
  assert.equal(session.user.access, 'member');
  await page.screenshot({ path: `${artifacts}oidc-signed-in.png` });

  // Signing out ends our session and offers the provider's.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign in' });
  const endSession = dialog.getByRole('link', { name: 'Also sign out of your identity provider' });
  await endSession.waitFor();
  assert.ok((await endSession.getAttribute('href')).startsWith(`${process.env.MTH_IDP_URL}/session/end?`));
  const after = await page.evaluate(async () => (await fetch('/auth/session')).status);
  assert.equal(after, 401);
  await context.close();
});

test('a person the app does not know is sent back to the sign-in page with the reason', async () => {
  const { context, page } = await signInWithProvider(DAN);
  const dialog = page.getByRole('dialog', { name: 'Sign in' });
  await dialog.getByText(`There is no account for ${DAN.email} here`).waitFor();
  assert.ok(!page.url().includes('sign_in_error'), 'the reason is not left in the address bar');
  // The password form is still offered (password sign-in is on here).
  await dialog.getByLabel('Email').waitFor();
  await page.screenshot({ path: `${artifacts}oidc-refused.png` });
  await context.close();
});
