// The command centre (/command): listens to /command/stream (server-sent events, vanilla
// EventSource) and keeps the page current without reloading:
//   complaint / sla / alert  → reload the queue (/command/queue) in place, redraw the complaint
//                              pins, refresh the selected complaint's panel; a new complaint is
//                              highlighted (and beeps when the sound is switched on);
//   officer                  → move or recolour the officer's marker;
//   inspection.submitted, document.issued, check_in → reload today's inspection lists.
// Countdowns tick every second from the ISO deadlines in data-due. The browser reconnects by
// itself after a network loss (the server asks for a 5 s retry); "lagged" reloads the page.
(function () {
  "use strict";

  var INSPECTION_TOPICS = ["inspection.submitted", "document.issued", "check_in"];
  var root, text, labels, map = null, panel = null, known = null, soundOn = false;

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    if (!node) { return fallback; }
    try { return JSON.parse(node.textContent); } catch (e) { return fallback; }
  }

  function t(key, params) {
    var words = text[key] || key;
    Object.keys(params || {}).forEach(function (name) { words = words.split("{" + name + "}").join(String(params[name])); });
    return words;
  }

  // A span of time for people: "12:05" under an hour (ticking), else hours and minutes, or days
  // and hours; coarse ("12 分钟") for time past a deadline.
  function span(seconds, coarse) {
    var s = Math.max(0, Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) { return t("days", { n: d }) + (h ? " " + t("hours", { n: h }) : ""); }
    if (h > 0) { return t("hours", { n: h }) + (m ? " " + t("minutes", { n: m }) : ""); }
    if (coarse) { return t("minutes", { n: Math.max(1, m) }); }
    var sec = s % 60;
    return m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function ago(seconds) { return t("fix_age", { time: seconds < 60 ? t("minutes", { n: "<1" }) : span(seconds, true) }); }

  function when(iso) {
    var date = new Date(iso);
    var options = { timeZone: root.dataset.tz || "Asia/Shanghai", hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
    return date.toLocaleString("zh-CN", options);
  }

  function renderClock(clock, nowMs) {
    var out = clock.querySelector("[data-countdown]") || clock;
    if (clock.dataset.paused) {
      var left = parseFloat(clock.dataset.remaining);
      out.textContent = t("paused") + (isNaN(left) ? "" : " · " + (left >= 0 ? t("left", { time: span(left) }) : t("overdue", { time: span(-left, true) })));
      return false;
    }
    var seconds = (Date.parse(clock.dataset.due) - nowMs) / 1000;
    var late = seconds < 0;
    out.textContent = late ? t("overdue", { time: span(-seconds, true) }) : t("left", { time: span(seconds) });
    clock.classList.toggle("late", late);
    return late;
  }

  function tick() {
    var nowMs = Date.now();
    document.querySelectorAll(".cc-clock[data-due]").forEach(function (clock) { renderClock(clock, nowMs); });
    document.querySelectorAll(".cc-item").forEach(function (item) {
      var late = item.querySelector(".cc-clock.late") !== null || item.dataset.slaState === "overdue";
      item.classList.toggle("overdue", late);
    });
  }

  function queueItems() {
    var items = [];
    document.querySelectorAll("#cc-queue-list .cc-item").forEach(function (li) {
      items.push({
        id: Number(li.dataset.complaintId), tracking_no: li.dataset.trackingNo,
        lon: li.dataset.lon === "" ? null : parseFloat(li.dataset.lon),
        lat: li.dataset.lat === "" ? null : parseFloat(li.dataset.lat),
        colour: li.dataset.colour, category: li.dataset.category, address: li.dataset.address,
        fresh: li.classList.contains("fresh")
      });
    });
    return items;
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!soundOn || !Context) { return; }
    var ctx = new Context(), osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.35);
    osc.onended = function () { ctx.close(); };
  }

  function afterQueue() {
    var list = document.getElementById("cc-queue-list");
    var ids = {}, fresh = false;
    document.querySelectorAll("#cc-queue-list .cc-item").forEach(function (li) {
      ids[li.dataset.complaintId] = true;
      if (known !== null && !known[li.dataset.complaintId]) {
        li.classList.add("fresh");
        fresh = true;
        setTimeout(function () { li.classList.remove("fresh"); }, 10000);
      }
      li.setAttribute("aria-pressed", String(panel !== null && String(panel.current()) === li.dataset.complaintId));
    });
    known = ids;
    ["total", "overdue", "warning"].forEach(function (name) {
      var out = document.querySelector('[data-count="' + name + '"]');
      if (out && list) { out.textContent = list.dataset[name] || "0"; }
    });
    if (map) { map.setComplaints(queueItems()); }
    tick();
    if (fresh) { beep(); }
  }

  var pendingQueue = null;
  function refreshQueue() {
    if (pendingQueue) { return; }
    pendingQueue = setTimeout(function () {
      pendingQueue = null;
      fetch(root.dataset.queueUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          document.getElementById("cc-queue").innerHTML = html;
          afterQueue();
        }).catch(function () { /* the next event or reconnect refreshes again */ });
    }, 250);
  }

  var pendingToday = null;
  function refreshToday() {
    if (!window.htmx || pendingToday) { return; }
    pendingToday = setTimeout(function () {
      pendingToday = null;
      htmx.ajax("GET", root.dataset.todayUrl, { target: "#command-today", swap: "innerHTML" });
    }, 500);
  }

  function select(id) {
    if (!panel) { return; }
    panel.show(id);
    document.querySelectorAll("#cc-queue-list .cc-item").forEach(function (li) {
      li.setAttribute("aria-pressed", String(li.dataset.complaintId === String(id)));
    });
    if (map) { map.select(id); }
  }

  // --- The live feed ---

  function feedLabel(feed, topic, data) {
    var key = topic === "complaint" && data.step === "received" ? "complaint.received" : topic;
    key = "label" + key.replace(/(^|[._])([a-z])/g, function (m, sep, c) { return c.toUpperCase(); });
    return feed.dataset[key] || topic;
  }

  function feedSummary(topic, data) {
    if (topic === "complaint") {
      return [data.tracking_no, labels.status[data.status] || data.status, data.address].filter(Boolean).join(" · ");
    }
    if (topic === "alert") {
      return [data.tracking_no, labels.stage[data.stage] || data.stage, data.kind === "overdue" ? labels.sla.overdue.label : labels.sla.warning.label].filter(Boolean).join(" · ");
    }
    var parts = [];
    ["subject_name", "number_text", "officer_name", "outcome_label", "message"].forEach(function (k) {
      if (data[k]) { parts.push(String(data[k])); }
    });
    if (!parts.length && data.task_id) { parts.push("#" + data.task_id); }
    return parts.join(" · ");
  }

  function addLine(topic, data) {
    var feed = document.getElementById("live-feed");
    if (!feed) { return; }
    var empty = feed.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    li.className = "fresh" + (topic === "alert" ? " alert-line" : "");
    li.dataset.topic = topic;
    if (data.complaint_id) { li.dataset.complaintId = data.complaint_id; }
    var time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    var what = document.createElement("strong");
    what.textContent = feedLabel(feed, topic, data);
    li.appendChild(time);
    li.appendChild(what);
    var words = feedSummary(topic, data);
    if (words) { li.appendChild(document.createTextNode(" " + words)); }
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > 100) { feed.removeChild(feed.lastChild); }
    setTimeout(function () { li.classList.remove("fresh"); }, 8000);
  }

  function setState(name) {
    var node = document.getElementById("live-state");
    if (node) { node.textContent = node.dataset[name] || name; node.dataset.state = name; }
  }

  function parse(evt) {
    try { return JSON.parse(evt.data); } catch (e) { return {}; }
  }

  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(root.dataset.stream);
    source.onopen = function () { setState("live"); refreshQueue(); };
    source.onerror = function () { setState("offline"); };
    INSPECTION_TOPICS.forEach(function (topic) {
      source.addEventListener(topic, function (evt) { addLine(topic, parse(evt)); refreshToday(); });
    });
    source.addEventListener("complaint", function (evt) {
      var data = parse(evt);
      if (data.step === "received" || data.step === "rework" || data.step === "declined") { addLine("complaint", data); }
      refreshQueue();
      if (panel && String(panel.current()) === String(data.complaint_id)) { panel.reload(); }
    });
    source.addEventListener("sla", function (evt) {
      var data = parse(evt);
      refreshQueue();
      if (panel && String(panel.current()) === String(data.complaint_id)) { panel.reload(); }
    });
    source.addEventListener("alert", function (evt) { addLine("alert", parse(evt)); refreshQueue(); });
    source.addEventListener("officer", function (evt) { if (map) { map.upsertOfficer(parse(evt)); } });
    source.addEventListener("lagged", function () { source.close(); window.location.reload(); });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  function soundToggle() {
    var button = document.getElementById("cc-sound");
    if (!button) { return; }
    try { soundOn = window.localStorage.getItem("zhifa.command.sound") === "on"; } catch (e) { soundOn = false; }
    button.setAttribute("aria-pressed", String(soundOn));
    button.addEventListener("click", function () {
      soundOn = !soundOn;
      button.setAttribute("aria-pressed", String(soundOn));
      try { window.localStorage.setItem("zhifa.command.sound", soundOn ? "on" : "off"); } catch (e) { /* private mode */ }
      beep();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("command-centre");
    if (!root) { return; }
    text = readJson("command-text", {});
    labels = readJson("command-labels", { duty: {}, status: {}, sla: {}, priority: {}, stage: {} });
    var format = { t: t, span: span, when: when };
    var panelRoot = document.getElementById("cc-panel");
    if (panelRoot && window.CommandPanel) {
      panel = window.CommandPanel(panelRoot, {
        text: text, labels: labels, format: format, tick: tick,
        canDispatch: Boolean(root.dataset.canDispatch),
        changed: function () { refreshQueue(); }
      });
    }
    var mapEl = document.getElementById("command-map");
    if (mapEl && window.L && window.CommandMap) {
      map = window.CommandMap(mapEl, {
        text: text, labels: labels, ago: ago, onSelect: select,
        officers: readJson(mapEl.dataset.officers, []), complaints: queueItems()
      });
      setInterval(function () { map.restyleOfficers(Date.now()); }, 15000);
    }
    var queue = document.getElementById("cc-queue");
    queue.addEventListener("click", function (evt) {
      var item = evt.target.closest(".cc-item");
      if (item) { select(Number(item.dataset.complaintId)); }
    });
    queue.addEventListener("keydown", function (evt) {
      var item = evt.target.closest(".cc-item");
      if (item && (evt.key === "Enter" || evt.key === " ")) { evt.preventDefault(); select(Number(item.dataset.complaintId)); }
    });
    soundToggle();
    afterQueue();
    setInterval(tick, 1000);
    listen();
  });
})();
