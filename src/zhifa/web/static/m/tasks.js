// Today's tasks, the task screen and check-in (签到).
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import { fenceDistance } from "./geo.js";
import { h, t, add, dialog, localDateTime, localTime, metres, onLeave, put, uuid } from "./ui.js";

const STATUS_CLASS = { planned: "st-todo", in_progress: "st-busy", submitted: "st-done", cancelled: "st-off" };

export async function renderToday(el) {
  add(el, h("h1", null, t("Today's tasks")));
  const note = h("p", { class: "muted", id: "today-note" }, t("Finding your position…"));
  add(el, note);
  const fix = await api.position({ timeout: 8000 });
  const here = fix && !fix.error ? fix : null;
  let result;
  try {
    result = await api.todayTasks(here);
  } catch (error) {
    note.textContent = t("The task list cannot be loaded: {error}", { error: error.message });
    return;
  }
  const tasks = result.tasks.map((task) => ({ ...task, distance_m: distanceOf(task, here) }));
  if (result.offline) tasks.sort((a, b) => (a.distance_m ?? Infinity) - (b.distance_m ?? Infinity));
  note.textContent = result.offline
    ? t("No network: the list saved at {time} is shown.", { time: localTime(result.saved_at) })
    : here ? t("Nearest first.") : t("Position unknown: in the order of the time windows.");
  if (!tasks.length) {
    add(el, h("p", { class: "empty" }, t("No tasks for today.")));
    return;
  }
  const attention = await attentionByTask();
  add(el, h("ul", { class: "task-list" }, tasks.map((task) => h("li", null, taskCard(task, attention)))));
}

function distanceOf(task, here) {
  if (task.distance_m !== undefined && task.distance_m !== null) return task.distance_m;
  const subject = task.subject || {};
  if (!here || subject.lon === null || subject.lon === undefined) return null;
  return fenceDistance({ geofence_radius_m: 0.001, lon: subject.lon, lat: subject.lat }, here.lon, here.lat);
}

async function attentionByTask() {
  const counts = {};
  for (const entry of await outbox.entries()) {
    if (entry.state === "attention") counts[entry.task_id] = (counts[entry.task_id] || 0) + 1;
  }
  return counts;
}

function taskCard(task, attention) {
  const subject = task.subject || {};
  const checkIn = outcomeOf(task.my_check_in);
  return h("a", { class: "task-card", href: `#/task/${task.id}`, "data-task-id": task.id },
    h("div", { class: "task-head" },
      h("strong", { class: "task-subject" }, subject.name || task.title),
      h("span", { class: `status ${STATUS_CLASS[task.status] || ""}` }, task.status_label || task.status)),
    task.title ? h("div", { class: "task-title" }, task.title) : null,
    h("div", { class: "task-address" }, subject.address || ""),
    h("div", { class: "task-meta" },
      h("span", null, t("Window {start}–{end}", { start: localTime(task.window_start), end: localTime(task.window_end) })),
      task.distance_m !== null && task.distance_m !== undefined
        ? h("span", { class: "task-distance" }, t("{distance} away", { distance: metres(task.distance_m) })) : null),
    checkIn ? h("div", { class: "task-checkin" }, checkInLabel(checkIn)) : null,
    attention[task.id] ? h("div", { class: "attention-text" }, t("{n} need attention", { n: attention[task.id] })) : null);
}

export function outcomeOf(value) {
  if (!value) return null;
  return typeof value === "string" ? value : value.outcome;
}

function checkInLabel(outcome) {
  return {
    accepted: t("Checked in"),
    refused: t("Check-in refused"),
    exception_pending: t("Exception awaiting approval"),
    exception_approved: t("Exception approved"),
    exception_rejected: t("Exception rejected"),
  }[outcome] || outcome;
}

// --- the task: loaded once per screen, with the officer's draft ---

export async function loadTask(taskId) {
  const loaded = await api.bundle(taskId);
  const draft = await api.draft(taskId);
  return { taskId, ...loaded, draft };
}

const TABS = [
  ["overview", "Task"],
  ["checklist", "Checklist"],
  ["evidence", "Gathered evidence"],
  ["documents", "Documents"],
  ["submit", "Submit"],
];

// The task's heading, tabs and warnings (offline copy, task gone, entries needing attention).
export async function taskFrame(el, task, active) {
  const b = task.bundle;
  add(el, 
    h("h1", { class: "task-name" }, b.subject?.name || b.title),
    h("nav", { class: "tabs" }, TABS.map(([key, label]) => h("a", {
      href: `#/task/${task.taskId}${key === "overview" ? "" : "/" + key}`,
      class: key === active ? "tab active" : "tab", "data-tab": key,
    }, t(label)))));
  if (task.error && !(task.error instanceof api.Offline) && !(task.error instanceof api.LoginNeeded)) {
    add(el, h("p", { class: "banner banner-warn" }, t("The server says: {message}", { message: task.error.message }),
      " ", t("Your work on this phone is kept.")));
  } else if (task.offline) {
    add(el, h("p", { class: "muted" }, t("Saved copy from {time}.", { time: localDateTime(task.saved_at) })));
  }
  if (b.status === "cancelled") add(el, h("p", { class: "banner banner-warn" }, t("This task was cancelled. Your work on this phone is kept.")));
  const box = h("div", { class: "attention-box" });
  add(el, box);
  const drawAttention = async () => put(box, ...await attentionList(task.taskId));
  await drawAttention();
  onLeave(outbox.subscribe(() => drawAttention()));
}

async function attentionList(taskId) {
  const entries = (await outbox.forTask(taskId)).filter((e) => e.state === "attention");
  return entries.map((entry) => h("div", { class: "attention", "data-attention": entry.uuid },
    h("strong", null, t("Needs attention: {what}", { what: entry.label || entry.kind })),
    h("p", { class: "attention-message" }, entry.last_error || ""),
    h("button", {
      class: "btn btn-secondary", type: "button",
      onclick: async () => {
        const sure = await dialog({
          title: t("Remove this item?"),
          body: t("The server did not accept it. Remove it from this phone? This cannot be undone."),
          confirm: t("Remove"), danger: true,
        });
        if (sure) await outbox.dismiss(entry.uuid);
      },
    }, t("Seen, remove"))));
}

// --- the task screen ---

export async function renderTask(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "overview");
  const b = task.bundle;
  const subject = b.subject || {};
  add(el, 
    h("section", { class: "card" },
      h("h2", null, t("Subject")),
      row(t("Name"), subject.name),
      row(t("Type"), subject.kind_label || subject.kind),
      subject.uscc ? row(t("Unified social credit code"), subject.uscc) : null,
      subject.representative ? row(t("Representative"), subject.representative) : null,
      subject.phone ? row(t("Phone"), subject.phone) : null,
      row(t("Address"), subject.address),
      subject.risk_label ? row(t("Risk level"), subject.risk_label) : null,
      (subject.licences || []).map((l) => row(t("Licence"), [l.name, l.number].filter(Boolean).join(" "))),
      row(t("Time window"), `${localTime(b.window_start)}–${localTime(b.window_end)}`)),
    h("section", { class: "card" },
      h("h2", null, t("Officers")),
      h("ul", { class: "officers" }, (b.officers || []).map((o) => h("li", { "data-officer": o.id },
        `${o.name}（${t("Cert. no. {no}", { no: o.cert_no || "—" })}）`,
        (b.present_officer_ids || []).includes(o.id) ? h("span", { class: "status st-done" }, t("On site")) : null)))));
  const fence = h("p", { id: "fence-distance", class: "fence" }, t("Finding your position…"));
  add(el, h("section", { class: "card" }, h("h2", null, t("Check-in")), fence, await checkInPanel(task)));
  api.position({ timeout: 10000 }).then((fix) => {
    if (!fix || fix.error) { fence.textContent = t("Position unknown."); return; }
    const d = fenceDistance(subject, fix.lon, fix.lat);
    fence.textContent = d === null ? t("This subject has no fence.")
      : d === 0 ? t("You are inside the fence.") : t("About {distance} from the fence.", { distance: metres(d) });
  });
}

function row(label, value) {
  return h("div", { class: "row" }, h("span", { class: "label" }, label), h("span", { class: "value" }, value || ""));
}

async function latestCheckIn(task) {
  const mine = (await outbox.forTask(task.taskId)).filter((e) => e.kind === "check_in");
  return mine.length ? mine[mine.length - 1] : null;
}

async function checkInPanel(task) {
  const panel = h("div", { id: "check-in-panel" });
  const result = h("div", { id: "check-in-result", "aria-live": "polite" });
  const button = h("button", {
    id: "check-in", class: "btn btn-primary btn-big", type: "button",
    onclick: () => checkIn(task, button, result, null),
  }, t("Check in"));
  add(panel, button, result);
  const entry = await latestCheckIn(task);
  if (entry) {
    showResult(task, entry, result, button);
  } else if (outcomeOf(task.bundle.my_check_in)) {
    const outcome = outcomeOf(task.bundle.my_check_in);
    put(result, h("p", { class: outcome === "accepted" || outcome === "exception_approved" ? "ok-text" : "muted" }, checkInLabel(outcome)));
  }
  return panel;
}

async function checkIn(task, button, result, exceptionReason) {
  button.disabled = true;
  put(result, h("p", { class: "muted" }, t("Finding your position…")));
  const fix = await api.position();
  if (!fix || fix.error) {
    button.disabled = false;
    put(result, h("p", { class: "refusal" }, t("The phone cannot find its position. Turn on location and try again.")));
    return;
  }
  // An earlier refusal of this task has been read: the officer acts on it now.
  for (const old of await outbox.forTask(task.taskId)) {
    if (old.kind === "check_in" && old.state === "attention" && old.error_code === "check_in_refused") {
      await outbox.dismiss(old.uuid);
    }
  }
  const id = uuid();
  const offline = !navigator.onLine;
  await outbox.enqueue({
    uuid: id, method: "POST", url: `/api/v1/tasks/${task.taskId}/check-ins`, kind: "check_in",
    task_id: task.taskId, label: exceptionReason ? t("Exception check-in") : t("Check-in"),
    body: {
      client_uuid: id, lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m,
      device_time: new Date().toISOString(), offline, exception_reason: exceptionReason,
    },
  });
  task.draft.check_ins.push({ uuid: id, at: new Date().toISOString(), offline });
  await api.saveDraft(task.draft);
  const entry = await outbox.settled(id, offline ? 0 : 15000);
  button.disabled = false;
  showResult(task, entry, result, button);
}

function showResult(task, entry, result, button) {
  if (!entry) return;
  if (entry.state === "done") {
    const read = entry.response || {};
    const ok = read.outcome === "accepted" || read.outcome === "exception_approved";
    put(result, h("p", { class: ok ? "ok-text big" : "warn-text big", "data-outcome": read.outcome },
      read.outcome === "exception_pending" ? t("Exception check-in sent: waiting for the squad leader.")
        : ok ? t("Checked in.") : (read.message || checkInLabel(read.outcome))));
    if (ok) {
      button.textContent = t("Check in again");
      api.bundle(task.taskId).catch(() => null);
    }
    return;
  }
  if (entry.state === "attention") {
    const refused = entry.error_code === "check_in_refused";
    put(result, 
      h("p", { class: "refusal", role: "alert", "data-refusal": entry.response?.error?.detail?.refusal || "" }, entry.last_error),
      refused ? h("button", {
        id: "check-in-exception", class: "btn btn-secondary btn-big", type: "button",
        onclick: async () => {
          const values = await dialog({
            title: t("Ask for an exception check-in"),
            body: t("A squad leader approves or rejects it; either way it is recorded."),
            fields: [{ id: "exception-reason", label: t("Reason"), multiline: true, required: t("Write the reason.") }],
            confirm: t("Send"),
          });
          if (values) await checkIn(task, button, result, values["exception-reason"]);
        },
      }, t("Ask for an exception check-in")) : null);
    return;
  }
  put(result, h("p", { class: "warn-text big", "data-outcome": "queued" },
    t("Check-in recorded on this phone with its time and position; it is sent and checked when the network returns.")));
}
