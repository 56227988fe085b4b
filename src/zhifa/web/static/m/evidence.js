// Evidence (证据): photos, video and audio from the phone or from files, for an item or for the
// inspection. Each file is queued as one PUT of its bytes under its own UUID.
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import { h, t, add, onLeave, put, toast, uuid } from "./ui.js";
import { loadTask, taskFrame } from "./tasks.js";

const KIND_LABELS = { photo: "Photo", video: "Video", audio: "Audio" };

function kindOf(file, wanted) {
  if (wanted) return wanted;
  if (file.type.startsWith("video/")) return "video";
  if (file.type.startsWith("audio/")) return "audio";
  return "photo";
}

export async function thumbnail(file) {
  if (!file.type.startsWith("image/")) return null;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = 160 / Math.max(bitmap.width, bitmap.height);
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.7);
  } catch (error) {
    return null;
  }
}

// Queues each file as an evidence upload of the task (before its submission, in order).
export async function addFiles(task, files, { item_code = null, kind = null } = {}) {
  for (const file of files) {
    const id = uuid();
    const evidenceKind = kindOf(file, kind);
    const query = new URLSearchParams({ kind: evidenceKind, device_time: new Date().toISOString(), name: file.name || "" });
    if (item_code) query.set("item_code", item_code);
    task.draft.evidence.push({
      uuid: id, kind: evidenceKind, item_code, name: file.name || "", size: file.size,
      media_type: file.type, thumb: await thumbnail(file), created_at: new Date().toISOString(),
    });
    await api.saveDraft(task.draft);
    const body = new Blob([await file.arrayBuffer()], { type: file.type || "application/octet-stream" });
    await outbox.enqueue({
      uuid: id, method: "PUT", url: `/api/v1/tasks/${task.taskId}/evidence/${id}?${query}`,
      body, kind: "evidence", task_id: task.taskId,
      label: t("{kind} {name}", { kind: t(KIND_LABELS[evidenceKind]), name: file.name || "" }),
    });
  }
  if (files.length) toast(t("{n} files kept for upload.", { n: files.length }));
}

export async function renderEvidence(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "evidence");
  const locked = Boolean(task.draft.submitted_at);
  const target = h("select", { id: "evidence-item" },
    h("option", { value: "" }, t("The inspection as a whole")),
    (task.bundle.checklist?.items || []).map((item, i) => h("option", { value: item.code }, `${i + 1}. ${item.text}`)));
  const grid = h("div", { class: "thumbs", id: "evidence-list" });
  const picker = (label, accept, capture, kind, id) => h("label", { class: "btn btn-secondary btn-big file-button" }, label,
    h("input", {
      type: "file", id, accept, capture, class: "visually-hidden", multiple: !capture,
      onchange: async (event) => {
        await addFiles(task, [...event.target.files], { item_code: target.value || null, kind });
        event.target.value = "";
        await draw();
      },
    }));
  add(el, 
    locked ? h("p", { class: "banner banner-info" }, t("Submitted: evidence can no longer be added.")) : h("div", { class: "card" },
      h("label", { class: "field" }, h("span", null, t("For")), target),
      h("div", { class: "pickers" },
        picker(t("Take a photo"), "image/*", "environment", "photo", "evidence-photo"),
        picker(t("Record video"), "video/*", "environment", "video", "evidence-video"),
        picker(t("Record audio"), "audio/*", "user", "audio", "evidence-audio"),
        picker(t("Choose a file"), "image/*,video/*,audio/*", null, null, "evidence-file"))),
    h("h2", null, t("Evidence of this task")), grid);
  const draw = async () => {
    const states = Object.fromEntries((await outbox.forTask(task.taskId)).map((e) => [e.uuid, e]));
    const fresh = await api.draft(task.taskId);
    task.draft.evidence = fresh.evidence;
    put(grid, ...(task.draft.evidence.length ? task.draft.evidence.map((e) => evidenceTile(e, states[e.uuid]))
      : [h("p", { class: "empty" }, t("No evidence yet."))]));
  };
  await draw();
  onLeave(outbox.subscribe(() => draw()));
}

export function stateLabel(entry) {
  if (!entry) return t("Uploaded");
  if (entry.state === "done") return t("Uploaded");
  if (entry.state === "attention") return t("Needs attention");
  return t("Waiting to upload");
}

function evidenceTile(e, entry) {
  return h("figure", { class: "thumb", "data-evidence": e.uuid, "data-state": entry ? entry.state : "done" },
    e.thumb ? h("img", { src: e.thumb, alt: e.name }) : h("div", { class: "thumb-kind" }, t(KIND_LABELS[e.kind] || "Photo")),
    h("figcaption", null, e.item_code ? e.item_code : t("Whole inspection"), h("br"), stateLabel(entry)));
}
