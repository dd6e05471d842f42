// Search (issue 22) in a real browser: one box on the board finds tasks by
// the words of their title, description and comments, forgiving a typo;
// the matching words are marked (<mark>, built as DOM nodes: markup in a
// task's text stays text); "/" comes to the box unless one types in a
// field, Escape clears it and the whole board is back. No sleeps: each
// check waits for the DOM. Its own tasks, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { boardSettled, removeTasks, startSignedIn } from './stack.mjs';

const DESIGN = 'Design the onboarding flow';
const COMMENTED = 'Quarterly numbers';
const MARKUP = 'Escape <b>bold</b> tags';
let app;
let browser;
let page;
let call;
const ids = [];

before(async () => {
  ({ app, browser, page, call } = await startSignedIn());
  const me = (await call('GET', '/auth/session')).user.id;
  for (const [title, description] of [[DESIGN, 'Sketches first'], [COMMENTED, null], [MARKUP, null]]) {
    ids.push((await call('POST', '/api/tasks', { title, description, assignee_id: me })).id);
  }
  await call('POST', `/api/tasks/${ids[1]}/comments`, { body: 'The onboarding numbers look odd' });
  await page.reload();
  await page.getByRole('heading', { name: 'Board', exact: true }).waitFor();
  await boardSettled(page);
});

after(async () => {
  try {
    await removeTasks(call, ids);
  } finally {
    await browser?.close();
    await app?.stop();
  }
});

const box = () => page.getByRole('searchbox', { name: 'Search' });
const cards = () => page.locator('.card');
const card = (title) => page.locator('.card', { hasText: title });

/** The board's card titles once the summary says a search for `words` shows. */
async function resultsFor(words) {
  await page.locator('#board-summary', { hasText: `“${words}”` }).waitFor();
  await boardSettled(page);
  return cards().locator('.card-title').allTextContents();
}

test('"/" comes to the box, and a typo still finds the task, its word marked', async () => {
  await page.locator('body').click();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-q');
  await page.keyboard.type('desing');
  assert.deepEqual(await resultsFor('desing'), [DESIGN]);
  assert.deepEqual(await card(DESIGN).locator('.card-title mark').allTextContents(), ['Design']);
});

test('a comment that matches shows on the card, and words narrow', async () => {
  await box().fill('onboard');
  const found = await resultsFor('onboard');
  assert.equal(found.length, 2, String(found));
  assert.ok(found.includes(DESIGN) && found.includes(COMMENTED), String(found));
  const said = card(COMMENTED).locator('.card-match');
  assert.match(await said.textContent(), /The onboarding numbers look odd/);
  assert.deepEqual(await said.locator('mark').allTextContents(), ['onboarding']);
  await box().fill('onboard numb');
  assert.deepEqual(await resultsFor('onboard numb'), [COMMENTED]);
});

test('markup in a task is shown as text, and Escape clears the search', async () => {
  await box().fill('bold');
  assert.deepEqual(await resultsFor('bold'), [MARKUP]);
  const title = card(MARKUP).locator('.card-title');
  assert.equal(await title.textContent(), MARKUP);
  assert.equal(await title.locator('b').count(), 0, 'no element from the text');
  assert.deepEqual(await title.locator('mark').allTextContents(), ['bold']);

  await box().press('Escape');
  assert.equal(await box().inputValue(), '');
  await page.locator('#board-summary', { hasNotText: '“' }).waitFor();
  await boardSettled(page);
  assert.ok((await cards().count()) >= 3);
  assert.equal(await page.locator('.card mark').count(), 0);
});

test('"/" typed into a field is only a character', async () => {
  await page.getByRole('button', { name: 'New task' }).click();
  const dialog = page.getByRole('dialog', { name: 'New task' });
  await dialog.waitFor();
  await page.keyboard.type('a/b');
  assert.equal(await dialog.getByLabel('Title').inputValue(), 'a/b');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
});
