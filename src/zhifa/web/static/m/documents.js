// On-site documents (执法文书): the 当场处罚决定书 on a pre-numbered serial of this device's block,
// the 责令（限期）改正通知书 and the 现场检查笔录, each previewed for the party to read and signed
// on the screen (or the refusal to sign recorded with the reason and a witness).
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";
import { h, t, add, chineseDate, dialog, localDate, put, uuid, yuan } from "./ui.js";
import { loadTask, taskFrame } from "./tasks.js";
import { items, submitted, penaltyState } from "./checklist.js";

const PENALTY = "on_spot_penalty";
const KEEP_AT_LEAST = 5;
const BLOCK_SIZE = 10;
const TITLES = {
  on_spot_penalty: "On-the-spot administrative penalty decision",
  rectification_notice: "Order to rectify within a time limit",
  inspection_record: "On-site inspection record",
};

// --- number blocks: pre-numbered serials for offline use (行政处罚法 art. 52) ---

function unusedOf(block) {
  const used = new Set(block.used_here || []);
  let serials;
  if (Array.isArray(block.unused_serials)) serials = block.unused_serials;
  else if (Array.isArray(block.unused)) serials = block.unused.map((u) => (typeof u === "object" ? u.serial : u));
  else if (Array.isArray(block.numbers)) serials = block.numbers.filter((n) => !n.status || n.status === "reserved").map((n) => n.serial);
  else {
    serials = [];
    for (let s = block.first_serial; s <= block.last_serial; s++) serials.push(s);
  }
  return serials.filter((s) => !used.has(s)).sort((a, b) => a - b);
}

function numberText(block, serial) {
  const listed = (block.numbers || block.unused || []).find((n) => typeof n === "object" && n.serial === serial);
  if (listed && (listed.text || listed.number_text)) return listed.text || listed.number_text;
  if (block.texts && block.texts[serial]) return block.texts[serial];
  if (block.pattern) return block.pattern.replace("{serial}", String(serial));
  return t("No. {serial}", { serial });
}

export async function blocks() {
  return (await store.all("blocks")).filter((b) => b.doc_type === PENALTY && !b.returned_at);
}

export async function unusedCount() {
  return (await blocks()).reduce((n, b) => n + unusedOf(b).length, 0);
}

// Fetches this officer's open blocks and asks for a new one when fewer than 5 serials remain.
export async function syncBlocks() {
  const mine = await api.getJson("/api/v1/number-blocks/mine");
  const list = Array.isArray(mine) ? mine : (mine.blocks || mine.items || []);
  const kept = Object.fromEntries((await store.all("blocks")).map((b) => [b.id, b]));
  for (const block of list) {
    await store.put("blocks", { ...block, used_here: kept[block.id]?.used_here || [] });
  }
  if ((await unusedCount()) >= KEEP_AT_LEAST) return;
  let request = await store.getMeta("block_request");
  if (!request) {
    request = { client_uuid: uuid(), doc_type: PENALTY, count: BLOCK_SIZE, device_id: await api.deviceId() };
    await store.setMeta("block_request", request);  // the same UUID until the server answers
  }
  const block = await api.postJson("/api/v1/number-blocks", request);
  await store.put("blocks", { ...block, used_here: [] });
  await store.setMeta("block_request", null);
}

async function takeSerial() {
  for (const block of (await blocks()).sort((a, b) => a.first_serial - b.first_serial)) {
    const serials = unusedOf(block);
    if (serials.length) {
      block.used_here = [...(block.used_here || []), serials[0]];
      await store.put("blocks", block);
      return { serial: serials[0], number_text: numberText(block, serials[0]), block_id: block.id };
    }
  }
  return null;
}

// --- the documents of a task ---

function candidates(task) {
  const list = [];
  const answered = items(task.bundle).map((item) => [item, task.draft.answers[item.code] || {}]);
  for (const [item, a] of answered) {
    if (a.result === "fail" && a.measure === PENALTY && penaltyState(task, item, a).allowed) {
      list.push({ key: `${PENALTY}:${item.code}`, doc_type: PENALTY, item_codes: [item.code], text: item.text });
    }
  }
  const rectify = answered.filter(([, a]) => a.result === "fail" && a.measure === "rectify").map(([item]) => item.code);
  if (rectify.length) list.push({ key: "rectification_notice", doc_type: "rectification_notice", item_codes: rectify });
  list.push({ key: "inspection_record", doc_type: "inspection_record", item_codes: answered.map(([item]) => item.code) });
  return list;
}

function draftDoc(task, key) {
  return task.draft.documents.find((d) => d.key === key);
}

export async function renderDocuments(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "documents");
  const left = await unusedCount();
  add(el, h("p", { class: "muted", id: "serials-left" }, t("Pre-numbered penalty decisions on this phone: {n}", { n: left })));
  const states = Object.fromEntries((await outbox.forTask(task.taskId)).map((e) => [e.uuid, e]));
  for (const c of candidates(task)) {
    const doc = draftDoc(task, c.key);
    const entry = doc?.uuid ? states[doc.uuid] : null;
    add(el, h("section", { class: "card doc-card", "data-doc": c.key },
      h("h2", null, t(TITLES[c.doc_type])),
      c.text ? h("p", null, c.text) : null,
      doc?.number_text ? h("p", { class: "doc-number" }, doc.number_text) : null,
      doc?.confirmed_at ? h("p", { class: "ok-text" }, t("Signed; it is sent with the submission."),
        entry?.state === "done" ? [" ", t("Uploaded")] : null) : null,
      h("button", {
        type: "button", class: "btn btn-primary btn-big", "data-issue": c.key,
        onclick: () => openDocument(task, c),
      }, doc ? (doc.confirmed_at ? t("View") : t("Continue")) : c.doc_type === PENALTY ? t("Issue the on-the-spot penalty decision")
        : c.doc_type === "rectification_notice" ? t("Issue the order to rectify") : t("Make the inspection record"))));
  }
}

async function openDocument(task, c) {
  let doc = draftDoc(task, c.key);
  if (!doc) {
    doc = { key: c.key, doc_type: c.doc_type, item_codes: c.item_codes, serial: null, number_text: null };
    if (c.doc_type === PENALTY) {
      const taken = await takeSerial();
      if (!taken) {
        if (navigator.onLine) await syncBlocks().catch(() => null);
        const retry = await takeSerial();
        if (!retry) {
          await dialog({ title: t("No pre-numbered form left"), body: t("Connect to the network once: the phone then gets new numbers."), cancel: null });
          return;
        }
        Object.assign(doc, retry);
      } else {
        Object.assign(doc, taken);
      }
    }
    task.draft.documents.push(doc);
    await api.saveDraft(task.draft);
  }
  location.hash = `#/task/${task.taskId}/doc/${encodeURIComponent(c.key)}`;
}

// --- preview and signatures ---

function officersPresent(task) {
  const b = task.bundle;
  const me = api.state.session?.officer_id;
  const present = new Set(b.present_officer_ids || []);
  if (me) present.add(me);
  const list = (b.officers || []).filter((o) => present.has(o.id));
  return list.length >= 2 ? list : (b.officers || []);
}

function citationsOf(item, answer, role) {
  const power = (item.powers || []).find((p) => p.code === answer.power_code) || item.powers?.[0];
  return (power?.citations || []).filter((c) => !role || c.role === role);
}

function preview(task, doc) {
  const b = task.bundle;
  const s = b.subject || {};
  const byCode = Object.fromEntries(items(b).map((item) => [item.code, item]));
  const today = chineseDate(localDate());
  const officers = officersPresent(task).map((o) => `${o.name}（${t("Cert. no. {no}", { no: o.cert_no || "—" })}）`).join("、");
  const party = [
    h("p", null, t("Party: {name}", { name: s.name || "" })),
    s.uscc ? h("p", null, t("Unified social credit code: {code}", { code: s.uscc })) : null,
    s.representative ? h("p", null, t("Legal representative / person in charge: {name}", { name: s.representative })) : null,
    h("p", null, t("Address: {address}", { address: s.address || "" })),
  ];
  const body = [];
  for (const code of doc.item_codes) {
    const item = byCode[code];
    const a = task.draft.answers[code] || {};
    if (!item) continue;
    if (doc.doc_type === "inspection_record") {
      body.push(h("p", null, `${item.text}：${resultLabel(a.result)}${a.reason ? "，" + a.reason : ""}`));
      continue;
    }
    const violated = citationsOf(item, a, "violated").map((c) => c.label).join("、");
    const penalty = citationsOf(item, a, "penalty").map((c) => c.label).join("、");
    body.push(h("p", null, t("Facts: on {date}, at {place}, it was found that {finding}.", { date: today, place: s.address || "", finding: a.reason || "" })));
    if (violated) body.push(h("p", null, t("This violates {provisions}.", { provisions: violated })));
    if (doc.doc_type === PENALTY) {
      const ev = penaltyState(task, item, a).evaluation;
      body.push(h("p", { class: "doc-decision" }, t("Under {provisions}, it is decided to impose a fine of {amount} yuan.", { provisions: penalty || violated, amount: yuan(ev?.recommended_fen) })));
      body.push(h("p", null, t("Pay the fine within 15 days of receiving this decision.")));
    } else {
      body.push(h("p", { class: "doc-decision" }, t("You are ordered to rectify this by {date}.", { date: a.rectify_deadline ? chineseDate(a.rectify_deadline) : "" })));
    }
  }
  return h("article", { class: "doc-preview", id: "doc-preview" },
    h("p", { class: "doc-agency" }, api.state.session?.district?.bureau_name || ""),
    h("h2", { class: "doc-title" }, t(TITLES[doc.doc_type])),
    doc.number_text ? h("p", { class: "doc-number", id: "doc-number" }, doc.number_text) : h("p", { class: "muted" }, t("The number is given by the server.")),
    party,
    doc.doc_type === "inspection_record" ? h("p", null, t("Inspected on {date} at {place}.", { date: today, place: s.address || "" })) : null,
    body,
    doc.doc_type === "inspection_record" ? null : h("p", { class: "doc-remedy" },
      t("If you disagree with this decision, you may apply for administrative reconsideration within 60 days of receiving it, or bring an administrative lawsuit before a people's court within 6 months.")),
    h("p", null, t("Officers: {officers}", { officers })),
    h("p", { class: "doc-date" }, today));
}

function resultLabel(result) {
  return { pass: t("Compliant"), fail: t("Non-compliant"), not_applicable: t("Not applicable") }[result] || t("Not answered");
}

function pad(label, key) {
  const canvas = h("canvas", { class: "signature", "data-signature": key, height: 180 });
  const holder = h("div", { class: "pad" }, h("h3", null, label), canvas);
  let signature = null;
  const clear = h("button", { type: "button", class: "btn btn-secondary", onclick: () => signature?.clear() }, t("Clear"));
  add(holder, clear);
  return {
    holder, canvas, key,
    mount() {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const width = canvas.parentElement.clientWidth || 340;
      canvas.width = width * ratio;
      canvas.height = 180 * ratio;
      canvas.style.width = `${width}px`;
      canvas.style.height = "180px";
      canvas.getContext("2d").scale(ratio, ratio);
      signature = new window.SignaturePad(canvas, { minWidth: 1, maxWidth: 3, backgroundColor: "rgb(255,255,255)" });
    },
    empty: () => !signature || signature.isEmpty(),
    png: () => signature.toDataURL("image/png"),
  };
}

export async function renderDocument(el, where) {
  const task = await loadTask(where.taskId);
  await taskFrame(el, task, "documents");
  const doc = draftDoc(task, decodeURIComponent(where.key));
  if (!doc) { location.hash = `#/task/${task.taskId}/documents`; return; }
  add(el, preview(task, doc));
  if (doc.confirmed_at) {
    add(el, h("p", { class: "ok-text big", id: "doc-signed" }, t("Signed; it is sent with the submission.")));
    return;
  }
  const s = task.bundle.subject || {};
  const partyName = h("input", { type: "text", id: "party-name", value: doc.party?.name || s.representative || s.name || "" });
  const partyPad = pad(t("Signature of the party"), "party");
  const refuse = h("input", { type: "checkbox", id: "party-refused" });
  const refusal = h("div", { class: "refusal-fields", hidden: true },
    h("label", { class: "field" }, h("span", null, t("Why the party refused to sign")), h("textarea", { id: "refusal-reason", rows: 2 })),
    h("label", { class: "field" }, h("span", null, t("Witness (name)")), h("input", { type: "text", id: "witness-name" })));
  refuse.addEventListener("change", () => { refusal.hidden = !refuse.checked; partyPad.holder.hidden = refuse.checked; });
  const officerPads = officersPresent(task).map((o) => ({ officer: o, pad: pad(t("Signature of officer {name}", { name: o.name }), `officer-${o.id}`) }));
  const error = h("p", { class: "error-text", role: "alert" });
  add(el, 
    h("section", { class: "card" },
      h("label", { class: "field" }, h("span", null, t("Name of the party who signs")), partyName),
      partyPad.holder,
      h("label", { class: "check" }, refuse, t("The party refuses to sign")),
      refusal),
    h("section", { class: "card" }, officerPads.map((p) => p.pad.holder)),
    error,
    h("button", {
      type: "button", class: "btn btn-primary btn-big", id: "confirm-doc",
      onclick: async () => {
        const problem = checkSigned(partyName, refuse, partyPad, officerPads);
        if (problem) { error.textContent = problem; return; }
        await confirmDocument(task, doc, partyName.value.trim(), refuse.checked, partyPad, officerPads);
        location.hash = `#/task/${task.taskId}/documents`;
      },
    }, t("Confirm and issue")));
  partyPad.mount();
  officerPads.forEach((p) => p.pad.mount());
}

function checkSigned(partyName, refuse, partyPad, officerPads) {
  if (refuse.checked) {
    if (!document.getElementById("refusal-reason").value.trim()) return t("Write why the party refused to sign.");
  } else {
    if (!partyName.value.trim()) return t("Write the name of the party who signs.");
    if (partyPad.empty()) return t("The party has not signed yet.");
  }
  const unsigned = officerPads.find((p) => p.pad.empty());
  return unsigned ? t("Officer {name} has not signed yet.", { name: unsigned.officer.name }) : null;
}

async function confirmDocument(task, doc, name, refused, partyPad, officerPads) {
  const s = task.bundle.subject || {};
  doc.party = { name: s.name || name, representative: s.representative || "", id_number: null, address: s.address || "", phone: s.phone || "" };
  const party = refused
    ? { role: "party", refused: true, refusal_reason: document.getElementById("refusal-reason").value.trim(), witness_name: document.getElementById("witness-name").value.trim() }
    : { role: "party", name, image_png: partyPad.png() };
  doc.signatures = [party, ...officerPads.map((p) => ({ role: "officer", officer_id: p.officer.id, image_png: p.pad.png() }))];
  doc.recipient = refused ? "" : name;
  doc.uuid = uuid();
  doc.confirmed_at = new Date().toISOString();
  await api.saveDraft(task.draft);
  if (submitted(task)) await queueDocument(task, doc);
}

export function documentRequest(task, doc) {
  return {
    client_uuid: doc.uuid,
    doc_type: doc.doc_type,
    task_id: task.taskId,
    item_codes: doc.item_codes,
    serial: doc.doc_type === PENALTY ? doc.serial : null,
    device_time: doc.confirmed_at,
    party: doc.party,
    signatures: doc.signatures,
    service: { method: "direct", recipient: doc.recipient || doc.party?.name || "" },
  };
}

export async function queueDocument(task, doc) {
  if (doc.queued) return;
  doc.queued = true;
  await api.saveDraft(task.draft);
  await outbox.enqueue({
    uuid: doc.uuid, method: "POST", url: "/api/v1/documents", body: documentRequest(task, doc),
    kind: "document", task_id: task.taskId, label: `${t(TITLES[doc.doc_type])}${doc.number_text ? " " + doc.number_text : ""}`,
  });
}
