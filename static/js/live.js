// Live updates: every open board and team page polls the change feed
// (GET /api/changes) about once a second and reloads what changed. Polling,
// not a stream: Spin 3.6 has no inbound WebSockets, and a streamed answer
// would hold an instance (and its memory) per open page for as long as the
// page is open; a poll is one short request and one indexed query, with no
// Postgres connection held in between (docs/api.md, Live updates).

import { api } from './api.js';

/** How long between the end of one poll and the start of the next. */
const INTERVAL_MS = 1000;

export class Live {
  /** `tasks()` / `users()` reload what changed, `comments(taskIds)` the
   *  comments of those tasks where they show; `everything()` reloads all
   *  (the feed said this page was too far behind). `labels()`: the labels. */
  constructor({ tasks, users, labels, comments, everything }) {
    this.reload = { tasks, users, labels, comments, everything };
    this.running = false;
    this.cursor = null;
    this.timer = null;
  }

  /** Starts from where the feed ends now; resolves once that is known, so
   *  what the page loads next is not older than the cursor. */
  async start() {
    this.stop();
    this.running = true;
    const run = (this.run = {});
    try {
      const { data } = await api.changes(null);
      if (this.run === run) this.cursor = data.cursor;
    } catch {
      // The polls below try again (or stop on a 401).
    }
    if (this.run === run) this.schedule(run);
  }

  /** Sign-out, or the session ended (401): no more polls. */
  stop() {
    this.running = false;
    this.run = null;
    clearTimeout(this.timer);
  }

  schedule(run) {
    this.timer = setTimeout(() => this.poll(run), INTERVAL_MS);
  }

  async poll(run) {
    try {
      const { data } = await api.changes(this.cursor);
      if (this.run !== run) return; // stopped or restarted meanwhile
      const fresh = this.cursor !== null;
      this.cursor = data.cursor;
      if (data.reset) await this.reload.everything();
      else if (fresh) {
        // People first: the board names them.
        if (data.changes.some((c) => c.entity === 'user')) await this.reload.users();
        // Labels before tasks: cards and filters show them.
        const labelled = data.changes.some((c) => c.entity === 'label');
        if (labelled) await this.reload.labels();
        // A comment changes its task's count on the card, a label its chips.
        if (labelled || data.changes.some((c) => c.entity === 'task' || c.entity === 'comment')) await this.reload.tasks();
        const commented = new Set(data.changes.filter((c) => c.entity === 'comment').map((c) => c.id));
        if (commented.size) await this.reload.comments(commented);
      }
    } catch (e) {
      if (e.status === 401) return this.stop();
      // Unreachable for now (network, restart): the next poll resumes from
      // the same cursor, so nothing is missed or repeated.
    }
    if (this.run === run) this.schedule(run);
  }
}
