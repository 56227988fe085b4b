// Submitting (提交): the inspection result first, then its documents, each with its own UUID made
// when the officer presses the button; then what the server answered: numbers and links.
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import { h, t, add, dialog, localDate, onLeave, put, uuid } from "./ui.js";
import { loadTask, taskFrame, outcomeOf } from "./tasks.js";
import { items, progress, submitted, partyType, penaltyState } from "./checklist.js";
import { queueDocument } from "./documents.js";
import { stateLabel } from "./evidence.js";

function answerOf(task, item) {
  const a = task.draft.answers[item.code] || {};
  const answer = { item_code: item.code, result: a.result };
  if (a.result === "not_applicable") answer.reason = a.reason.trim();
  if (a.result !== "fail") return answer;
  Object.assign(answer, { reason: a.reason.trim(), measure: a.measure, power_code: a.power_code || null });
  if (a.measure === "rectify") answer.rectify_deadline = a.rectify_deadline;
  if (a.measure === "on_spot_penalty") {
    const state = penaltyState(task, item, a);
    const facts = state.quote.needs_facts?.length ? typed(a.facts || {}) : {};
    // The amount the party was shown (computed online, or on the phone offline) is sent as the
    // amount decided: if the server's engine arrives at another figure, it refuses the submission
    // instead of silently printing a different fine.
    const shown = state.evaluation && state.evaluation.recommended_fen != null ? state.evaluation.recommended_fen : null;
    answer.penalty = { act_date: localDate(), party_type: partyType(task), facts, circumstances: [], chosen_fen: shown, reason: "" };
  }
  return answer;
}

function typed(facts) {
  const out = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value !== "" && value !== null && value !== undefined) out[key] = /^-?\d+$/.test(String(value)) ? Number(value) : String(value);
  }
  return out;
}

function autoSummary(task) {
  const list = items(task.bundle).map((item) => (task.draft.answers[item.code] || {}).result);
  const count = (r) => list.filter((x) => x === r).length;
  return t("{total} items checked: {pass} compliant, {fail} non-compliant, {na} not applicable.", {
    total: list.length, pass: count("pass"), fail: count("fail"), na: count("not_applicable"),
  });
}

async function checkedIn(task) {
  if (["accepted", "exception_approved", "exception_pending"].includes(outcomeOf(task.bundle.my_check_in))) return true;
  const mine = (await outbox.forTask(task.taskId)).filter((e) => e.kind === "check_in");
  return mine.some((e) => e.state === "pending" || ["accepted", "exception_pending"].includes(e.response?.outcome));
}

export async function renderSubmit(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "submit");
  if (task.draft.submitted_at || submitted(task)) {
    await results(el, task);
    return;
  }
  const { done, total } = progress(task);
  const present = await checkedIn(task);
  const docs = task.draft.documents.filter((d) => d.confirmed_at);
  const unsigned = task.draft.documents.filter((d) => !d.confirmed_at);
  const summary = h("textarea", { id: "summary", rows: 4, value: task.draft.summary || autoSummary(task) });
  summary.addEventListener("input", () => { task.draft.summary = summary.value; api.saveDraft(task.draft); });
  const ready = done === total && total > 0 && present;
  add(el, 
    h("section", { class: "card" },
      h("p", { id: "submit-progress", class: done === total ? "ok-text" : "warn-text" }, t("Answered {done}/{total}", { done, total })),
      present ? null : h("p", { class: "warn-text" }, t("Check in first.")),
      h("p", null, t("Evidence: {n} files", { n: task.draft.evidence.length })),
      h("p", null, t("Signed documents: {n}", { n: docs.length })),
      unsigned.length ? h("p", { class: "warn-text" }, t("{n} documents are not signed yet and are not sent.", { n: unsigned.length })) : null,
      h("label", { class: "field" }, h("span", null, t("Summary of the inspection")), summary)),
    h("button", {
      type: "button", id: "submit", class: "btn btn-primary btn-big", disabled: !ready,
      onclick: async () => {
        const sure = await dialog({
          title: t("Submit the inspection?"),
          body: t("After submission the answers cannot be changed; a correction is a separate, reasoned amendment."),
          confirm: t("Submit"),
        });
        if (!sure) return;
        await submit(task, summary.value.trim());
        location.hash = `#/task/${task.taskId}/submit`;
        put(el);
        await renderSubmit(el, where);
      },
    }, t("Submit")),
    ready ? null : h("p", { class: "muted" }, t("Submit is available once every item is answered and you have checked in.")));
}

async function submit(task, summary) {
  const id = uuid();
  task.draft.submission_uuid = id;
  task.draft.submitted_at = new Date().toISOString();
  task.draft.summary = summary;
  await api.saveDraft(task.draft);
  await outbox.enqueue({
    uuid: id, method: "POST", url: `/api/v1/tasks/${task.taskId}/inspection/submit`, kind: "submission",
    task_id: task.taskId, label: t("Inspection result"),
    body: {
      client_uuid: id,
      checklist_sha256: task.bundle.checklist_sha256,
      device_time: task.draft.submitted_at,
      summary,
      answers: items(task.bundle).map((item) => answerOf(task, item)),
      evidence_uuids: task.draft.evidence.map((e) => e.uuid),
    },
  });
  for (const doc of task.draft.documents.filter((d) => d.confirmed_at)) await queueDocument(task, doc);
}

async function results(el, task) {
  const box = h("section", { class: "card", id: "results" });
  add(el, box);
  const draw = async () => {
    const entries = (await outbox.forTask(task.taskId)).filter((e) => e.kind === "submission" || e.kind === "document");
    const sent = entries.length ? entries : [];
    put(box, 
      h("h2", null, t("Upload result")),
      sent.length ? null : h("p", null, t("Submitted.")),
      sent.map((e) => resultRow(e)));
  };
  await draw();
  onLeave(outbox.subscribe(() => draw()));
}

function resultRow(entry) {
  const row = h("div", { class: "result", "data-result-kind": entry.kind, "data-state": entry.state },
    h("strong", null, entry.label), " ", h("span", { class: "status" }, stateLabel(entry)));
  if (entry.state === "attention") add(row, h("p", { class: "attention-message" }, entry.last_error || ""));
  if (entry.state === "done" && entry.kind === "document") {
    const d = entry.response || {};
    add(row, 
      h("p", { class: "doc-number", "data-number": d.number_text || "" }, d.number_text || ""),
      h("p", null,
        d.pdf_url ? h("a", { class: "btn btn-secondary", href: d.pdf_url, target: "_blank", "data-pdf-link": true }, t("Open the PDF")) : null, " ",
        d.public_id ? h("a", { class: "btn btn-secondary", href: `/verify/${d.public_id}`, target: "_blank", "data-verify-link": true }, t("Verification page")) : null));
  }
  if (entry.state === "done" && entry.kind === "submission") add(row, h("p", { class: "ok-text" }, t("The inspection result was received by the command centre.")));
  return row;
}
