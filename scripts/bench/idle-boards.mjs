// N open boards that nobody touches, for `BENCH_IDLE_BOARDS=N make bench`:
// each follows the change feed's stream as static/js/live.js does
// (GET /api/changes with Accept: text/event-stream, read event by event;
// a second after the stream ends or breaks, again from its cursor), opened
// spread over the first second. Runs until SIGTERM, then prints one line:
// "IDLE_RESULT open=<streams open> connects=<opened> events=<received>
//  errors=<refused or broken> seconds=<s>".
//
//   node scripts/bench/idle-boards.mjs ORIGIN COOKIE N

const [origin, cookie, count] = process.argv.slice(2);
const boards = Number(count);
if (!origin || !cookie || !(boards > 0)) {
  console.error('usage: idle-boards.mjs ORIGIN COOKIE N');
  process.exit(2);
}

const RECONNECT_MS = 1000;
const started = Date.now();
let open = 0;
let connects = 0;
let events = 0;
let errors = 0;
let stopping = false;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function board(offset) {
  await sleep(offset);
  let cursor = null;
  while (!stopping) {
    const url = `${origin}/api/changes${cursor ? `?after=${encodeURIComponent(cursor)}` : ''}`;
    let counted = false;
    try {
      const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' } });
      if (response.status !== 200) {
        errors += 1;
        await response.body?.cancel();
      } else {
        connects += 1;
        open += 1;
        counted = true;
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of response.body) {
          buffer += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').find((line) => line.startsWith('data: '));
            if (data) {
              events += 1;
              cursor = JSON.parse(data.slice(6)).cursor;
            }
          }
        }
      }
    } catch {
      if (!stopping) errors += 1;
    }
    if (counted) open -= 1;
    await sleep(RECONNECT_MS);
  }
}

process.on('SIGTERM', () => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`IDLE_RESULT open=${open} connects=${connects} events=${events} errors=${errors} seconds=${seconds}`);
  stopping = true;
  process.exit(0);
});

for (let i = 0; i < boards; i += 1) board((i * 1000) / boards);
