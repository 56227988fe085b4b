// The outbox: every change the officer makes is a request kept in IndexedDB until the server
// has answered it. One sender drains it in order (by seq):
//   network error or 5xx  -> the same request (same UUID) again later, with backoff;
//                            the entries behind it wait (order matters: evidence before the
//                            submission, the submission before its documents)
//   2xx                   -> done (the answer is kept: numbers, links)
//   401                   -> stop and ask the officer to log in again; nothing is dropped
//   409, 422 and other 4xx-> "needs attention": final for that UUID, shown next to the task
//                            with the server's message; removed only when the officer confirms
// An entry may name, in ``resolve``, body fields to fill when it is sent from the answers of
// entries before it: {media_ids: [uuid, …]} becomes the ids the server gave those uploads (a
// disposal lists the photos uploaded just before it). The filled body is kept, so a retry sends
// exactly the same request.
import * as store from "./store.js";

const listeners = new Set();
const RETRY_EVERY_MS = 15000;
const MAX_BACKOFF_MS = 300000;
let running = null;
let again = false;
let timer = null;
let csrf = () => null;
let onAuthLost = () => {};
let refreshSession = async () => false;
export let authLost = false;

export function configure(options) {
  csrf = options.csrf;
  onAuthLost = options.onAuthLost;
  refreshSession = options.refreshSession;
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(entry) {
  for (const listener of [...listeners]) {
    try { listener(entry); } catch (error) { console.error(error); }
  }
}

// Queues a request. ``body`` is JSON-able data or a Blob (sent as the raw request body).
export async function enqueue({ uuid, method, url, body, kind, task_id, label, headers, complaint_id, resolve }) {
  const entry = await store.appendOutbox({
    uuid, method, url, kind, task_id, label: label || "",
    complaint_id: complaint_id ?? null, resolve: resolve || null,
    headers: headers || (body instanceof Blob
      ? { "Content-Type": body.type || "application/octet-stream" }
      : { "Content-Type": "application/json" }),
    body,
    created_at: new Date().toISOString(),
    state: "pending", attempts: 0, last_status: null, last_error: null,
    next_try_at: 0, response: null, error_code: null,
  });
  emit(entry);
  drain();
  return entry;
}

export async function entries() {
  return store.outboxInOrder();
}

export async function counts() {
  const list = await entries();
  return {
    pending: list.filter((e) => e.state === "pending").length,
    attention: list.filter((e) => e.state === "attention").length,
  };
}

export async function forTask(taskId) {
  return (await entries()).filter((e) => e.task_id === taskId);
}

export async function forComplaint(complaintId) {
  return (await entries()).filter((e) => e.complaint_id === complaintId);
}

// Removes an entry the officer has seen (only entries that need attention or are done).
export async function dismiss(uuid) {
  const entry = await store.get("outbox", uuid);
  if (entry && entry.state !== "pending") {
    await store.remove("outbox", uuid);
    emit({ ...entry, state: "dismissed" });
  }
}

// Waits until the entry is answered (done or attention), or ``ms`` have passed; returns it.
export function settled(uuid, ms) {
  return new Promise((resolve) => {
    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      unsubscribe();
      clearTimeout(limit);
      resolve(await store.get("outbox", uuid));
    };
    const unsubscribe = subscribe((entry) => {
      if (entry.uuid === uuid && entry.state !== "pending") finish();
      if (entry.uuid === uuid && entry.state === "pending" && entry.attempts > 0) finish();
    });
    const limit = setTimeout(finish, ms);
    store.get("outbox", uuid).then((entry) => {
      if (entry && entry.state !== "pending") finish();
    });
  });
}

export function start() {
  clearInterval(timer);
  timer = setInterval(() => drain(), RETRY_EVERY_MS);
  window.addEventListener("online", () => drain({ now: true }));
  drain();
}

export function resume() {
  authLost = false;
  drain({ now: true });
}

export function drain(options = {}) {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await run(options.now === true);
    } while (again && !authLost);
  })().finally(() => { running = null; });
  return running;
}

async function run(now) {
  if (authLost) return;
  for (;;) {
    const head = (await entries()).find((e) => e.state === "pending");
    if (!head) return;
    if (!now && head.next_try_at > Date.now()) return;
    const outcome = await send(head);
    if (outcome !== "answered") return;
    now = false;
  }
}

function backoff(attempts) {
  return Math.min(2000 * 2 ** Math.min(attempts, 10), MAX_BACKOFF_MS);
}

// Fills the fields named in ``entry.resolve`` from the answers of the entries they name (an
// upload that was refused or is gone is left out: the server then says what is missing).
async function resolved(entry) {
  if (!entry.resolve || entry.body instanceof Blob) return;
  const body = { ...entry.body };
  for (const [field, uuids] of Object.entries(entry.resolve)) {
    const ids = [];
    for (const id of uuids) {
      const source = await store.get("outbox", id);
      if (source && source.state === "done" && source.response && source.response.id !== undefined) {
        ids.push(source.response.id);
      }
    }
    body[field] = ids;
  }
  await save(entry, { body, resolve: null });
}

async function send(entry, csrfRetried = false) {
  await resolved(entry);
  const headers = { ...entry.headers, "X-CSRF-Token": csrf() || "" };
  const body = entry.body instanceof Blob ? entry.body : JSON.stringify(entry.body);
  let response;
  try {
    response = await fetch(entry.url, {
      method: entry.method, headers, body, credentials: "same-origin", redirect: "manual",
    });
  } catch (error) {
    return retryLater(entry, null, String(error && error.message || error));
  }
  if (response.status >= 500 || response.type === "opaqueredirect" || response.status === 0) {
    return retryLater(entry, response.status, await errorMessage(response));
  }
  if (response.status === 401) {
    authLost = true;
    await save(entry, { last_status: 401, last_error: await errorMessage(response) });
    onAuthLost();
    return "stopped";
  }
  const payload = await readJson(response);
  if (response.status === 403 && payload?.error?.code === "csrf_failed" && !csrfRetried) {
    if (await refreshSession()) return send(entry, true);
  }
  if (response.ok) {
    await save(entry, {
      state: "done", last_status: response.status, last_error: null, response: payload,
      body: entry.body instanceof Blob ? null : entry.body, done_at: new Date().toISOString(),
    });
    return "answered";
  }
  await save(entry, {
    state: "attention", last_status: response.status,
    last_error: payload?.error?.message || response.statusText,
    error_code: payload?.error?.code || null, response: payload,
  });
  return "answered";
}

async function retryLater(entry, status, message) {
  const attempts = entry.attempts + 1;
  await save(entry, {
    attempts, last_status: status, last_error: message, next_try_at: Date.now() + backoff(attempts),
  });
  return "retry";
}

async function save(entry, changes) {
  Object.assign(entry, changes);
  await store.put("outbox", entry);
  emit(entry);
}

async function readJson(response) {
  try { return await response.json(); } catch (error) { return null; }
}

async function errorMessage(response) {
  const payload = await readJson(response);
  return payload?.error?.message || `HTTP ${response.status}`;
}
