// The command centre's live map (Leaflet, vendored; tiles only when configured, else a plain
// background): grids with their squad, officers coloured by duty status (a stale fix is drawn
// hollow and grey, with its age), open complaints as pins coloured by SLA state, and today's
// inspected subjects. Coordinates are WGS-84 [lon, lat]. Used by command.js through
// window.CommandMap(el, options) → {setComplaints, upsertOfficer, restyleOfficers, select}.
(function () {
  "use strict";

  var COLOURS = { green: "#067647", amber: "#b54708", red: "#b42318", grey: "#5b6470", blue: "#0b5cad" };

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function textBox(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, i) {
      if (!line) { return; }
      var el = document.createElement(i === 0 ? "strong" : "div");
      el.textContent = line;
      box.appendChild(el);
    });
    return box;
  }

  function gridLayer(data, text) {
    return L.geoJSON(data || { type: "FeatureCollection", features: [] }, {
      style: { color: "#0b5cad", weight: 2, dashArray: "6 4", fillOpacity: 0.03 },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        // Only the short code stays on the map (full names of neighbouring grids overlap at a
        // district's zoom); the name and owning squad show on hover and in a popup on click.
        layer.bindTooltip(p.code || p.name || "",
          { permanent: true, direction: "center", className: "cc-grid-label" });
        layer.bindPopup([p.code, p.name, p.unit].filter(Boolean).join(" · "));
      }
    });
  }

  function subjectLayer(data) {
    var group = L.layerGroup();
    ((data && data.features) || []).forEach(function (f) {
      var p = f.properties, c = f.geometry.coordinates;
      L.circleMarker([c[1], c[0]], { radius: 6, color: "#fff", weight: 2, fillColor: COLOURS[p.colour] || COLOURS.grey, fillOpacity: 0.9 })
        .bindPopup(textBox([p.name, p.address])).addTo(group);
    });
    return group;
  }

  window.CommandMap = function (el, options) {
    var text = options.text, labels = options.labels, onSelect = options.onSelect;
    var map = L.map(el, { attributionControl: true, zoomControl: true });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var grids = gridLayer(readJson(el.dataset.grids), text);
    var subjects = subjectLayer(readJson(el.dataset.subjects));
    var officerGroup = L.layerGroup(), complaintGroup = L.layerGroup();
    var officers = {}, complaints = {}, selected = null;

    function officerStyle(o, nowMs) {
      var duty = labels.duty[o.status] || { colour: "grey", label: o.status };
      var age = o.fix_at ? Math.max(0, (nowMs - Date.parse(o.fix_at)) / 1000) : null;
      var stale = age === null || age > (o.stale_after || 300);
      return {
        stale: stale, age: age, label: duty.label,
        style: stale
          ? { radius: 9, color: COLOURS.grey, weight: 3, dashArray: "3 3", fillOpacity: 0, fillColor: COLOURS.grey }
          : { radius: 9, color: "#fff", weight: 3, dashArray: null, fillOpacity: 1, fillColor: COLOURS[duty.colour] || COLOURS.grey }
      };
    }

    function officerPopup(o, look) {
      var age = look.age === null ? text.no_fix : options.ago(look.age);
      return textBox([o.name, o.unit_name, look.label, look.stale ? text.stale + " · " + age : age]);
    }

    function upsertOfficer(o, nowMs) {
      if (o.lon === null || o.lon === undefined || o.lat === null || o.lat === undefined) { return; }
      var known = officers[o.officer_id];
      if (known) {
        o.unit_name = o.unit_name || known.data.unit_name;
        o.stale_after = o.stale_after || known.data.stale_after;
      }
      var look = officerStyle(o, nowMs || Date.now());
      if (!known) {
        var marker = L.circleMarker([o.lat, o.lon], Object.assign({ className: "cc-officer cc-officer-" + o.officer_id }, look.style));
        marker.bindTooltip(o.name, { permanent: true, direction: "right", offset: [10, 0], className: "cc-officer-label" });
        marker.addTo(officerGroup);
        known = officers[o.officer_id] = { marker: marker, data: o };
      }
      known.data = o;
      known.marker.setLatLng([o.lat, o.lon]);
      known.marker.setStyle(look.style);
      known.marker.bindPopup(officerPopup(o, look));
    }

    function restyleOfficers(nowMs) {
      Object.keys(officers).forEach(function (id) {
        var known = officers[id], look = officerStyle(known.data, nowMs);
        known.marker.setStyle(look.style);
        known.marker.setPopupContent(officerPopup(known.data, look));
      });
    }

    function pinIcon(c) {
      var cls = "cc-pin cc-pin-" + (c.colour || "grey") + (String(c.id) === String(selected) ? " selected" : "") + (c.fresh ? " fresh" : "");
      return L.divIcon({
        className: "cc-pin-wrap",
        html: '<span class="' + cls + '" data-complaint-id="' + Number(c.id) + '"></span>',
        iconSize: [26, 26],
        iconAnchor: [4, 26],
        popupAnchor: [9, -24]
      });
    }

    function setComplaints(items) {
      var seen = {};
      items.forEach(function (c) {
        if (c.lon === null || c.lat === null || isNaN(c.lon) || isNaN(c.lat)) { return; }
        seen[c.id] = true;
        var known = complaints[c.id];
        if (!known) {
          var marker = L.marker([c.lat, c.lon], { icon: pinIcon(c), title: c.tracking_no, riseOnHover: true, keyboard: true });
          marker.on("click", function () { onSelect(c.id); });
          marker.addTo(complaintGroup);
          known = complaints[c.id] = { marker: marker };
        }
        known.data = c;
        known.marker.setLatLng([c.lat, c.lon]);
        known.marker.setIcon(pinIcon(c));
        known.marker.bindTooltip([c.tracking_no, c.category, c.address].filter(Boolean).join(" · "));
      });
      Object.keys(complaints).forEach(function (id) {
        if (!seen[id]) { complaintGroup.removeLayer(complaints[id].marker); delete complaints[id]; }
      });
    }

    function select(id) {
      selected = id;
      Object.keys(complaints).forEach(function (key) {
        complaints[key].marker.setIcon(pinIcon(complaints[key].data));
      });
      var known = complaints[id];
      if (known && !map.getBounds().contains(known.marker.getLatLng())) { map.panTo(known.marker.getLatLng()); }
    }

    (options.officers || []).forEach(function (o) { upsertOfficer(o); });
    setComplaints(options.complaints || []);

    var bounds = L.latLngBounds([]);
    [grids, officerGroup, complaintGroup].forEach(function (layer) {
      layer.eachLayer(function (l) {
        if (l.getBounds) { bounds.extend(l.getBounds()); } else if (l.getLatLng) { bounds.extend(l.getLatLng()); }
      });
    });
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
    else { map.setView([35.0, 104.0], 4); }
    [grids, subjects, officerGroup, complaintGroup].forEach(function (layer) { layer.addTo(map); });
    var overlays = {};
    overlays[text.layer_grids] = grids;
    overlays[text.layer_officers] = officerGroup;
    overlays[text.layer_complaints] = complaintGroup;
    overlays[text.layer_subjects] = subjects;
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);

    return { setComplaints: setComplaints, upsertOfficer: upsertOfficer, restyleOfficers: restyleOfficers, select: select, map: map };
  };
})();
