// Starts the real app for a browser test: `serve-test-app` (a throwaway
// PostgreSQL and the compiled components in the project's runner) and
// Debian's Chromium, driven by playwright-core.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));

export async function startApp() {
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
