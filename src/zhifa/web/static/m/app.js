// The officer app: start-up, the frame (header, upload badge, banners) and the screens' router.
// The home screen has the duty toggle and two tabs: today's tasks and the complaint jobs (派单).
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import * as documents from "./documents.js";
import * as duty from "./duty.js";
import * as jobs from "./jobs.js";
import * as push from "./push.js";
import { h, t, add, leaveScreen, loadStrings, onLeave, put } from "./ui.js";
import { renderToday, renderTask } from "./tasks.js";
import { renderJobs } from "./jobs.js";
import { renderJob } from "./job.js";
import { renderChecklist } from "./checklist.js";
import { renderEvidence } from "./evidence.js";
import { renderDocuments, renderDocument } from "./documents.js";
import { renderSubmit } from "./submit.js";

const SYNC_EVERY_MS = 60000;
const frame = {};

function registerWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch((error) => {
      console.warn("service worker not registered", error);
    });
  }
}

function drawFrame() {
  frame.badge = h("button", { id: "outbox-badge", class: "badge", type: "button", onclick: () => outbox.drain({ now: true }) });
  frame.who = h("span", { class: "who" });
  frame.offline = h("div", { id: "offline-banner", class: "banner banner-offline", role: "status", hidden: true },
    t("Offline: your work is kept on this phone and uploaded when the network returns."));
  frame.login = h("div", { id: "login-banner", class: "banner banner-login", role: "alert", hidden: true },
    h("span", null, t("Your login has expired. Log in again: nothing on this phone is lost.")),
    h("a", { class: "btn btn-primary", href: "/login?next=/m/" }, t("Log in again")));
  frame.screen = h("main", { id: "screen", class: "screen" });
  document.getElementById("app").replaceChildren(
    h("header", { class: "appbar" },
      h("a", { class: "home", href: "#/" }, t("Field inspection")),
      frame.who,
      frame.badge),
    frame.offline, frame.login,
    h("div", { id: "alerts", class: "alerts", "aria-live": "assertive" }),
    frame.screen,
    h("div", { id: "toast", class: "toast", role: "status", hidden: true }));
}

async function updateBadge() {
  const { pending, attention } = await outbox.counts();
  const parts = [pending ? t("{n} items to upload", { n: pending }) : t("Everything uploaded")];
  if (attention) parts.push(t("{n} need attention", { n: attention }));
  frame.badge.textContent = parts.join(" · ");
  frame.badge.dataset.pending = String(pending);
  frame.badge.dataset.attention = String(attention);
  frame.badge.classList.toggle("badge-busy", pending > 0);
  frame.badge.classList.toggle("badge-alert", attention > 0);
}

function updateNetwork() {
  api.state.online = navigator.onLine;
  frame.offline.hidden = navigator.onLine;
  document.body.classList.toggle("is-offline", !navigator.onLine);
}

function showLogin() {
  frame.login.hidden = !(api.state.needsLogin || outbox.authLost);
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] === "task" && parts[1]) {
    return { screen: parts[2] || "overview", taskId: Number(parts[1]), key: parts.slice(3).join("/") };
  }
  if (parts[0] === "jobs") return { screen: "jobs" };
  if (parts[0] === "job" && parts[1]) return { screen: "job", complaintId: Number(parts[1]) };
  return { screen: "today" };
}

const TASK_SCREENS = {
  overview: renderTask,
  checklist: renderChecklist,
  evidence: renderEvidence,
  documents: renderDocuments,
  doc: renderDocument,
  submit: renderSubmit,
};

async function route() {
  leaveScreen();
  const where = parseRoute();
  const screen = h("div", { class: "screen-body", "data-screen": where.screen });
  put(frame.screen, screen);
  window.scrollTo(0, 0);
  try {
    if (where.screen === "today" || where.screen === "jobs") {
      const content = home(screen, where.screen);
      await (where.screen === "jobs" ? renderJobs : renderToday)(content);
    } else if (where.screen === "job") {
      await renderJob(screen, where);
    } else {
      await (TASK_SCREENS[where.screen] || renderTask)(screen, where);
    }
  } catch (error) {
    console.error(error);
    add(screen, h("p", { class: "error-text" }, error instanceof api.Offline
      ? t("This task has not been opened on this phone yet, and there is no network.")
      : t("Could not show this screen: {error}", { error: error.message || String(error) })));
  }
  showLogin();
}

function handlesComplaints() {
  return Boolean(api.state.session && api.state.session.complaints);
}

// The home screen's top: the duty toggle and the tabs 今日任务 / 派单 (with the open jobs' count).
function home(screen, active) {
  const content = h("div", { class: "home-content" });
  if (!handlesComplaints()) {
    add(screen, content);
    return content;
  }
  const view = duty.toggle();
  onLeave(view.unsubscribe);
  const count = h("span", { id: "jobs-count", class: "count" });
  const drawCount = () => {
    const n = jobs.counts();
    count.textContent = n ? String(n) : "";
    count.hidden = !n;
  };
  drawCount();
  onLeave(jobs.subscribe(drawCount));
  add(screen, view.el,
    h("nav", { class: "tabs home-tabs" },
      h("a", { href: "#/", class: active === "today" ? "tab active" : "tab", "data-tab": "today" }, t("Today's tasks")),
      h("a", { href: "#/jobs", class: active === "jobs" ? "tab active" : "tab", "data-tab": "jobs" }, t("Jobs"), count)),
    content);
  return content;
}

function startComplaints() {
  if (!handlesComplaints()) return;
  duty.start(api.state.session);
  push.start({ onAssignment: () => jobs.refresh(), onResync: () => jobs.refresh() });
  jobs.start().catch((error) => console.warn("jobs", error));
}

async function sync() {
  if (navigator.onLine && !api.state.needsLogin) {
    await documents.syncBlocks().catch((error) => console.warn("number blocks", error));
  }
  document.body.dataset.serials = String(await documents.unusedCount());
}

async function boot() {
  registerWorker();
  await loadStrings();
  document.title = t("Field inspection");
  drawFrame();
  updateNetwork();
  try {
    await api.loadSession();
  } catch (error) {
    put(frame.screen, h("p", { class: "error-text" }, t("Connect to the network once to start the app.")));
    return;
  }
  if (api.state.otherOfficer) {
    const other = api.state.otherOfficer;
    put(frame.screen, h("p", { class: "refusal", id: "other-officer" },
      t("This phone holds {n} items of {name} not uploaded yet. {name} must log in here and upload them first.", { n: other.unsent, name: other.name })),
    h("a", { class: "btn btn-primary btn-big", href: "/login?next=/m/" }, t("Log in again")));
    return;
  }
  const session = api.state.session;
  if (session) frame.who.textContent = session.name;
  outbox.configure({
    csrf: () => api.state.session?.csrf_token,
    onAuthLost: () => { api.state.needsLogin = true; showLogin(); },
    refreshSession: api.refreshSession,
  });
  outbox.subscribe(() => updateBadge());
  window.addEventListener("online", () => { updateNetwork(); sync(); });
  window.addEventListener("offline", updateNetwork);
  window.addEventListener("hashchange", route);
  await updateBadge();
  if (!api.state.needsLogin) outbox.start();
  startComplaints();
  await route();
  sync();
  setInterval(sync, SYNC_EVERY_MS);
  document.body.dataset.ready = "true";
}

boot();
