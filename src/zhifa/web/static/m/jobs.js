// Complaint jobs (派单): the officer's open assignments as the server and the phone know them.
//   The list comes from GET /api/v1/me/complaints (kept in IndexedDB for offline use) and is read
//   again on every push, on reconnecting and when a step of the officer is answered.
//   The phone's own steps (outbox entries with a complaint_id) move a job on at once: an entry
//   still waiting, or answered after the list was asked for, counts; an older answer is already
//   in the list. A job answered with feedback stays on the phone as 「待核查」 for a day.
import * as api from "./api.js";
import * as duty from "./duty.js";
import * as outbox from "./outbox.js";
import * as push from "./push.js";
import * as store from "./store.js";
import { h, t, add, metres, onLeave, put } from "./ui.js";

export const ORDER = ["dispatched", "taken", "on_scene", "disposed", "fed_back"];
const STEP_OF = {
  "complaint.take": "taken",
  "complaint.arrive": "on_scene",
  "complaint.dispose": "disposed",
  "complaint.feedback": "fed_back",
};
const FINISHED_FOR_MS = 24 * 3600 * 1000;

const state = { jobs: [], fetchedAt: null, savedAt: null, offline: false, error: null, loaded: false };
const listeners = new Set();
let reading = null;
let again = false;

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit() {
  for (const listener of [...listeners]) {
    try { listener(); } catch (error) { console.error(error); }
  }
}

export function statusLabel(status) {
  return {
    dispatched: t("Waiting for you to take it"),
    taken: t("Taken: on the way"),
    on_scene: t("Arrived"),
    disposed: t("Handled: report back"),
    fed_back: t("Awaiting verification"),
  }[status] || status;
}

// Where a job stands on this phone: the server's status moved on by the officer's own steps.
export function progress(job, entries) {
  let status = ORDER.includes(job.status) ? job.status : "dispatched";
  let pending = false;
  let declined = false;
  const since = state.fetchedAt ? Date.parse(state.fetchedAt) : null;
  for (const entry of entries) {
    if (entry.complaint_id !== job.complaint_id || entry.state === "attention") continue;
    const fresh = entry.state === "pending" || since === null || Date.parse(entry.done_at || 0) >= since;
    if (!fresh) continue;
    if (entry.state === "pending" && entry.kind !== "complaint.media") pending = true;
    if (entry.kind === "complaint.decline") declined = true;
    const step = STEP_OF[entry.kind];
    if (step && ORDER.indexOf(step) > ORDER.indexOf(status)) status = step;
  }
  return { status, pending, declined };
}

// Reads the list from the server (the kept copy when it cannot be reached); returns the jobs
// that are new to this phone and those taken away, and tells the screens.
export function refresh({ announce = true } = {}) {
  if (reading) {
    again = true;
    return reading;
  }
  reading = (async () => {
    let found;
    do {
      again = false;
      found = await read(announce);
    } while (again);
    return found;
  })().finally(() => { reading = null; });
  return reading;
}

async function read(announce) {
  const asked = new Date().toISOString();
  let jobs;
  try {
    jobs = await api.getJson("/api/v1/me/complaints");
  } catch (error) {
    if (error instanceof api.LoginNeeded) api.state.needsLogin = true;
    await loadKept(error);
    return { added: [], removed: [] };
  }
  const before = state.jobs;
  const known = await store.getMeta("jobs_known", null);
  Object.assign(state, { jobs, fetchedAt: asked, savedAt: new Date().toISOString(), offline: false, error: null, loaded: true });
  await store.setMeta("jobs", { jobs, fetched_at: asked, saved_at: state.savedAt });
  await store.setMeta("jobs_known", jobs.map((j) => j.complaint_id));
  const added = known === null ? [] : jobs.filter((j) => !known.includes(j.complaint_id));
  const ids = new Set(jobs.map((j) => j.complaint_id));
  const removed = before.filter((j) => !ids.has(j.complaint_id));
  await settleFinished(jobs);
  if (announce) {
    for (const job of added.reverse()) push.announce(job);
    await noticeRemoved(removed);
  }
  await store.setMeta("jobs_new", [...new Set([...(await newIds()), ...added.map((j) => j.complaint_id)])]);
  emit();
  return { added, removed };
}

async function loadKept(error) {
  const kept = await store.getMeta("jobs", null);
  Object.assign(state, {
    jobs: kept ? kept.jobs : state.jobs, fetchedAt: kept ? kept.fetched_at : state.fetchedAt,
    savedAt: kept ? kept.saved_at : state.savedAt, offline: true, error, loaded: true,
  });
  emit();
}

// A job gone from the list that the officer neither declined nor reported on was taken away.
async function noticeRemoved(removed) {
  const entries = await outbox.entries();
  const finished = await finishedJobs();
  for (const job of removed) {
    const mine = entries.some((e) => e.complaint_id === job.complaint_id
      && (e.kind === "complaint.decline" || e.kind === "complaint.feedback") && e.state !== "attention");
    if (mine || finished.some((f) => f.job.complaint_id === job.complaint_id)) continue;
    push.notice(t("Job {tracking_no} was taken away from you: {category}, {address}.", {
      tracking_no: job.tracking_no, category: job.category_name, address: job.address,
    }), `removed-${job.complaint_id}`);
  }
}

export async function newIds() {
  return (await store.getMeta("jobs_new", [])) || [];
}

export async function seen(complaintId) {
  await store.setMeta("jobs_new", (await newIds()).filter((id) => id !== complaintId));
}

// --- jobs answered with feedback: 「待核查」 on the phone for a day ---

export async function finishedJobs() {
  const all = (await store.getMeta("jobs_finished", [])) || [];
  return all.filter((f) => Date.now() - Date.parse(f.at) < FINISHED_FOR_MS);
}

export async function finish(job) {
  const rest = (await finishedJobs()).filter((f) => f.job.complaint_id !== job.complaint_id);
  await store.setMeta("jobs_finished", [{ job: { ...job, status: "fed_back" }, at: new Date().toISOString() }, ...rest]);
  emit();
}

// A job sent back for rework is the officer's again: it leaves the finished ones.
async function settleFinished(jobs) {
  const ids = new Set(jobs.filter((j) => j.status !== "fed_back").map((j) => j.complaint_id));
  const entries = await outbox.entries();
  const finished = (await finishedJobs()).filter((f) => {
    const back = jobs.find((j) => j.complaint_id === f.job.complaint_id);
    return !(ids.has(f.job.complaint_id) && progress(back, entries).status !== "fed_back");
  });
  await store.setMeta("jobs_finished", finished);
}

// The kept list, loaded at start (screens opened before it is read wait for it).
let ready = Promise.resolve();

async function loadAtStart() {
  const kept = await store.getMeta("jobs", null);
  if (kept) Object.assign(state, { jobs: kept.jobs, fetchedAt: kept.fetched_at, savedAt: kept.saved_at, loaded: true });
}

// Loads the kept list at start, then asks the server.
export async function start() {
  ready = loadAtStart();
  await ready;
  outbox.subscribe((entry) => {
    if (entry.complaint_id && entry.state !== "pending") {
      if (entry.state === "done" && entry.kind !== "complaint.media") refresh();
      emit();
    }
  });
  window.addEventListener("online", () => refresh());
  await refresh();
}

// The open jobs with where each stands on the phone, new ones first, and the finished ones.
export async function snapshot() {
  await ready;
  const entries = await outbox.entries();
  const fresh = new Set(await newIds());
  const active = [];
  for (const job of state.jobs) {
    const prog = progress(job, entries);
    if (prog.declined || prog.status === "fed_back") continue;
    const attention = entries.filter((e) => e.complaint_id === job.complaint_id && e.state === "attention").length;
    active.push({ job, prog, attention, fresh: fresh.has(job.complaint_id) });
  }
  active.sort((a, b) => Number(b.fresh) - Number(a.fresh));
  // A report refused by the server keeps its job among the open ones, with the refusal.
  const open = new Set(active.map((a) => a.job.complaint_id));
  const finished = (await finishedJobs()).filter((f) => !open.has(f.job.complaint_id));
  return { active, finished, offline: state.offline, savedAt: state.savedAt, loaded: state.loaded, error: state.error };
}

export async function find(complaintId) {
  await ready;
  const job = state.jobs.find((j) => j.complaint_id === complaintId);
  if (job) return { job, finished: false };
  const finished = (await finishedJobs()).find((f) => f.job.complaint_id === complaintId);
  return finished ? { job: finished.job, finished: true } : null;
}

export function counts() {
  return state.jobs.length;
}

// --- the clock and the distance shown with a job ---

// The running clock the officer works against (arrival first, then handling), with the steps
// already taken on the phone stopping theirs.
export function runningClock(job, status) {
  const stopped = new Set();
  if (ORDER.indexOf(status) >= ORDER.indexOf("on_scene")) stopped.add("arrive");
  if (ORDER.indexOf(status) >= ORDER.indexOf("fed_back")) stopped.add("handle");
  const running = (job.clocks || []).filter((c) => c.due && c.started_at && !c.stopped_at
    && c.state !== "paused" && c.state !== "done" && !stopped.has(c.stage));
  const own = running.filter((c) => c.stage === "arrive" || c.stage === "handle");
  return (own.length ? own : running).sort((a, b) => Date.parse(a.due) - Date.parse(b.due))[0] || null;
}

function serverNow() {
  return Date.now() + (api.state.session?.clock_offset_ms || 0);
}

function clockText(seconds) {
  const s = Math.abs(Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

// Fills every [data-due] element under ``root`` with its countdown; red once overdue.
export function tick(root) {
  for (const el of root.querySelectorAll("[data-due]")) {
    const left = (Date.parse(el.dataset.due) - serverNow()) / 1000;
    el.textContent = left >= 0
      ? t("{clock}: {time} left", { clock: el.dataset.clock, time: clockText(left) })
      : t("{clock}: overdue by {time}", { clock: el.dataset.clock, time: clockText(left) });
    el.classList.toggle("overdue", left < 0);
    el.dataset.overdue = String(left < 0);
  }
}

export function countdown(job, status) {
  const clock = runningClock(job, status);
  if (!clock) return null;
  return h("span", { class: "countdown", "data-due": clock.due, "data-clock": clock.label, "data-stage": clock.stage });
}

export function distanceTo(job, fix) {
  if (!fix || job.lon === null || job.lon === undefined) return null;
  return duty.distance(fix.lon, fix.lat, job.lon, job.lat);
}

// --- the list (「派单」 tab) ---

function jobCard({ job, prog, attention, fresh }, fix) {
  const d = distanceTo(job, fix);
  return h("a", {
    class: `job-card ${job.priority === "urgent" ? "job-urgent" : ""}`, href: `#/job/${job.complaint_id}`,
    "data-job-id": job.complaint_id, "data-status": prog.status,
  },
  h("div", { class: "task-head" },
    h("strong", { class: "job-category" }, job.category_name),
    fresh ? h("span", { class: "status st-new" }, t("New")) : null,
    h("span", { class: `status ${job.priority === "urgent" ? "st-urgent" : "st-todo"}` }, job.priority_label)),
  h("div", { class: "task-address" }, job.address || ""),
  h("div", { class: "task-meta" },
    d === null ? null : h("span", { class: "task-distance", "data-distance": Math.round(d) }, t("{distance} away", { distance: metres(d) })),
    countdown(job, prog.status)),
  h("div", { class: "job-state" }, statusLabel(prog.status),
    prog.pending ? h("span", { class: "warn-text" }, " · ", t("Waiting to upload")) : null),
  attention ? h("div", { class: "attention-text" }, t("{n} need attention", { n: attention })) : null);
}

export async function renderJobs(el) {
  const list = h("ul", { class: "task-list", id: "job-list" });
  const note = h("p", { class: "muted", id: "jobs-note" });
  const done = h("div", { id: "jobs-finished" });
  add(el, note, list, done);
  const draw = async () => {
    const snap = await snapshot();
    const fix = duty.here();
    note.textContent = !snap.loaded ? t("Loading…")
      : snap.offline ? t("No network: the list saved at {time} is shown.", { time: new Date(snap.savedAt || Date.now()).toLocaleTimeString("zh-CN", { hour12: false }) })
        : "";
    put(list, ...(snap.active.length ? snap.active.map((item) => h("li", null, jobCard(item, fix)))
      : [h("li", { class: "empty" }, t("No complaint jobs for you now."))]));
    put(done, ...(snap.finished.length ? [h("h2", null, t("Reported back")), h("ul", { class: "task-list" },
      snap.finished.map((f) => h("li", null, h("a", { class: "job-card job-finished", href: `#/job/${f.job.complaint_id}`, "data-job-id": f.job.complaint_id, "data-status": "fed_back" },
        h("strong", { class: "job-category" }, f.job.category_name),
        h("div", { class: "task-address" }, f.job.address || ""),
        h("div", { class: "job-state" }, statusLabel("fed_back"))))))] : []));
    tick(el);
  };
  await draw();
  onLeave(subscribe(() => draw()));
  onLeave(duty.subscribe(() => draw()));
  const timer = setInterval(() => tick(el), 1000);
  onLeave(() => clearInterval(timer));
  if (!duty.here()) {
    api.position({ timeout: 8000 }).then((fix) => {
      if (!fix || fix.error || !el.isConnected) return;
      for (const card of el.querySelectorAll("[data-job-id]")) {
        const found = state.jobs.find((j) => j.complaint_id === Number(card.dataset.jobId));
        const d = found ? distanceTo(found, fix) : null;
        if (d === null || card.querySelector("[data-distance]")) continue;
        card.querySelector(".task-meta").prepend(h("span", { class: "task-distance", "data-distance": Math.round(d) }, t("{distance} away", { distance: metres(d) })));
      }
    });
  }
}
