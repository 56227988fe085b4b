// The device stream (GET /api/v1/me/stream): assignments pushed while the app is open and online.
//   "assignment" events carry a step of one of the officer's jobs; "lagged" (the server dropped
//   events for this phone) and every (re)connection mean "read the list again".
//   The browser's EventSource reconnects by itself after a network error; a refusal (logged out)
//   closes it, and the app opens it again later. Offline it is closed; back online it reopens.
// A new job is announced with a full-width banner, a short beep (Web Audio, no sound file) and a
// vibration where the phone allows it.
import { h, t } from "./ui.js";

const REOPEN_MS = 30000;
let source = null;
let reopen = null;
let handlers = { onAssignment: () => {}, onResync: () => {} };

export function start(options) {
  handlers = options;
  window.addEventListener("online", open);
  window.addEventListener("offline", close);
  document.addEventListener("pointerdown", unlockSound, { capture: true });
  open();
}

function open() {
  clearTimeout(reopen);
  if (source || !navigator.onLine || !("EventSource" in window)) return;
  source = new EventSource("/api/v1/me/stream");
  document.body.dataset.stream = "connecting";
  source.addEventListener("open", () => {
    document.body.dataset.stream = "open";
    handlers.onResync("open");
  });
  source.addEventListener("assignment", (event) => {
    let data = null;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    handlers.onAssignment(data);
  });
  source.addEventListener("lagged", () => handlers.onResync("lagged"));
  source.addEventListener("error", () => {
    if (!source || source.readyState !== EventSource.CLOSED) {
      document.body.dataset.stream = "connecting";
      return;
    }
    source = null;
    document.body.dataset.stream = "closed";
    reopen = setTimeout(open, REOPEN_MS);
  });
}

function close() {
  clearTimeout(reopen);
  if (source) source.close();
  source = null;
  document.body.dataset.stream = "closed";
}

// --- sound and vibration ---

let audio = null;

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!audio) {
    try { audio = new Context(); } catch (error) { return null; }
  }
  return audio;
}

// Browsers let a page make sound only after a tap: the first tap readies the beep.
function unlockSound() {
  const context = audioContext();
  if (context && context.state === "suspended") context.resume().catch(() => {});
}

// Three short tones of 880 Hz.
export function beep() {
  const context = audioContext();
  if (!context) return false;
  if (context.state === "suspended") context.resume().catch(() => {});
  const start = context.currentTime + 0.05;
  for (let i = 0; i < 3; i++) {
    const at = start + i * 0.35;
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.type = "square";
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
    tone.connect(gain).connect(context.destination);
    tone.start(at);
    tone.stop(at + 0.3);
  }
  return true;
}

function vibrate() {
  try {
    return Boolean(navigator.vibrate && navigator.vibrate([300, 100, 300]));
  } catch (error) {
    return false;
  }
}

function alerts() {
  let box = document.getElementById("alerts");
  if (!box) {
    box = h("div", { id: "alerts", class: "alerts" });
    document.body.prepend(box);
  }
  return box;
}

// The full-width banner 「新派单」: category and address; a tap opens the job.
export function announce(job) {
  const old = document.querySelector(`#alerts [data-new-job="${job.complaint_id}"]`);
  if (old) old.remove();
  const banner = h("div", { class: "job-banner", role: "alert", "data-new-job": job.complaint_id },
    h("a", { class: "job-banner-body", href: `#/job/${job.complaint_id}`, onclick: () => banner.remove() },
      h("strong", { class: "job-banner-title" }, t("New job")),
      h("span", { class: "job-banner-what" }, job.category_name || ""),
      h("span", { class: "job-banner-where" }, job.address || "")),
    h("button", { class: "btn btn-secondary job-banner-close", type: "button", onclick: () => banner.remove() }, t("Close the message")));
  alerts().prepend(banner);
  banner.dataset.sound = String(beep());
  banner.dataset.vibrated = String(vibrate());
}

// The job has been opened: its banner has done its work.
export function dismiss(complaintId) {
  const banner = document.querySelector(`#alerts [data-new-job="${complaintId}"]`);
  if (banner) banner.remove();
}

// A notice that stays until closed (a job taken away …).
export function notice(text, key) {
  const banner = h("div", { class: "job-notice", role: "status", "data-notice": key || "" },
    h("span", null, text),
    h("button", { class: "btn btn-secondary", type: "button", onclick: () => banner.remove() }, t("Close the message")));
  alerts().prepend(banner);
}
