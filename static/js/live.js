// Live updates: every open board and team page follows the change feed as
// a stream (GET /api/changes, Server-Sent Events) and reloads what changed.
// A stream, not polls: the server keeps one instance per open page that
// asks the database once a second, instead of a fresh request every second
// (docs/api.md, Live updates). When the stream breaks (network, app
// restart, another pod) or the server ends it (every few minutes), the page
// reconnects from its cursor, so nothing is missed or repeated.
//
// fetch rather than EventSource: a refusal's status (401: the session is
// over, or its cookie was being replaced) must be told apart from a network
// failure, which EventSource does not show.

import { openStream, sessionOver, ApiError } from './api.js';

/** How long after a broken stream the page reconnects. */
const RECONNECT_MS = 1000;

export class Live {
  /** `tasks()` / `users()` reload what changed, `comments(taskIds)` the
   *  comments of those tasks where they show; `everything()` reloads all
   *  (the feed said this page was too far behind). `labels()`: the labels. */
  constructor({ tasks, users, labels, comments, everything }) {
    this.reload = { tasks, users, labels, comments, everything };
    this.run = null;
    this.cursor = null;
    this.timer = null;
  }

  /** Starts from where the feed ends now; resolves once that is known (or
   *  the first attempt failed), so what the page loads next is not older
   *  than the cursor. */
  start() {
    this.stop();
    this.cursor = null;
    const run = (this.run = { controller: new AbortController(), opened: null });
    const opened = new Promise((resolve) => { run.opened = resolve; });
    this.connect(run);
    return opened;
  }

  /** Sign-out, or the session ended: the stream is closed. */
  stop() {
    const run = this.run;
    this.run = null;
    clearTimeout(this.timer);
    if (run) {
      run.controller.abort();
      run.opened();
    }
  }

  async connect(run) {
    try {
      const response = await openStream(this.cursor, run.controller.signal);
      for await (const event of events(response.body)) {
        if (this.run !== run) return;
        if (event.name === 'signed-out') {
          // The server says the session is over; unless a new cookie has
          // just replaced the one this stream was opened with, it is.
          if (await sessionOver(new ApiError(401, null))) return this.stop();
          break; // reconnect with the new cookie
        }
        await this.apply(JSON.parse(event.data));
        run.opened();
      }
    } catch (e) {
      if (e.signedOut) return this.stop();
      // Unreachable for now, or cut off: reconnect from the same cursor.
    }
    if (this.run !== run) return;
    run.opened();
    this.timer = setTimeout(() => this.connect(run), RECONNECT_MS);
  }

  async apply(feed) {
    const fresh = this.cursor !== null;
    this.cursor = feed.cursor;
    if (feed.reset) return this.reload.everything();
    if (!fresh) return undefined;
    const changes = feed.changes;
    // People first: the board names them.
    if (changes.some((c) => c.entity === 'user')) await this.reload.users();
    // Labels before tasks: cards and filters show them.
    const labelled = changes.some((c) => c.entity === 'label');
    if (labelled) await this.reload.labels();
    // A comment changes its task's count on the card, a label its chips.
    if (labelled || changes.some((c) => c.entity === 'task' || c.entity === 'comment')) await this.reload.tasks();
    const commented = new Set(changes.filter((c) => c.entity === 'comment').map((c) => c.id));
    if (commented.size) await this.reload.comments(commented);
    return undefined;
  }
}

/** The events of a Server-Sent Events body, as `{ name, data }` (comment
 *  lines, `id` and `retry` are the server's business here: the page keeps
 *  the cursor from each event's data). */
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { name: 'message', data: '' };
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue; // a comment (keep-alive), or nothing
          const field = line.slice(0, colon);
          const text = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.name = text;
          else if (field === 'data') event.data += text;
        }
        if (event.data) yield event;
      }
    }
  } finally {
    // Left early (a reconnect): the connection is closed, not left open.
    reader.cancel().catch(() => {});
  }
}
