// The real app and a browser for a test. `run.sh` starts the app itself
// (throwaway PostgreSQL, migrations, `runner up`) and passes it in MTH_URL,
// MTH_USERNAME and MTH_PASSWORD; without those (`node --test` on its own),
// `serve-test-app` starts one per test file. The browser is Debian's
// Chromium, driven by playwright-core.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));

export async function startApp() {
  if (process.env.MTH_URL) {
    return {
      url: process.env.MTH_URL.replace(/\/$/, ''),
      username: process.env.MTH_USERNAME || 'admin',
      password: process.env.MTH_PASSWORD,
      async stop() {}, // run.sh stops it
    };
  }
  const binary = `${root}target/debug/serve-test-app`;
  const child = spawn(binary, [], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const failed = new Promise((_, reject) => {
    child.on('error', (e) => reject(new Error(`cannot start ${binary} (cargo build -p api-tests): ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`serve-test-app exited early (${code})`)));
  });
  const firstLine = new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const ready = JSON.parse(await Promise.race([firstLine, failed]));
  child.removeAllListeners('exit');
  return {
    ...ready,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end(); // closing stdin stops it and everything it started
      await exited;
    },
  };
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
