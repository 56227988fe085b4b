// The checklist run (检查清单): every item answered 合格 / 不合格 / 不适用, with the finding, legal
// basis and measure of a 不合格 item. Answers are saved on the phone at every change.
import * as api from "./api.js";
import { h, t, add, localDate, onLeave, put, yuan } from "./ui.js";
import { loadTask, taskFrame } from "./tasks.js";
import { addFiles } from "./evidence.js";
import { computeOffline } from "./fine.js";

const RESULTS = [["pass", "Compliant"], ["fail", "Non-compliant"], ["not_applicable", "Not applicable"]];
const MEASURES = [["rectify", "Order to rectify"], ["on_spot_penalty", "On-the-spot penalty"], ["case_lead", "Recommend a case"]];

export function items(bundle) {
  return bundle.checklist?.items || [];
}

export function submitted(task) {
  return Boolean(task.draft.submitted_at) || task.bundle.inspection?.status === "submitted";
}

export function partyType(task) {
  return task.bundle.party_type || task.draft.party_type || null;
}

// The amount and whether it may be fined on the spot (简易程序, 行政处罚法 art. 51).
export function penaltyState(task, item, answer) {
  const quote = (task.bundle.quotes || {})[answer.power_code] || { needs_facts: [], evaluation: null };
  const evaluation = answer.evaluation || quote.evaluation;
  const caps = task.bundle.simple_procedure_caps || {};
  const cap = caps[`${partyType(task)}_fen`];
  let allowed = Boolean(evaluation) && evaluation.decision === "penalty";
  if (evaluation && evaluation.simple_procedure_allowed === false) allowed = false;
  if (evaluation && cap !== undefined && (evaluation.recommended_fen ?? 0) > cap) allowed = false;
  return { quote, evaluation, cap, allowed };
}

export function complete(task, item, answer) {
  if (!answer || !answer.result) return false;
  if (answer.result === "pass") return true;
  if (answer.result === "not_applicable") return Boolean(answer.reason?.trim());
  if (!answer.reason?.trim() || !answer.measure) return false;
  if (item.powers.length && !answer.power_code) return false;
  if (answer.measure === "rectify") return Boolean(answer.rectify_deadline) && answer.rectify_deadline >= localDate();
  if (answer.measure === "on_spot_penalty") return penaltyState(task, item, answer).allowed;
  return true;
}

export function progress(task) {
  const list = items(task.bundle);
  const done = list.filter((item) => complete(task, item, task.draft.answers[item.code])).length;
  return { done, total: list.length };
}

export async function renderChecklist(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "checklist");
  const locked = submitted(task);
  const bar = h("div", { id: "progress", class: "progress", "aria-live": "polite" });
  const drawProgress = () => {
    const { done, total } = progress(task);
    bar.textContent = t("Answered {done}/{total}", { done, total });
    bar.dataset.done = String(done);
    bar.dataset.total = String(total);
    bar.classList.toggle("progress-done", done === total && total > 0);
  };
  add(el, bar);
  if (!task.bundle.party_type) add(el, partyChooser(task, drawProgress, locked));
  if (locked) add(el, h("p", { class: "banner banner-info" }, t("Submitted: the answers can no longer be changed.")));
  const list = items(task.bundle);
  list.forEach((item, index) => add(el, itemCard(task, item, index, list.length, locked, drawProgress)));
  drawProgress();
  add(el, h("a", { class: "btn btn-primary btn-big", href: `#/task/${task.taskId}/submit`, id: "to-submit" }, t("Go to submit")));
}

function partyChooser(task, changed, locked) {
  const select = h("select", {
    id: "party-type", disabled: locked,
    onchange: async () => { task.draft.party_type = select.value || null; await api.saveDraft(task.draft); changed(); },
  },
  h("option", { value: "" }, t("Choose…")),
  h("option", { value: "organisation", selected: task.draft.party_type === "organisation" }, t("Organisation")),
  h("option", { value: "person", selected: task.draft.party_type === "person" }, t("Person")));
  return h("label", { class: "field card" }, h("span", null, t("The party is")), select);
}

function itemCard(task, item, index, total, locked, changed) {
  const card = h("section", { class: "item card", "data-item": item.code });
  const answer = () => task.draft.answers[item.code] || (task.draft.answers[item.code] = {});
  let saveTimer = null;
  const save = (redraw) => {
    changed();
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => api.saveDraft(task.draft), redraw ? 0 : 300);
    card.classList.toggle("item-complete", complete(task, item, answer()));
    if (redraw) draw();
  };
  onLeave(() => { clearTimeout(saveTimer); api.saveDraft(task.draft); });
  const set = (changes, redraw = true) => { Object.assign(answer(), changes); save(redraw); };

  const draw = () => {
    const a = task.draft.answers[item.code] || {};
    card.classList.toggle("item-complete", complete(task, item, a));
    card.dataset.result = a.result || "";
    put(card, 
      h("div", { class: "item-head" },
        h("span", { class: "item-no" }, `${index + 1}/${total}`),
        item.department_name ? h("span", { class: "dept" }, item.department_name) : null),
      h("h3", { class: "item-text" }, item.text),
      item.guidance ? h("p", { class: "guidance" }, item.guidance) : null,
      h("div", { class: "answer-buttons", role: "group" }, RESULTS.map(([value, label]) => h("button", {
        type: "button", disabled: locked, "data-answer": value, "aria-pressed": String(a.result === value),
        class: `answer answer-${value}${a.result === value ? " chosen" : ""}`,
        onclick: () => set({ result: value }),
      }, t(label)))),
      a.result === "not_applicable" ? textField(t("Why it does not apply"), a.reason, "reason", locked,
        (value) => set({ reason: value }, false)) : null,
      a.result === "fail" ? failPanel(task, item, a, locked, set) : null);
  };
  draw();
  return card;
}

function textField(label, value, name, locked, onInput) {
  return h("label", { class: "field" }, h("span", null, label), h("textarea", {
    rows: 3, "data-field": name, value: value || "", disabled: locked,
    oninput: (event) => onInput(event.target.value),
  }));
}

function failPanel(task, item, a, locked, set) {
  if (item.powers.length === 1 && !a.power_code) a.power_code = item.powers[0].code;
  const power = item.powers.find((p) => p.code === a.power_code);
  const allowed = item.powers.length ? MEASURES : MEASURES.slice(0, 1);
  return h("div", { class: "fail-panel" },
    textField(t("Finding (what is wrong)"), a.reason, "finding", locked, (value) => set({ reason: value }, false)),
    item.powers.length > 1 ? h("label", { class: "field" }, h("span", null, t("Power applied")),
      h("select", {
        "data-field": "power", disabled: locked,
        onchange: (event) => set({ power_code: event.target.value || null, evaluation: null, facts: {} }),
      }, h("option", { value: "" }, t("Choose…")), item.powers.map((p) =>
        h("option", { value: p.code, selected: p.code === a.power_code }, p.name)))) : null,
    power ? basis(power) : null,
    h("div", { class: "measure-buttons", role: "group" }, allowed.map(([value, label]) => h("button", {
      type: "button", disabled: locked, "data-measure": value, "aria-pressed": String(a.measure === value),
      class: `measure${a.measure === value ? " chosen" : ""}`,
      onclick: () => set({ measure: value, rectify_deadline: a.rectify_deadline || (value === "rectify" ? localDate(7) : null) }),
    }, t(label)))),
    a.measure === "rectify" ? h("label", { class: "field" }, h("span", null, t("Rectify by")), h("input", {
      type: "date", "data-field": "deadline", min: localDate(), value: a.rectify_deadline || "", disabled: locked,
      onchange: (event) => set({ rectify_deadline: event.target.value }),
    })) : null,
    a.measure === "on_spot_penalty" && power ? penaltyPanel(task, item, a, locked, set) : null,
    a.measure === "case_lead" ? h("p", { class: "muted" }, t("Recorded as a case lead for the case procedure.")) : null,
    locked ? null : h("label", { class: "btn btn-secondary file-button" }, t("Photo for this item"),
      h("input", {
        type: "file", accept: "image/*", capture: "environment", class: "visually-hidden", "data-item-photo": item.code,
        onchange: async (event) => { await addFiles(task, [...event.target.files], { item_code: item.code, kind: "photo" }); event.target.value = ""; },
      })));
}

function basis(power) {
  return h("details", { class: "basis", open: true },
    h("summary", null, t("Legal basis: {name}", { name: power.name })),
    power.penalty_text ? h("p", { class: "penalty-text" }, power.penalty_text) : null,
    (power.citations || []).map((c) => h("div", { class: "citation" },
      h("strong", null, c.label || c.title), h("p", null, c.text))));
}

function penaltyPanel(task, item, a, locked, set) {
  const state = penaltyState(task, item, a);
  const panel = h("div", { class: "penalty", "data-penalty": a.power_code });
  const ev = state.evaluation;
  if (ev) {
    add(panel, 
      h("p", { class: "fine" }, t("Fine: {amount} yuan", { amount: yuan(ev.recommended_fen) }),
        h("span", { class: "visually-hidden", "data-fine-fen": ev.recommended_fen ?? "" })),
      h("p", null, t("Degree: {level}", { level: [ev.level_label, ev.band?.label].filter(Boolean).join(" · ") })),
      h("p", { class: "muted" }, t("Basis: {citations}", { citations: (ev.citations || []).map((c) => c.label).join("；") })),
      ev.offline ? h("p", { class: "notice", "data-fine-offline": true }, t("Computed offline; the server checks it when the network returns.")) : null);
    if (!state.allowed) {
      const cap = state.cap !== undefined ? yuan(state.cap) : "";
      add(panel, h("p", { class: "refusal", "data-not-allowed": true }, ev.decision === "no_penalty"
        ? t("The benchmark gives no penalty here: no on-the-spot fine.")
        : t("Above the simple-procedure limit of {cap} yuan: an on-the-spot penalty is not allowed. Recommend a case instead.", { cap })));
    }
  }
  const needs = state.quote.needs_facts || [];
  if (needs.length) {
    const inputs = needs.map((fact) => h("input", {
      type: "number", inputmode: "decimal", min: "0", step: "any", "data-fact": fact.key, disabled: locked,
      value: a.facts?.[fact.key] ?? "",
      oninput: (event) => { a.facts = { ...(a.facts || {}), [fact.key]: event.target.value }; set({}, false); },
    }));
    const message = h("p", { class: "muted", "aria-live": "polite" });
    add(panel, 
      needs.map((fact, i) => h("label", { class: "field" }, h("span", null, fact.label), inputs[i])),
      h("button", {
        type: "button", class: "btn btn-secondary", "data-compute": true, disabled: locked,
        onclick: async () => {
          if (!navigator.onLine) {
            if (!state.quote.offline) { message.textContent = t("Computing the fine needs the network."); return; }
            const result = computeOffline(state.quote.offline, a.facts || {});
            if (result.error) { message.textContent = t(result.error, result.params); return; }
            set({ evaluation: offlineEvaluation(state.quote.offline, result, state.cap) });
            return;
          }
          message.textContent = t("Computing…");
          try {
            const evaluation = await api.postJson("/api/v1/discretion/evaluate", {
              power_code: a.power_code, act_date: localDate(), party_type: partyType(task) || "organisation",
              facts: typedFacts(a.facts || {}),
            });
            set({ evaluation });
          } catch (error) {
            message.textContent = error instanceof api.LoginNeeded ? t("Log in again to compute the fine.")
              : error.status ? error.message : t("Computing the fine needs the network.");
          }
        },
      }, t("Compute")),
      message);
  } else if (!ev) {
    add(panel, h("p", { class: "muted" }, state.quote.message || t("No amount for this power.")));
  }
  return panel;
}

// The offline result shaped like the engine's evaluation (the fields this app reads).
function offlineEvaluation(offline, result, cap) {
  const fen = result.amount_fen;
  return {
    offline: true,
    decision: "penalty",
    recommended_fen: fen,
    level: result.level,
    level_label: t("Ordinary"),
    band: result.band,
    tier_range: result.tier_range,
    statutory_range: result.statutory_range,
    citations: (offline.citations || []).map((label) => ({ label })),
    simple_procedure_allowed: fen !== null && fen > 0 && (cap === undefined || fen <= cap),
    computed_on: offline.on,
  };
}

function typedFacts(facts) {
  const typed = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value === "" || value === null || value === undefined) continue;
    typed[key] = /^-?\d+$/.test(String(value)) ? Number(value) : String(value);
  }
  return typed;
}
