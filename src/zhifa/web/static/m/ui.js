// Small helpers for drawing screens: elements, strings, money, times, dialogs.
import * as store from "./store.js";

let messages = {};

// Every string the officer reads comes from /m/i18n.json (translated from mobile.po).
export async function loadStrings() {
  try {
    const response = await fetch("/m/i18n.json", { credentials: "same-origin" });
    if (response.ok) {
      const body = await response.json();
      messages = body.messages || {};
      await store.setMeta("strings", messages);
      return;
    }
  } catch (error) {
    // offline without the worker's copy: fall back to the one kept on the device
  }
  messages = (await store.getMeta("strings", {})) || {};
}

export function t(msgid, params) {
  let text = messages[msgid] || msgid;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }
  return text;
}

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden"]);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (PROPERTIES.has(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function uuid() {
  return crypto.randomUUID();
}

export function yuan(fen) {
  if (fen === null || fen === undefined) return "";
  const whole = Math.floor(Math.abs(fen) / 100).toLocaleString("en-US");
  const cents = String(Math.abs(fen) % 100).padStart(2, "0");
  return `${fen < 0 ? "-" : ""}${whole}${cents === "00" ? "" : "." + cents}`;
}

const TZ = "Asia/Shanghai";

export function localTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("zh-CN", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(iso));
}

export function localDateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("zh-CN", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(iso));
}

// Today's date where the bureau is (YYYY-MM-DD), plus ``days``.
export function localDate(days = 0) {
  const when = new Date(Date.now() + days * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(when);
}

export function chineseDate(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return t("{year}-{month}-{day}", { year: y, month: m, day: d });
}

export function metres(value) {
  if (value === null || value === undefined) return "";
  if (value >= 1000) return t("{km} km", { km: (value / 1000).toFixed(1) });
  return t("{m} m", { m: Math.round(value) });
}

// A dialog drawn in the page (never window.confirm: large, readable, and it cannot be skipped).
export function dialog({ title, body, fields = [], confirm, cancel, danger = false }) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      f.multiline
        ? h("textarea", { id: f.id, rows: 3, placeholder: f.placeholder || "", value: f.value || "" })
        : h("input", { id: f.id, type: "text", placeholder: f.placeholder || "", value: f.value || "" }));
    const error = h("p", { class: "error-text", role: "alert" });
    const close = (value) => { overlay.remove(); resolve(value); };
    const ok = h("button", {
      class: danger ? "btn btn-danger" : "btn btn-primary", type: "button", "data-dialog-ok": true,
      onclick: () => {
        const values = {};
        for (const [i, f] of fields.entries()) {
          values[f.id] = inputs[i].value.trim();
          if (f.required && !values[f.id]) { error.textContent = f.required; inputs[i].focus(); return; }
        }
        close(fields.length ? values : true);
      },
    }, confirm || t("OK"));
    const overlay = h("div", { class: "overlay", role: "dialog", "aria-modal": "true" },
      h("div", { class: "dialog" },
        h("h2", null, title),
        body ? h("p", null, body) : null,
        fields.map((f, i) => h("label", { class: "field" }, h("span", null, f.label), inputs[i])),
        error,
        h("div", { class: "dialog-buttons" },
          cancel === null ? null : h("button", { class: "btn btn-secondary", type: "button", "data-dialog-cancel": true, onclick: () => close(null) }, cancel || t("Cancel")),
          ok)));
    document.body.append(overlay);
    (inputs[0] || ok).focus();
  });
}

let toastTimer = null;
export function toast(text) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

// Work to undo when the officer leaves the screen (listeners on the outbox …).
const cleanups = [];
export function onLeave(cleanup) {
  cleanups.push(cleanup);
}
export function leaveScreen() {
  for (const cleanup of cleanups.splice(0)) cleanup();
}

function nodes(children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

// el.append / el.replaceChildren that take arrays and skip null, like h().
export function add(el, ...children) {
  el.append(...nodes(children));
  return el;
}

export function put(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}
