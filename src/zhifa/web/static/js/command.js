// Command centre: listen to /command/stream (server-sent events, vanilla EventSource), add a line
// to the live feed for each event and reload today's lists in place. The browser reconnects by
// itself after a network loss (the server asks for a 5 s retry); a "lagged" event reloads the page.
(function () {
  "use strict";

  var TOPICS = ["inspection.submitted", "document.issued", "check_in"];

  function label(feed, topic) {
    var key = "label" + topic.replace(/(^|[._])([a-z])/g, function (m, sep, c) { return c.toUpperCase(); });
    return feed.dataset[key] || topic;
  }

  function summary(data) {
    var parts = [];
    ["subject_name", "number_text", "officer_name", "outcome_label", "message"].forEach(function (k) {
      if (data[k]) { parts.push(String(data[k])); }
    });
    if (!parts.length && data.task_id) { parts.push("#" + data.task_id); }
    return parts.join(" · ");
  }

  function addLine(feed, topic, data) {
    var empty = feed.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    li.className = "fresh";
    li.dataset.topic = topic;
    var time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    var what = document.createElement("strong");
    what.textContent = label(feed, topic);
    li.appendChild(time);
    li.appendChild(what);
    var text = summary(data);
    if (text) { li.appendChild(document.createTextNode(" " + text)); }
    feed.insertBefore(li, feed.firstChild);
    setTimeout(function () { li.classList.remove("fresh"); }, 8000);
  }

  var pending = null;
  function refresh(feed) {
    if (!window.htmx || pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      htmx.ajax("GET", feed.dataset.refresh, { target: "#command-today", swap: "innerHTML" });
    }, 500);
  }

  function setState(state) {
    var el = document.getElementById("live-state");
    if (el) { el.textContent = el.dataset[state] || state; el.dataset.state = state; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var feed = document.getElementById("live-feed");
    if (!feed || !window.EventSource) { return; }
    var source = new EventSource(feed.dataset.stream);
    source.onopen = function () { setState("live"); };
    source.onerror = function () { setState("offline"); };
    TOPICS.forEach(function (topic) {
      source.addEventListener(topic, function (evt) {
        var data = {};
        try { data = JSON.parse(evt.data); } catch (e) { data = {}; }
        addLine(feed, topic, data);
        refresh(feed);
      });
    });
    source.addEventListener("lagged", function () { source.close(); window.location.reload(); });
    window.addEventListener("beforeunload", function () { source.close(); });
  });
})();
