// The desk's complaint pages: the hotline form's map (tap to pin, grids drawn; the pin fills
// longitude/latitude and asks htmx for possible duplicates), the detail page's map, and the
// countdowns to the SLA deadlines, ticking every second. Coordinates are WGS-84 [lon, lat].
(function () {
  "use strict";

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function pinIcon() {
    return L.divIcon({ className: "", html: '<div class="pin-icon"></div>', iconSize: [26, 26], iconAnchor: [13, 28] });
  }

  function gridLayer(data) {
    if (!data || !(data.features || []).length) { return null; }
    return L.geoJSON(data, {
      style: { color: "#0b5cad", weight: 1, dashArray: "4 4", fillOpacity: 0.05 },
      onEachFeature: function (f, layer) {
        var tip = document.createElement("span");
        tip.textContent = (f.properties.code || "") + " " + (f.properties.name || "");
        layer.bindTooltip(tip);
      }
    });
  }

  function pickPoint(map, root) {
    var lon = root.querySelector("#f-lon"), lat = root.querySelector("#f-lat");
    if (!lon || !lat) { return; }
    var marker = null;
    function place(la, lo, pan) {
      if (marker) { marker.setLatLng([la, lo]); }
      else { marker = L.marker([la, lo], { icon: pinIcon(), keyboard: false }).addTo(map); }
      if (pan) { map.setView([la, lo], Math.max(map.getZoom(), 16)); }
    }
    var a = parseFloat(lat.value), o = parseFloat(lon.value);
    if (isFinite(a) && isFinite(o)) { place(a, o, true); }
    map.on("click", function (e) {
      lon.value = e.latlng.lng.toFixed(6);
      lat.value = e.latlng.lat.toFixed(6);
      place(e.latlng.lat, e.latlng.lng, false);
      document.body.dispatchEvent(new CustomEvent("pin-changed"));
    });
  }

  function initMap(el) {
    if (!window.L || el.dataset.ready) { return; }
    el.dataset.ready = "1";
    var map = L.map(el, { attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var bounds = L.latLngBounds([]);
    var grids = gridLayer(readJson(el.dataset.grids));
    if (grids) { bounds.extend(grids.getBounds()); }
    var point = readJson(el.dataset.point);
    if (point && isFinite(point.lat) && isFinite(point.lon)) {
      map.setView([point.lat, point.lon], 16);
    } else if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    } else {
      map.setView([35.0, 104.0], 4);
    }
    if (grids) { grids.addTo(map); }
    if (point && isFinite(point.lat) && isFinite(point.lon)) {
      L.marker([point.lat, point.lon], { icon: pinIcon(), keyboard: false }).addTo(map);
    }
    if (el.hasAttribute("data-pick-point")) { pickPoint(map, el.closest("form") || document); }
  }

  // ---- countdowns -----------------------------------------------------------------------------
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
    return text;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.dataset.countdown);
      if (!isFinite(due)) { return; }
      var left = (due - now) / 1000;
      el.classList.toggle("late", left < 0);
      el.textContent = (left < 0 ? el.dataset.lateLabel : el.dataset.leftLabel) + " " + format(left);
    });
  }

  function init(root) {
    if (root.matches && root.matches("[data-desk-map]")) { initMap(root); }
    root.querySelectorAll("[data-desk-map]").forEach(initMap);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    if (document.querySelector("[data-countdown]")) { tick(); setInterval(tick, 1000); }
  });
  // The entry form is swapped in place by htmx after a refusal: set up its map again.
  document.addEventListener("htmx:load", function (evt) { init(evt.target); });
})();
