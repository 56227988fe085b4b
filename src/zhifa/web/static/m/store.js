// IndexedDB of the officer app: what the device keeps so that it works without a network.
//   meta     {key, value}           session, device id, strings, sequence counter, pending requests
//   bundles  {id, bundle, saved_at} task bundles (GET /api/v1/tasks/{id}) as last seen
//   drafts   {task_id, ...}         the officer's work on a task: answers, evidence, documents
//   outbox   {uuid, seq, ...}       requests waiting to be sent, in order (index "seq")
//   blocks   {id, ...}              pre-numbered document serials allotted to this device
const DB_NAME = "zhifa-m";
const DB_VERSION = 1;
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
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta", { keyPath: "key" });
        db.createObjectStore("bundles", { keyPath: "id" });
        db.createObjectStore("drafts", { keyPath: "task_id" });
        const outbox = db.createObjectStore("outbox", { keyPath: "uuid" });
        outbox.createIndex("seq", "seq", { unique: true });
        db.createObjectStore("blocks", { keyPath: "id" });
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

// Everything of the previous user, when another officer logs in on this device.
export function clearAll() {
  const stores = ["meta", "bundles", "drafts", "outbox", "blocks"];
  return tx(stores, "readwrite", (t) => {
    for (const name of stores) t.objectStore(name).clear();
  });
}
