// /api/docs: the API reference (Swagger UI, vendored in static/vendor/)
// renders /api/openapi.json under the UI's own Content-Security-Policy,
// without a single violation, and "Try it out" works from the page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, startBrowser, signIn } from './stack.mjs';

let app;
let browser;
let page;
const violations = [];

before(async () => {
  app = await startApp();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // What the browser refused under the CSP, as the page and the console see it.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on('console', (message) => {
    if (/Content Security Policy|CSP violation/i.test(message.text())) violations.push(message.text());
  });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('the reference renders every operation under the UI\'s CSP', async () => {
  const response = await page.goto(`${app.url}/api/docs`);
  assert.equal(response.status(), 200);
  const index = await page.request.get(`${app.url}/`);
  assert.equal(response.headers()['content-security-policy'], index.headers()['content-security-policy']);

  await page.locator('.swagger-ui .info .title').getByText('MicroTaskHub API').waitFor();
  const document = await (await page.request.get(`${app.url}/api/openapi.json`)).json();
  const operations = Object.values(document.paths).flatMap((item) => Object.keys(item));
  await page.locator('.opblock').first().waitFor();
  assert.equal(await page.locator('.opblock').count(), operations.length, 'one block per operation');
  assert.deepEqual(violations, []);
});

test('"Try it out" calls the API from the page, with the session', async () => {
  // Sign in on the app's own page first: the session cookie is the page's.
  await page.goto(app.url);
  await signIn(page, app.username, app.password);
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();

  await page.goto(`${app.url}/api/docs`);
  const block = page.locator('#operations-auth-getSession');
  await block.locator('.opblock-summary-control').click();
  await block.getByRole('button', { name: 'Try it out' }).click();
  const answer = page.waitForResponse((r) => r.url().endsWith('/auth/session'));
  await block.getByRole('button', { name: 'Execute' }).click();
  const session = await (await answer).json();
  assert.equal(session.user.email, app.username);
  assert.deepEqual(violations, []);
});
