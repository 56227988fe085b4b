// One complaint job: what was reported, where (a small map), the clock, and the officer's steps
// as big buttons in order: 接单 / 拒单 → 到场 (a fresh fix, judged by the server) → 处置 (the
// measure, a note, photos before and after) → 反馈 (the result, prefilled) → 「待核查」.
// Every step and photo is an outbox entry under a UUID made when the officer acted: offline they
// wait on the phone and are sent in order; a refusal is shown beside the job, never dropped.
import * as api from "./api.js";
import * as duty from "./duty.js";
import * as jobs from "./jobs.js";
import * as outbox from "./outbox.js";
import * as push from "./push.js";
import * as store from "./store.js";
import { thumbnail } from "./evidence.js";
import { h, t, add, dialog, metres, onLeave, put, toast, uuid } from "./ui.js";

// The measures of a quick disposal (labels shared with the server's).
const MEASURES = [
  ["persuaded", "Persuaded to leave"],
  ["educated", "Education"],
  ["ordered_correction", "Ordered to correct"],
  ["cleared", "Cleared on site"],
  ["not_found", "Nothing found on site"],
  ["other", "Other"],
];
const DECLINE_REASONS = [
  "Not in my area",
  "Busy with another job",
  "Vehicle or equipment problem",
  "Unwell",
];
const ROLE_LABELS = { before: "Before handling", after: "After handling" };
const WAIT_MS = 15000;
// Steps shown in the steps panel itself (with their refusal), not in the attention box.
const PANEL_KINDS = new Set(["complaint.arrive"]);

const draftKey = (id) => `complaint:${id}`;

function blankDraft(id) {
  return { task_id: draftKey(id), complaint_id: id, measure: null, note: "", photos: [], feedback: null, sent_at: null };
}

async function loadDraft(id) {
  return (await store.get("drafts", draftKey(id))) || blankDraft(id);
}

function measureLabel(code) {
  const found = MEASURES.find(([key]) => key === code);
  return found ? t(found[1]) : "";
}

function prefill(draft) {
  const text = t("Handled on site: {measure}.", { measure: measureLabel(draft.measure) });
  return draft.note ? `${text}${draft.note}` : text;
}

export async function renderJob(el, where) {
  const id = where.complaintId;
  push.dismiss(id);
  await jobs.seen(id);
  const found = await jobs.find(id);
  if (!found) {
    add(el, h("p", { class: "refusal", id: "job-gone" }, t("This job is no longer assigned to you.")),
      h("a", { class: "btn btn-secondary btn-big", href: "#/jobs" }, t("Back to the jobs")));
    return;
  }
  const ctx = { id, job: found.job, draft: await loadDraft(id), el, key: null };
  add(el, h("a", { class: "back-link", href: "#/jobs" }, t("Back to the jobs")));
  const head = h("div", { id: "job-head" });
  const facts = h("section", { class: "card", id: "job-facts" });
  const mapBox = h("div", { id: "job-map", class: "job-map" });
  const steps = h("section", { class: "card", id: "job-steps" });
  add(el, head, facts, mapBox, h("p", { class: "map-legend muted" },
    h("span", { class: "dot dot-job" }), t("Reported place"), " ", h("span", { class: "dot dot-me" }), t("You")), steps);
  const map = drawMap(mapBox, ctx.job);
  ctx.redraw = async (force = false) => {
    const fresh = await jobs.find(id);
    if (fresh) ctx.job = fresh.job;
    ctx.entries = await outbox.forComplaint(id);
    ctx.prog = jobs.progress(ctx.job, ctx.entries);
    if (fresh && fresh.finished) ctx.prog.status = "fed_back";
    // Sent back for rework: the handling starts again from a clean draft.
    if (before(ctx.prog.status, "disposed") && ctx.draft.sent_at) {
      ctx.draft = blankDraft(id);
      await saveDraft(ctx);
    }
    drawHead(head, ctx);
    drawFacts(facts, ctx);
    const attention = ctx.entries.filter((e) => e.state === "attention").map((e) => e.uuid).join(",");
    const key = `${ctx.prog.status}|${ctx.prog.declined}|${attention}`;
    if (force || key !== ctx.key) {
      ctx.key = key;
      put(steps, ...stepsPanel(ctx));
    }
    drawPhotos(ctx);
    jobs.tick(el);
  };
  await ctx.redraw(true);
  onLeave(outbox.subscribe((entry) => { if (entry.complaint_id === id) ctx.redraw(); }));
  onLeave(jobs.subscribe(() => ctx.redraw()));
  onLeave(duty.subscribe(() => { map.place(duty.here()); drawDistance(ctx, duty.here()); }));
  const timer = setInterval(() => jobs.tick(el), 1000);
  onLeave(() => clearInterval(timer));
  onLeave(() => map.remove());
  const fix = duty.here();
  if (fix) {
    map.place(fix);
    drawDistance(ctx, fix);
  } else {
    api.position({ timeout: 10000 }).then((p) => {
      if (!p || p.error || !el.isConnected) return;
      map.place(p);
      drawDistance(ctx, p);
    });
  }
}

function before(status, than) {
  return jobs.ORDER.indexOf(status) < jobs.ORDER.indexOf(than);
}

function saveDraft(ctx) {
  return store.put("drafts", ctx.draft);
}

function drawHead(head, ctx) {
  const { job, prog } = ctx;
  put(head,
    h("h1", { class: "task-name" }, job.category_name),
    h("p", { class: "muted" }, job.tracking_no, " · ",
      h("span", { class: `status ${job.priority === "urgent" ? "st-urgent" : "st-todo"}` }, job.priority_label)),
    h("p", { id: "job-status", class: "job-status", "data-status": prog.status },
      jobs.statusLabel(prog.status),
      prog.pending ? h("span", { class: "warn-text", "data-pending": "true" }, " · ", t("Waiting to upload")) : null),
    h("p", { class: "job-clock" }, jobs.countdown(job, prog.status)),
    attentionBox(ctx));
}

function attentionBox(ctx) {
  const refused = ctx.entries.filter((e) => e.state === "attention" && !PANEL_KINDS.has(e.kind));
  return refused.map((entry) => h("div", { class: "attention", "data-attention": entry.uuid, "data-kind": entry.kind },
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

function drawFacts(facts, ctx) {
  const { job } = ctx;
  put(facts,
    h("p", { class: "job-description" }, job.description),
    row(t("Address"), job.address),
    row(t("Distance"), h("span", { id: "job-distance" }, facts.querySelector("#job-distance")?.textContent || "—")),
    row(t("Officers sent with you"), job.other_officers && job.other_officers.length ? job.other_officers.join("、") : t("None")),
    job.notice ? h("p", { class: "banner banner-warn" }, job.notice) : null);
}

function drawDistance(ctx, fix) {
  const el = document.getElementById("job-distance");
  const d = jobs.distanceTo(ctx.job, fix);
  if (el && d !== null) el.textContent = metres(d);
}

function row(label, value) {
  return h("div", { class: "row" }, h("span", { class: "label" }, label), h("span", { class: "value" }, value || ""));
}

// Leaflet with no tiles unless the deployment names some: the reported place and the officer.
function drawMap(el, job) {
  const none = { place() {}, remove() {} };
  if (!window.L || job.lon === null || job.lon === undefined) {
    el.hidden = true;
    return none;
  }
  const tiles = api.state.session?.map?.tile_url;
  const map = window.L.map(el, { attributionControl: Boolean(tiles) }).setView([job.lat, job.lon], 17);
  if (tiles) window.L.tileLayer(tiles, { attribution: api.state.session.map.attribution || "", maxZoom: 19 }).addTo(map);
  const point = window.L.circleMarker([job.lat, job.lon], { radius: 11, color: "#b3261e", weight: 3, fillColor: "#b3261e", fillOpacity: 0.7 }).addTo(map);
  let me = null;
  return {
    place(fix) {
      if (!fix) return;
      if (!me) me = window.L.circleMarker([fix.lat, fix.lon], { radius: 9, color: "#0b4f8a", weight: 3, fillColor: "#0b4f8a", fillOpacity: 0.7 }).addTo(map);
      me.setLatLng([fix.lat, fix.lon]);
      map.fitBounds(window.L.latLngBounds([point.getLatLng(), me.getLatLng()]).pad(0.4), { maxZoom: 17 });
    },
    remove() { map.remove(); },
  };
}

// --- the steps ---

function stepsPanel(ctx) {
  const { prog } = ctx;
  if (prog.declined) return [h("p", { class: "warn-text big", id: "job-declined" }, t("You declined this job; the command centre sends it again."))];
  switch (prog.status) {
    case "dispatched": return [takePanel(ctx)];
    case "taken": return [arrivePanel(ctx)];
    case "on_scene": return [disposePanel(ctx)];
    case "disposed": return [feedbackPanel(ctx)];
    default: return [h("p", { class: "ok-text big", id: "job-done" }, t("Awaiting verification")),
      h("p", { class: "muted" }, t("The result was reported; the command centre checks it and answers the citizen."))];
  }
}

// Queues one step under a new UUID; ``resolve`` names body fields the outbox fills when sending.
async function step(ctx, kind, path, body, label, resolve = null) {
  const id = uuid();
  await outbox.enqueue({
    uuid: id, method: "POST", url: `/api/v1/complaints/${ctx.id}/${path}`, body: { client_uuid: id, ...body },
    kind, complaint_id: ctx.id, label, resolve,
  });
  return id;
}

async function settle(ctx, id) {
  const entry = await outbox.settled(id, navigator.onLine ? WAIT_MS : 0);
  await ctx.redraw(true);
  return entry;
}

function takePanel(ctx) {
  const panel = h("div", { class: "step-panel" });
  const take = h("button", {
    id: "job-take", class: "btn btn-primary btn-big", type: "button",
    onclick: async () => {
      take.disabled = true;
      await settle(ctx, await step(ctx, "complaint.take", "take", {}, t("Take the job")));
    },
  }, t("Take the job"));
  add(panel, take, declineButton(ctx, panel));
  return panel;
}

function declineButton(ctx, panel) {
  return h("button", {
    id: "job-decline", class: "btn btn-secondary btn-big", type: "button",
    onclick: () => put(panel, declineForm(ctx)),
  }, t("Decline"));
}

function declineForm(ctx) {
  const text = h("textarea", { id: "decline-reason", rows: 3, placeholder: t("Why you cannot take it") });
  const error = h("p", { class: "error-text", role: "alert" });
  return h("div", { class: "decline-form" },
    h("h2", null, t("Decline the job")),
    h("div", { class: "reason-buttons" }, DECLINE_REASONS.map((reason) => h("button", {
      class: "measure", type: "button", "data-reason": reason,
      onclick: () => { text.value = text.value ? `${text.value}；${t(reason)}` : t(reason); },
    }, t(reason)))),
    h("label", { class: "field" }, h("span", null, t("Reason")), text),
    error,
    h("div", { class: "dialog-buttons" },
      h("button", { class: "btn btn-secondary", type: "button", onclick: () => ctx.redraw(true) }, t("Cancel")),
      h("button", {
        id: "decline-send", class: "btn btn-danger", type: "button",
        onclick: async (event) => {
          const reason = text.value.trim();
          if (!reason) { error.textContent = t("Write the reason."); return; }
          event.target.disabled = true;
          await settle(ctx, await step(ctx, "complaint.decline", "decline", { reason }, t("Decline")));
          toast(t("Declined: the job goes back to the command centre."));
        },
      }, t("Send"))));
}

function arrivePanel(ctx) {
  const result = h("div", { id: "arrive-result", "aria-live": "polite" });
  const button = h("button", {
    id: "job-arrive", class: "btn btn-primary btn-big", type: "button",
    onclick: () => arrive(ctx, button, result),
  }, t("Arrived on scene"));
  const refused = ctx.entries.filter((e) => e.kind === "complaint.arrive" && e.state === "attention").pop();
  if (refused) {
    put(result, h("p", { class: "refusal", role: "alert", "data-refusal": refused.error_code || "" }, refused.last_error));
    button.textContent = t("Arrived: try again");
  }
  const panel = h("div", { class: "step-panel" }, h("p", { class: "muted" }, t("Press when you are at the reported place: the phone sends its position.")), button, result);
  add(panel, declineButton(ctx, panel));
  return panel;
}

async function arrive(ctx, button, result) {
  button.disabled = true;
  put(result, h("p", { class: "muted" }, t("Finding your position…")));
  const fix = await api.position();
  if (!fix || fix.error) {
    button.disabled = false;
    put(result, h("p", { class: "refusal" }, t("The phone cannot find its position. Turn on location and try again.")));
    return;
  }
  // The earlier refusal has been read: the officer acts on it now.
  for (const old of ctx.entries) {
    if (old.kind === "complaint.arrive" && old.state === "attention") await outbox.dismiss(old.uuid);
  }
  const body = { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m, device_time: new Date().toISOString() };
  const entry = await settle(ctx, await step(ctx, "complaint.arrive", "arrive", body, t("Arrived on scene")));
  if (entry && entry.state === "pending" && !navigator.onLine) toast(t("Arrival kept on this phone; it is sent and checked when the network returns."));
}

function disposePanel(ctx) {
  const { draft } = ctx;
  const error = h("p", { class: "error-text", role: "alert", id: "dispose-error" });
  const note = h("textarea", { id: "dispose-note", rows: 3, value: draft.note, placeholder: t("What you found and did") });
  note.addEventListener("input", () => { draft.note = note.value; saveDraft(ctx); });
  const buttons = MEASURES.map(([code, label]) => h("button", {
    class: `measure ${draft.measure === code ? "chosen" : ""}`, type: "button", "data-measure": code,
    "aria-pressed": String(draft.measure === code),
    onclick: async () => {
      draft.measure = code;
      await saveDraft(ctx);
      for (const b of buttons) {
        b.classList.toggle("chosen", b.dataset.measure === code);
        b.setAttribute("aria-pressed", String(b.dataset.measure === code));
      }
    },
  }, t(label)));
  const send = h("button", {
    id: "job-dispose", class: "btn btn-primary btn-big", type: "button",
    onclick: () => dispose(ctx, send, error),
  }, t("Record the handling"));
  return h("div", { class: "step-panel" },
    h("h2", null, t("Handling")),
    h("div", { class: "measure-buttons measure-grid" }, buttons),
    h("label", { class: "field" }, h("span", null, t("Note")), note),
    h("div", { class: "pickers" }, picker(ctx, "before"), picker(ctx, "after")),
    h("div", { class: "thumbs", id: "job-photos" }),
    error, send);
}

function picker(ctx, role) {
  return h("label", { class: "btn btn-secondary btn-big file-button", "data-role": role }, t(ROLE_LABELS[role]),
    h("input", {
      type: "file", id: `photo-${role}`, accept: "image/*", capture: "environment", class: "visually-hidden",
      onchange: async (event) => {
        await addPhotos(ctx, [...event.target.files], role);
        event.target.value = "";
      },
    }));
}

async function addPhotos(ctx, files, role) {
  for (const file of files) {
    const id = uuid();
    ctx.draft.photos.push({ uuid: id, role, name: file.name || "", thumb: await thumbnail(file), created_at: new Date().toISOString() });
    await saveDraft(ctx);
    const body = new Blob([await file.arrayBuffer()], { type: file.type || "application/octet-stream" });
    await outbox.enqueue({
      uuid: id, method: "PUT", url: `/api/v1/complaints/${ctx.id}/media/${id}?role=${role}`, body,
      kind: "complaint.media", complaint_id: ctx.id, label: t(ROLE_LABELS[role]),
    });
  }
  drawPhotos(ctx);
}

function photoState(ctx, photo) {
  const entry = (ctx.entries || []).find((e) => e.uuid === photo.uuid);
  return entry ? entry.state : "done";
}

async function drawPhotos(ctx) {
  const grid = document.getElementById("job-photos");
  if (!grid) return;
  ctx.entries = await outbox.forComplaint(ctx.id);
  put(grid, ...ctx.draft.photos.map((photo) => {
    const state = photoState(ctx, photo);
    return h("figure", { class: "thumb", "data-photo": photo.uuid, "data-role": photo.role, "data-state": state },
      photo.thumb ? h("img", { src: photo.thumb, alt: photo.name }) : h("div", { class: "thumb-kind" }, t("Photo")),
      h("figcaption", null, t(ROLE_LABELS[photo.role]), h("br"),
        state === "done" ? t("Uploaded") : state === "attention" ? t("Needs attention") : t("Waiting to upload")));
  }));
}

async function dispose(ctx, button, error) {
  const { draft } = ctx;
  if (!draft.measure) { error.textContent = t("Choose the disposal measure."); return; }
  const photos = draft.photos.filter((p) => photoState(ctx, p) !== "attention");
  if (draft.measure === "not_found" ? !photos.length : !photos.some((p) => p.role === "after")) {
    error.textContent = draft.measure === "not_found"
      ? t("Attach a photo of the scene showing that nothing was found.")
      : t("Attach at least one photo taken after the handling.");
    return;
  }
  button.disabled = true;
  draft.feedback = prefill(draft);
  await saveDraft(ctx);
  const body = { measure: draft.measure, note: draft.note, media_ids: [] };
  const resolve = { media_ids: photos.map((p) => p.uuid) };
  await settle(ctx, await step(ctx, "complaint.dispose", "dispose", body, t("Record the handling"), resolve));
}

function feedbackPanel(ctx) {
  const { draft } = ctx;
  const error = h("p", { class: "error-text", role: "alert" });
  const text = h("textarea", { id: "feedback-text", rows: 4, value: draft.feedback ?? prefill(draft) });
  text.addEventListener("input", () => { draft.feedback = text.value; saveDraft(ctx); });
  const send = h("button", {
    id: "job-feedback", class: "btn btn-primary btn-big", type: "button",
    onclick: async () => {
      const result = text.value.trim();
      if (!result) { error.textContent = t("Describe the result of the handling."); return; }
      send.disabled = true;
      draft.feedback = result;
      draft.sent_at = new Date().toISOString();
      await saveDraft(ctx);
      const id = await step(ctx, "complaint.feedback", "feedback", { result }, t("Report back"));
      await jobs.finish(ctx.job);
      await settle(ctx, id);
    },
  }, t("Report back"));
  return h("div", { class: "step-panel" },
    h("h2", null, t("Report back")),
    h("label", { class: "field" }, h("span", null, t("Result of the handling")), text),
    error, send);
}
