// The command centre's panel of the selected complaint: its facts, clocks, photos and timeline
// (GET /api/v1/complaints/{id}), the recommended pair with distances, the explanation and the
// skipped officers (GET …/recommendation), one-click dispatch and the other steps (POST …/dispatch,
// file, reject, transfer, answer, verify, close) sent with the page's CSRF token. Errors come back
// translated from the server and are shown as they are. Used by command.js through
// window.CommandPanel(el, options) → {show, reload, current}.
(function () {
  "use strict";

  // Steps offered per status (the server decides; these are only the buttons shown).
  var DIRECT_TYPES = { consult: true, help: true, suggestion: true };
  var RECOMMEND_IN = { received: true, filed: true, dispatched: true, taken: true };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function el(tag, cls, textContent) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (textContent !== undefined && textContent !== null) { node.textContent = textContent; }
    return node;
  }

  function badge(textContent, colour) { return el("span", "badge badge-" + (colour || "grey"), textContent); }

  window.CommandPanel = function (root, options) {
    var text = options.text, labels = options.labels, fmt = options.format;
    var canDispatch = options.canDispatch;
    var empty = root.querySelector("[data-panel-empty]"), article = root.querySelector("[data-panel]");
    var state = { id: null, detail: null, reco: null, step: null, busy: false, token: 0 };

    function f(name) { return article.querySelector('[data-f="' + name + '"]'); }

    function api(method, url, body) {
      var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
      if (method !== "GET") {
        init.headers["Content-Type"] = "application/json";
        init.headers["X-CSRF-Token"] = csrfToken();
        init.body = JSON.stringify(body || {});
      }
      return fetch(url, init).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var message = (data && data.error && data.error.message) || text.unreachable;
            throw new Error(message);
          }
          return data;
        });
      }, function () { throw new Error(text.unreachable); });
    }

    function message(kind, words) {
      var error = f("error"), notice = f("notice");
      error.hidden = notice.hidden = true;
      if (!words) { return; }
      var box = kind === "error" ? error : notice;
      box.textContent = words;
      box.hidden = false;
    }

    function renderHead(d) {
      f("tracking_no").textContent = d.tracking_no;
      f("status").replaceChildren(badge(d.status_label || labels.status[d.status] || d.status, "blue"));
      var sla = labels.sla[d.sla_state] || { label: d.sla_state, colour: "grey" };
      f("sla").replaceChildren(badge(sla.label, sla.colour));
      f("priority").replaceChildren(d.priority === "urgent" ? badge(labels.priority[d.priority], "red") : "");
      f("what").textContent = [d.category_name, d.address].filter(Boolean).join(" · ");
      f("description").textContent = d.description || "";
      f("routing_note").textContent = d.routing_note || "";
      f("link").href = "/complaints/" + d.id;
    }

    function renderClocks(d) {
      var box = f("clocks");
      box.replaceChildren();
      (d.clocks || []).forEach(function (c) {
        if (c.running === false || !c.due) { return; }
        var clock = el("span", "cc-clock state-" + c.state);
        clock.dataset.stage = c.stage;
        clock.dataset.due = c.due;
        if (c.state === "paused") {
          clock.dataset.paused = "1";
          clock.dataset.remaining = c.remaining_seconds === null || c.remaining_seconds === undefined ? "" : c.remaining_seconds;
        }
        clock.appendChild(el("span", "cc-clock-stage", labels.stage[c.stage] || c.label || c.stage));
        var countdown = el("span", "cc-countdown");
        countdown.setAttribute("data-countdown", "");
        clock.appendChild(countdown);
        box.appendChild(clock);
      });
      options.tick();
    }

    function renderMedia(d) {
      var box = f("media");
      box.replaceChildren();
      (d.media || []).forEach(function (m) {
        var figure = el("figure");
        var link = el("a");
        link.href = m.url;
        link.target = "_blank";
        link.rel = "noopener";
        var img = el("img");
        img.src = m.url;
        img.alt = m.role_label || m.role;
        img.loading = "lazy";
        link.appendChild(img);
        figure.appendChild(link);
        figure.appendChild(el("figcaption", null, m.role_label || m.role));
        box.appendChild(figure);
      });
      f("media_box").hidden = !(d.media || []).length;
    }

    function renderTimeline(d) {
      var list = f("timeline");
      list.replaceChildren();
      (d.events || []).slice().reverse().forEach(function (e) {
        var item = el("li");
        item.dataset.kind = e.kind;
        var time = el("time", null, fmt.when(e.at));
        time.dateTime = e.at;
        item.appendChild(time);
        item.appendChild(el("strong", null, e.kind_label || e.kind));
        if (e.actor_name) { item.appendChild(document.createTextNode(" · " + e.actor_name)); }
        if (e.note) { item.appendChild(el("span", "note", e.note)); }
        list.appendChild(item);
      });
    }

    function distance(c) {
      if (c.distance_m === null || c.distance_m === undefined) { return ""; }
      return c.distance_m >= 1000 ? fmt.t("distance_km", { n: (c.distance_m / 1000).toFixed(1) }) : fmt.t("distance_m", { n: c.distance_m });
    }

    function candidateLine(c) {
      var parts = [c.name, c.unit_name + " (" + (c.own_unit ? text.own_unit : text.other_unit) + ")", distance(c), c.status_label];
      return parts.filter(Boolean).join(" · ");
    }

    function renderReco(reco) {
      var pair = f("pair"), explanation = f("explanation"), candidates = f("candidates");
      pair.replaceChildren();
      explanation.replaceChildren();
      candidates.replaceChildren();
      reco.pair.forEach(function (c, i) {
        var item = el("li", null, candidateLine(c) + (i === 0 ? " · " + text.lead : ""));
        item.dataset.officerId = c.officer_id;
        pair.appendChild(item);
      });
      if (!reco.pair.length) { pair.appendChild(el("li", "muted", text.no_pair)); }
      if (!reco.has_point) { explanation.appendChild(el("li", null, text.no_point)); }
      reco.explanation.forEach(function (line) { explanation.appendChild(el("li", null, line)); });
      reco.candidates.forEach(function (c) {
        var item = el("li", c.eligible ? "" : "skipped");
        var label = el("label");
        var box = el("input");
        box.type = "checkbox";
        box.value = c.officer_id;
        box.disabled = !c.eligible;
        label.appendChild(box);
        label.appendChild(document.createTextNode(candidateLine(c) + (c.eligible ? "" : " — " + c.reason)));
        item.appendChild(label);
        candidates.appendChild(item);
      });
      var button = article.querySelector('[data-action="dispatch-pair"]');
      button.disabled = !reco.pair.length;
      var again = state.detail && (state.detail.status === "dispatched" || state.detail.status === "taken");
      button.textContent = again ? text.redispatch : text.dispatch;
      // Already sent to exactly the recommended pair: nothing to re-dispatch in one click.
      var sent = again ? (state.detail.officer_ids || []).join(",") : null;
      button.hidden = sent === reco.pair.map(function (c) { return c.officer_id; }).join(",");
      f("reco").hidden = false;
    }

    function renderActions(d) {
      var status = d.status, verified = Boolean(d.verified_at);
      var shown = {
        file: status === "received",
        reject: status === "received",
        transfer: status === "received" || status === "filed",
        answer: (status === "received" || status === "filed") && DIRECT_TYPES[d.hotline_type] === true,
        verify: status === "fed_back" && !verified,
        rework: status === "fed_back" && !verified,
        close: status === "fed_back" && verified
      };
      article.querySelectorAll("[data-step]").forEach(function (button) {
        button.hidden = !canDispatch || !shown[button.dataset.step];
      });
    }

    function loadReco(id, token) {
      if (!canDispatch || !RECOMMEND_IN[state.detail.status]) { f("reco").hidden = true; return Promise.resolve(); }
      return api("GET", "/api/v1/complaints/" + id + "/recommendation").then(function (reco) {
        if (token !== state.token) { return; }
        state.reco = reco;
        renderReco(reco);
      });
    }

    function load(id, keepMessage) {
      var token = ++state.token;
      if (!keepMessage) { message(); }
      return api("GET", "/api/v1/complaints/" + id).then(function (d) {
        if (token !== state.token) { return null; }
        state.detail = d;
        renderHead(d);
        renderClocks(d);
        renderMedia(d);
        renderTimeline(d);
        renderActions(d);
        article.dataset.status = d.status;
        return loadReco(id, token);
      }).catch(function (err) {
        if (token === state.token) { message("error", err.message); }
      });
    }

    function show(id) {
      if (String(id) !== String(state.id)) { closeForm(); }
      state.id = id;
      empty.hidden = true;
      article.hidden = false;
      article.dataset.complaintId = id;
      return load(id);
    }

    function post(step, body, done) {
      if (state.busy || state.id === null) { return Promise.resolve(); }
      state.busy = true;
      article.setAttribute("aria-busy", "true");
      var id = state.id;
      return api("POST", "/api/v1/complaints/" + id + "/" + step, body).then(function (reply) {
        closeForm();
        message("notice", reply.notice || done || text.done);
        options.changed(id);
        return load(id, true);
      }).catch(function (err) {
        message("error", err.message);
      }).then(function () {
        state.busy = false;
        article.removeAttribute("aria-busy");
      });
    }

    function names(ids) {
      var all = (state.reco ? state.reco.candidates.concat(state.reco.pair) : []);
      return ids.map(function (id) {
        var found = all.filter(function (c) { return c.officer_id === id; })[0];
        return found ? found.name : "#" + id;
      }).join("、");
    }

    function dispatch(ids) {
      if (!ids.length) { message("error", text.choose_officer); return; }
      post("dispatch", { officer_ids: ids }, fmt.t("dispatched", { names: names(ids) }));
    }

    // Steps that need words: which fields the form shows and how the body is made.
    var FORMS = {
      reject: { label: text.reason, body: function (v) { return { reason: v.text }; } },
      transfer: { to: true, label: text.reason, body: function (v) { return { to: v.to, reason: v.text }; } },
      answer: { label: text.answer_label, body: function (v) { return { answer: v.text }; } },
      rework: { label: text.rework_label, step: "verify", body: function (v) { return { passed: false, note: v.text }; } },
      close: { label: text.answer_label, body: function (v) { return { answer: v.text }; } }
    };

    function openForm(step) {
      var spec = FORMS[step], form = f("form");
      state.step = step;
      f("form_title").textContent = text[step];
      f("text_label").textContent = spec.label;
      form.querySelector('[data-input="to"]').hidden = !spec.to;
      form.reset();
      if (step === "transfer" && state.detail) { form.elements.to.value = state.detail.transfer_to || ""; }
      form.hidden = false;
      (spec.to ? form.elements.to : form.elements.text).focus();
    }

    function closeForm() {
      var form = f("form");
      form.hidden = true;
      state.step = null;
    }

    article.addEventListener("click", function (evt) {
      var target = evt.target.closest("button");
      if (!target || !article.contains(target)) { return; }
      var action = target.dataset.action, step = target.dataset.step;
      if (action === "dispatch-pair" && state.reco) {
        dispatch(state.reco.pair.map(function (c) { return c.officer_id; }));
      } else if (action === "dispatch-chosen") {
        var ids = [];
        f("candidates").querySelectorAll("input:checked").forEach(function (box) { ids.push(Number(box.value)); });
        dispatch(ids);
      } else if (action === "cancel") {
        closeForm();
      } else if (step === "file") {
        post("file", {});
      } else if (step === "verify") {
        post("verify", { passed: true });
      } else if (step && FORMS[step]) {
        openForm(step);
      }
    });

    f("form").addEventListener("submit", function (evt) {
      evt.preventDefault();
      var spec = FORMS[state.step], form = evt.target;
      if (!spec) { return; }
      post(spec.step || state.step, spec.body({ text: form.elements.text.value, to: form.elements.to.value }));
    });

    return {
      show: show,
      reload: function () { return state.id === null ? Promise.resolve() : load(state.id, true); },
      current: function () { return state.id; }
    };
  };
})();
