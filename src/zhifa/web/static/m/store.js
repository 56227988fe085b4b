// IndexedDB of the officer app: what the device keeps so that it works without a network.
//   meta     {key, value}           session, device id, strings, sequence counter, pending requests
//   bundles  {id, bundle, saved_at} task bundles (GET /api/v1/tasks/{id}) as last seen
//   drafts   {task_id, ...}         the officer's work on a task: answers, evidence, documents;
//                                   on a complaint job (task_id "complaint:<id>"): measure, note,
//                                   photos
//   outbox   {uuid, seq, ...}       requests waiting to be sent, in order (index "seq")
//   blocks   {id, ...}              pre-numbered document serials allotted to this device
//   positions {id (auto), ...}      GPS fixes taken on duty and not sent yet (telemetry, capped)
const DB_NAME = "zhifa-m";
const DB_VERSION = 2;
const STORES = ["meta", "bundles", "drafts", "outbox", "blocks", "positions"];
let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      // Each version adds what the one before lacked; what the phone already keeps stays.
      request.onupgradeneeded = () => {
        const db = request.result;
        const missing = (name) => !db.objectStoreNames.contains(name);
        if (missing("meta")) db.createObjectStore("meta", { keyPath: "key" });
        if (missing("bundles")) db.createObjectStore("bundles", { keyPath: "id" });
        if (missing("drafts")) db.createObjectStore("drafts", { keyPath: "task_id" });
        if (missing("outbox")) {
          const outbox = db.createObjectStore("outbox", { keyPath: "uuid" });
          outbox.createIndex("seq", "seq", { unique: true });
        }
        if (missing("blocks")) db.createObjectStore("blocks", { keyPath: "id" });
        if (missing("positions")) db.createObjectStore("positions", { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function tx(stores, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(stores, mode);
    let result;
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
    Promise.resolve(work(transaction)).then((value) => { result = value; }, reject);
  });
}

export function get(store, key) {
  return tx([store], "readonly", (t) => promised(t.objectStore(store).get(key)));
}

export function put(store, value) {
  return tx([store], "readwrite", (t) => promised(t.objectStore(store).put(value)));
}

export function remove(store, key) {
  return tx([store], "readwrite", (t) => promised(t.objectStore(store).delete(key)));
}

export function all(store) {
  return tx([store], "readonly", (t) => promised(t.objectStore(store).getAll()));
}

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row ? row.value : fallback;
}

export function setMeta(key, value) {
  return put("meta", { key, value });
}

// Adds an outbox entry with the next sequence number, in one transaction.
export function appendOutbox(entry) {
  return tx(["meta", "outbox"], "readwrite", async (t) => {
    const meta = t.objectStore("meta");
    const row = await promised(meta.get("outbox_seq"));
    const seq = (row ? row.value : 0) + 1;
    meta.put({ key: "outbox_seq", value: seq });
    const stored = { ...entry, seq };
    t.objectStore("outbox").put(stored);
    return stored;
  });
}

export function outboxInOrder() {
  return tx(["outbox"], "readonly", (t) => promised(t.objectStore("outbox").index("seq").getAll()));
}

// Keeps a fix for sending; past ``limit`` kept fixes the oldest are dropped (telemetry: losing
// some when the phone has been offline for long is acceptable, filling its storage is not).
export function addPosition(fix, limit) {
  return tx(["positions"], "readwrite", async (t) => {
    const positions = t.objectStore("positions");
    positions.add(fix);
    const keys = await promised(positions.getAllKeys());
    for (const key of keys.slice(0, Math.max(0, keys.length - limit))) positions.delete(key);
  });
}

// The oldest ``count`` kept fixes, each with its key (``id``).
export function positions(count) {
  return tx(["positions"], "readonly", (t) => promised(t.objectStore("positions").getAll(null, count)));
}

export function removePositions(ids) {
  return tx(["positions"], "readwrite", (t) => {
    for (const id of ids) t.objectStore("positions").delete(id);
  });
}

// Everything of the previous user, when another officer logs in on this device.
export function clearAll() {
  return tx(STORES, "readwrite", (t) => {
    for (const name of STORES) t.objectStore(name).clear();
  });
}
