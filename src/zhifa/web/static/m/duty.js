// Duty status (上岗 / 离岗) and position reporting while on duty.
//   The toggle sets the status on the server (PUT /api/v1/me/status): it needs the network, and
//   a refusal (committed to a complaint) is shown as the server wrote it.
//   On duty, the phone watches its position; fixes are kept in IndexedDB ("positions") and sent
//   in batches (POST /api/v1/positions) every POSITION_EVERY_MS, the first one at once. Offline
//   they wait, up to KEEP_AT_MOST (the oldest are dropped past it). Positions are telemetry, not
//   outbox items: a batch the server refuses is dropped (a bad fix alone when it names one).
import * as api from "./api.js";
import * as store from "./store.js";
import { h, t, put, toast } from "./ui.js";

export const POSITION_EVERY_MS = 15000;
export const KEEP_AT_MOST = 500;
const BATCH = 100;
// A new fix is kept when this much time has passed or the officer moved this far.
const MIN_GAP_MS = 5000;
const MIN_MOVE_M = 10;

const state = { onDuty: false, status: "off_duty", label: "", watch: null, timer: null, last: null, kept: null, sending: null };
const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit() {
  for (const listener of [...listeners]) {
    try { listener(state); } catch (error) { console.error(error); }
  }
}

// Where the phone last was (from the watch), or null.
export function here() {
  return state.last;
}

// Metres between two WGS-84 points (haversine, as the server's kit.geo).
export function distance(lon1, lat1, lon2, lat2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// Starts from the status the server gave with the session (kept on the phone when offline).
export function start(session) {
  const duty = session && session.duty;
  if (!duty) return;
  apply({ status: duty.status, status_label: duty.status_label });
  window.addEventListener("online", () => flush());
}

function apply(live) {
  state.status = live.status;
  state.label = live.status_label || live.status;
  state.onDuty = live.status !== "off_duty";
  document.body.dataset.duty = state.onDuty ? "on" : "off";
  if (state.onDuty) watch(); else unwatch();
  emit();
}

async function keepSession(live) {
  const session = api.state.session;
  if (!session) return;
  session.duty = { status: live.status, status_label: live.status_label, on_duty: live.status !== "off_duty", complaint_id: live.complaint_id };
  await store.setMeta("session", session);
}

// The big toggle of the home screen.
export function toggle() {
  const button = h("button", { id: "duty-toggle", type: "button", class: "btn btn-big duty-toggle" });
  const note = h("p", { id: "duty-note", class: "duty-note", "aria-live": "polite" });
  let shown = null;
  // Drawn again when the status changes (not at each fix: a refusal stays readable).
  const draw = (force = false) => {
    const key = `${state.status}|${state.label}`;
    if (!force && key === shown) return;
    shown = key;
    button.textContent = state.onDuty ? t("Go off duty") : t("Go on duty (available for dispatch)");
    button.classList.toggle("duty-on", state.onDuty);
    button.dataset.duty = state.onDuty ? "on" : "off";
    put(note, state.onDuty
      ? t("On duty: {status}. Your position is reported every {seconds} s.", { status: state.label, seconds: POSITION_EVERY_MS / 1000 })
      : t("Off duty: no complaints are dispatched to you."));
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await setStatus(state.onDuty ? "off_duty" : "available");
    } catch (error) {
      put(note, h("span", { class: "refusal", role: "alert" }, error.message));
      button.disabled = false;
      return;
    }
    button.disabled = false;
    draw(true);
  });
  const unsubscribe = subscribe(() => draw());
  draw(true);
  return { el: h("section", { class: "duty card" }, button, note), unsubscribe };
}

async function setStatus(status) {
  if (!navigator.onLine) throw new Error(t("Going on or off duty needs the network."));
  let response;
  try {
    response = await fetch("/api/v1/me/status", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": api.state.session?.csrf_token || "" },
      body: JSON.stringify({ status }),
    });
  } catch (error) {
    throw new Error(t("Going on or off duty needs the network."));
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    api.state.needsLogin = true;
    throw new Error(t("Your login has expired. Log in again: nothing on this phone is lost."));
  }
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  apply(body);
  await keepSession(body);
  if (state.onDuty) flush();
  return body;
}

// The server's status changes with the complaint steps (出警中, 到场 …): shown as it comes.
export function serverSaid(live) {
  if (live && live.status) {
    apply(live);
    keepSession(live);
  }
}

// One-off fixes (api.position) pause the watch while they are taken.
let paused = 0;
api.onFix({
  pause: () => {
    paused += 1;
    stopWatching();
  },
  resume: () => {
    paused = Math.max(0, paused - 1);
    if (!paused && state.onDuty) startWatching();
  },
});

function startWatching() {
  if (state.watch !== null || paused || !navigator.geolocation) return;
  state.watch = navigator.geolocation.watchPosition(
    (p) => record(p),
    (error) => console.warn("position", error.code, error.message),
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
}

function stopWatching() {
  if (state.watch !== null) navigator.geolocation.clearWatch(state.watch);
  state.watch = null;
}

function watch() {
  startWatching();
  if (state.timer === null) state.timer = setInterval(() => flush(), POSITION_EVERY_MS);
}

function unwatch() {
  stopWatching();
  clearInterval(state.timer);
  state.timer = null;
  state.kept = null;
}

async function record(p) {
  const fix = {
    lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy,
    fix_at: new Date(p.timestamp || Date.now()).toISOString(),
    speed_mps: Number.isFinite(p.coords.speed) && p.coords.speed >= 0 ? p.coords.speed : null,
    heading_deg: Number.isFinite(p.coords.heading) && p.coords.heading >= 0 && p.coords.heading < 360 ? p.coords.heading : null,
  };
  const first = state.kept === null;
  state.last = fix;
  emit();
  if (!state.onDuty) return;
  const previous = state.kept;
  const gap = previous ? Date.parse(fix.fix_at) - Date.parse(previous.fix_at) : Infinity;
  const moved = previous ? distance(previous.lon, previous.lat, fix.lon, fix.lat) : Infinity;
  if (gap < MIN_GAP_MS && moved < MIN_MOVE_M) return;
  state.kept = fix;
  await store.addPosition(fix, KEEP_AT_MOST);
  if (first) flush();
}

// Sends what has accumulated, batch after batch, while the server takes them.
export function flush() {
  if (state.sending) return state.sending;
  state.sending = (async () => {
    while (navigator.onLine && !api.state.needsLogin) {
      const kept = await store.positions(BATCH);
      if (!kept.length || !(await sendBatch(kept))) break;
    }
  })().catch((error) => console.warn("positions", error)).finally(() => { state.sending = null; });
  return state.sending;
}

// True when the batch was dealt with (sent or dropped) and the next one may follow.
async function sendBatch(kept) {
  const fixes = kept.map(({ id, ...fix }) => fix);
  let response;
  try {
    response = await fetch("/api/v1/positions", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": api.state.session?.csrf_token || "" },
      body: JSON.stringify({ fixes }),
    });
  } catch (error) {
    return false;
  }
  if (response.status === 401 || response.status >= 500) return false;
  const body = await response.json().catch(() => null);
  if (response.ok) {
    await store.removePositions(kept.map((f) => f.id));
    if (body && body.latest) serverSaid(body.latest);
    return true;
  }
  const index = body?.error?.detail?.index;
  const dropped = Number.isInteger(index) && kept[index] ? [kept[index].id] : kept.map((f) => f.id);
  await store.removePositions(dropped);
  if (response.status !== 422) toast(body?.error?.message || `HTTP ${response.status}`);
  return true;
}
