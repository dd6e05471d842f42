// The app and a browser for a test. The app is the one `run.sh` starts
// (throwaway PostgreSQL, migrations, `runner up` or `spin up`), passed in
// MTH_URL, MTH_USERNAME and MTH_PASSWORD: run the suite with
// tests/browser/run.sh. The browser is Debian's Chromium, driven by
// playwright-core.

import { chromium } from 'playwright-core';

export async function startApp() {
  if (!process.env.MTH_URL) {
    throw new Error('MTH_URL is not set: run the browser tests with tests/browser/run.sh, which starts the app');
  }
  return {
    url: process.env.MTH_URL.replace(/\/$/, ''),
    username: process.env.MTH_USERNAME || 'admin',
    password: process.env.MTH_PASSWORD,
    async stop() {}, // run.sh stops it
  };
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
