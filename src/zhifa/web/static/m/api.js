// Reading from the server, with the device's copy as the fallback when there is no network.
import * as store from "./store.js";

export const state = { session: null, online: navigator.onLine, needsLogin: false, otherOfficer: null };
const TIMEOUT_MS = 12000;

export class Offline extends Error {}
export class LoginNeeded extends Error {}

export async function getJson(url) {
  const controller = new AbortController();
  const limit = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", signal: controller.signal });
  } catch (error) {
    throw new Offline(String(error));
  } finally {
    clearTimeout(limit);
  }
  if (response.status === 401 || (response.redirected && new URL(response.url).pathname === "/login")) {
    throw new LoginNeeded();
  }
  if (response.status === 503 && response.headers.get("x-zhifa-offline")) throw new Offline("offline");
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body?.error?.message || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session?.csrf_token || "" },
    body: JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (response.status === 401) throw new LoginNeeded();
  if (!response.ok) {
    const error = new Error(payload?.error?.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.payload = payload;
    throw error;
  }
  return payload;
}

// The officer using the device; the last one known when offline.
export async function loadSession() {
  try {
    const session = await getJson("/m/session");
    const previous = await store.getMeta("session");
    if (previous && previous.officer_id !== session.officer_id) {
      // Another officer's work never shows to this one, and is never sent under this login:
      // it is cleared only when all of it has been uploaded; until then the app waits for them.
      const unsent = (await store.outboxInOrder()).filter((e) => e.state !== "done");
      if (unsent.length) {
        state.otherOfficer = { name: previous.name, unsent: unsent.length };
        return previous;
      }
      await store.clearAll();
    }
    session.clock_offset_ms = Date.parse(session.server_time) - Date.now();
    await store.setMeta("session", session);
    state.session = session;
    state.needsLogin = false;
  } catch (error) {
    if (error instanceof LoginNeeded) state.needsLogin = true;
    state.session = await store.getMeta("session");
    if (!state.session && !(error instanceof LoginNeeded)) throw error;
  }
  return state.session;
}

export async function refreshSession() {
  try {
    await loadSession();
    return !state.needsLogin;
  } catch (error) {
    return false;
  }
}

export async function deviceId() {
  let id = await store.getMeta("device_id");
  if (!id) {
    id = crypto.randomUUID();
    await store.setMeta("device_id", id);
  }
  return id;
}

// Today's tasks, nearest first when a position is known; the kept list when the server cannot
// be reached (``error`` says why).
export async function todayTasks(position) {
  const query = position ? `?lon=${position.lon}&lat=${position.lat}` : "";
  try {
    const tasks = await getJson(`/api/v1/tasks/today${query}`);
    await store.setMeta("today", { tasks, saved_at: new Date().toISOString() });
    return { tasks, offline: false };
  } catch (error) {
    if (error instanceof LoginNeeded) state.needsLogin = true;
    const kept = await store.getMeta("today");
    if (!kept) throw error;
    return { tasks: kept.tasks, offline: true, saved_at: kept.saved_at, error };
  }
}

// A task bundle: fetched and kept when the server answers; else the kept copy (``error`` says
// why: no network, logged out, or the task is no longer the officer's).
export async function bundle(taskId) {
  try {
    const fresh = await getJson(`/api/v1/tasks/${taskId}`);
    await store.put("bundles", { id: taskId, bundle: fresh, saved_at: new Date().toISOString() });
    return { bundle: fresh, offline: false };
  } catch (error) {
    if (error instanceof LoginNeeded) state.needsLogin = true;
    const kept = await store.get("bundles", taskId);
    if (!kept) throw error;
    return { bundle: kept.bundle, offline: true, saved_at: kept.saved_at, error };
  }
}

export async function draft(taskId) {
  return (await store.get("drafts", taskId)) || {
    task_id: taskId, answers: {}, evidence: [], documents: [], check_ins: [], summary: "",
    party_type: null, submission_uuid: null, submitted_at: null,
  };
}

export function saveDraft(d) {
  return store.put("drafts", d);
}

// Hooks of the duty watch (duty.js): a one-off fix is asked for with the watch paused, because
// some browsers answer no single high-accuracy request while a high-accuracy watch runs.
const fixHooks = { pause: () => {}, resume: () => {} };
export function onFix(hooks) {
  Object.assign(fixHooks, hooks);
}

// Where the device is: a fresh high-accuracy fix, or null when it cannot be had.
export async function position(options = {}) {
  fixHooks.pause();
  try {
    return await oneFix(options);
  } finally {
    fixHooks.resume();
  }
}

function oneFix({ timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy }),
      (error) => resolve({ error: error.code }),
      { enableHighAccuracy: true, timeout, maximumAge: 0 });
  });
}
