// N open boards that nobody touches, for `BENCH_IDLE_BOARDS=N make bench`:
// each polls the change feed as static/js/live.js does (GET /api/changes,
// then ?after=<cursor> one second after each answer), starting spread over
// the first second. Runs until SIGTERM, then prints one line:
// "IDLE_RESULT polls=<answered> errors=<failed or non-200> seconds=<s>".
//
//   node scripts/bench/idle-boards.mjs ORIGIN COOKIE N

const [origin, cookie, count] = process.argv.slice(2);
const boards = Number(count);
if (!origin || !cookie || !(boards > 0)) {
  console.error('usage: idle-boards.mjs ORIGIN COOKIE N');
  process.exit(2);
}

const INTERVAL_MS = 1000;
const started = Date.now();
let polls = 0;
let errors = 0;
let stopping = false;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function board(offset) {
  await sleep(offset);
  let cursor = null;
  while (!stopping) {
    const url = `${origin}/api/changes${cursor ? `?after=${encodeURIComponent(cursor)}` : ''}`;
    try {
      const response = await fetch(url, { headers: { cookie } });
      const body = await response.json();
      if (response.status === 200) {
        polls += 1;
        cursor = body.cursor;
      } else {
        errors += 1;
      }
    } catch {
      errors += 1;
    }
    await sleep(INTERVAL_MS);
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`IDLE_RESULT polls=${polls} errors=${errors} seconds=${seconds}`);
  process.exit(0);
});

for (let i = 0; i < boards; i += 1) board((i * INTERVAL_MS) / boards);
