// The gateway's JSON API, as seen from the browser: same origin, the session
// cookie authenticates, errors become ApiError with the server's own words.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (${status}).`);
    this.status = status;
    this.errors = (body && Array.isArray(body.errors)) ? body.errors : [];
    // A 412 carries the current task: what someone else saved meanwhile.
    this.current = (body && body.current) || null;
  }
}

let onSignedOut = () => {};

// Requests whose answer sets a new session cookie (changing the password
// ends every session and signs this browser in anew). While one is out, a
// 401 may be for the cookie it is replacing: `renewing` settles once its
// answer, and so the new cookie, has arrived.
const NEW_COOKIE_PATHS = ['/auth/password', '/auth/login', '/auth/set-password'];
let renewing = Promise.resolve();

// Where a 401 answers the request itself (wrong password, no session yet,
// a used link) rather than saying that the session has ended.
const SIGN_IN_PATHS = ['/auth/login', '/auth/session', '/auth/set-password'];

/** Called whenever the server says the session is over (401). */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/** Whether this browser's session cookie, as it is now, names a live
 *  session. */
async function signedInNow() {
  try {
    return (await fetch('/auth/session', { credentials: 'same-origin' })).ok;
  } catch {
    return false;
  }
}

/** After a 401 (`error`) for a request that is not a sign-in: false if it
 *  should be sent once more — it went out with a cookie that was being
 *  replaced (the board's stream is always out) and, the new cookie having
 *  arrived, the session is alive; a 401 is answered before anything is
 *  done. Otherwise the session is over: the page is told (and true).
 *  `again`: this was already the one repeat. */
export async function sessionOver(error, again = false) {
  if (!again) {
    // A sign-in may start while the check is out (the check then went
    // with the old cookie, or none): check again once it has answered.
    for (;;) {
      const pending = renewing;
      await pending;
      if (await signedInNow()) return false;
      if (renewing === pending) break;
    }
  }
  error.signedOut = true; // the sign-in dialog says so
  onSignedOut(error);
  return true;
}

/** Opens the change feed's stream (Server-Sent Events, docs/api.md) from
 *  `after` (none: where the feed ends now); resolves with the response,
 *  whose body is the stream. Refusals as for `request`. */
export async function openStream(after, signal, again = false) {
  const path = after ? `/api/changes?after=${encodeURIComponent(after)}` : '/api/changes';
  let response;
  try {
    response = await fetch(path, { headers: { Accept: 'text/event-stream' }, credentials: 'same-origin', signal });
  } catch {
    throw new ApiError(0, { detail: 'Cannot reach MicroTaskHub.' });
  }
  if (response.ok) return response;
  const error = new ApiError(response.status, await response.json().catch(() => null));
  if (response.status === 401 && !(await sessionOver(error, again))) return openStream(after, signal, true);
  throw error;
}

/** Sends one request. `version`: the version of the thing it changes, as
 *  loaded (`If-Match`), so that a change made meanwhile is not overwritten.
 *  `again`: this is the one repeat of a request refused for its cookie. */
export async function request(method, path, body, version, again = false) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (version !== undefined) options.headers['If-Match'] = `"${version}"`;
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  const sent = fetch(path, options);
  if (NEW_COOKIE_PATHS.includes(path)) renewing = sent.catch(() => {});
  try {
    response = await sent;
  } catch {
    throw new ApiError(0, { detail: 'Cannot reach MicroTaskHub. Check your connection and try again.' });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !SIGN_IN_PATHS.includes(path)
        && !(await sessionOver(error, again))) {
      return request(method, path, body, version, true);
    }
    throw error;
  }
  const total = Number(response.headers.get('x-total-count'));
  return { data, total: Number.isFinite(total) ? total : null };
}

export const api = {
  session: () => request('GET', '/auth/session'),
  login: (email, password) => request('POST', '/auth/login', { email, password }),
  methods: () => request('GET', '/auth/methods'),
  logout: () => request('POST', '/auth/logout'),
  setPassword: (token, password) => request('POST', '/auth/set-password', { token, password }),
  changePassword: (current_password, new_password, revoke_tokens) =>
    request('POST', '/auth/password', { current_password, new_password, revoke_tokens }),
  tokens: () => request('GET', '/auth/tokens'),
  createToken: (name, password, expires_in_days) =>
    request('POST', '/auth/tokens', { name, password, expires_in_days }),
  revokeToken: (id) => request('DELETE', `/auth/tokens/${id}`),
  users: () => request('GET', '/api/users?limit=500'),
  createUser: (user) => request('POST', '/api/users', user),
  updateUser: (id, changes) => request('PATCH', `/api/users/${id}`, changes),
  deleteUser: (id) => request('DELETE', `/api/users/${id}`),
  invite: (id) => request('POST', `/api/users/${id}/invitation`),
  tasks: (filters, today) => {
    // A search shows its best 50 (ranking more costs the database more).
    const query = new URLSearchParams({ limit: filters.q ? '50' : '500' });
    // `label`: ids, comma-separated (the tasks with all of them, or any).
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    // "Overdue" and "this week" count from the person's own date, not the server's.
    if (filters.due) query.set('today', today);
    return request('GET', `/api/tasks?${query}`);
  },
  createTask: (task) => request('POST', '/api/tasks', task),
  updateTask: (id, changes, version) => request('PATCH', `/api/tasks/${id}`, changes, version),
  deleteTask: (id, version) => request('DELETE', `/api/tasks/${id}`, undefined, version),
  taskHistory: (id) => request('GET', `/api/tasks/${id}/history?limit=50`),
  comments: (taskId, limit) => request('GET', `/api/tasks/${taskId}/comments?limit=${limit}`),
  addComment: (taskId, body) => request('POST', `/api/tasks/${taskId}/comments`, { body }),
  editComment: (taskId, id, body) => request('PATCH', `/api/tasks/${taskId}/comments/${id}`, { body }),
  deleteComment: (taskId, id) => request('DELETE', `/api/tasks/${taskId}/comments/${id}`),
  labels: () => request('GET', '/api/labels?limit=500'),
  createLabel: (label) => request('POST', '/api/labels', label),
  updateLabel: (id, changes) => request('PATCH', `/api/labels/${id}`, changes),
  deleteLabel: (id) => request('DELETE', `/api/labels/${id}`),
  views: () => request('GET', '/api/views?limit=500'),
  createView: (view) => request('POST', '/api/views', view),
  updateView: (id, changes) => request('PATCH', `/api/views/${id}`, changes),
  deleteView: (id) => request('DELETE', `/api/views/${id}`),
};
