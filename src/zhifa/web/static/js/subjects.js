// Subject maps (Leaflet, vendored; tiles only when configured) and the subject form's helpers:
// tap the map or use the device position to fill longitude/latitude; show the fence fields
// of the chosen fence kind. Coordinates are WGS-84 [lon, lat] throughout.
(function () {
  "use strict";

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function addTiles(map, el) {
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
  }

  var COLOURS = { green: "#067647", amber: "#b54708", red: "#b42318", grey: "#5b6470" };

  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = props.name;
    box.appendChild(link);
    if (props.address) {
      var line = document.createElement("div");
      line.textContent = props.address;
      box.appendChild(line);
    }
    return box;
  }

  // Layers are built first and added once the view is set: Leaflet projects circles and markers
  // when they are added, which needs a map that already has a centre and zoom.
  function subjectLayers(data, bounds) {
    var layers = [];
    (data.features || []).forEach(function (f) {
      var p = f.properties, colour = COLOURS[p.colour] || COLOURS.grey;
      var lonlat = f.geometry.coordinates, latlng = L.latLng(lonlat[1], lonlat[0]);
      if (p.fence) {
        var fence = L.geoJSON(p.fence, { style: { color: colour, weight: 2, fillOpacity: 0.15 } });
        layers.push(fence);
        bounds.extend(fence.getBounds());
      } else if (p.radius_m) {
        layers.push(L.circle(latlng, { radius: p.radius_m, color: colour, weight: 2, fillOpacity: 0.15 }));
        bounds.extend(latlng.toBounds(p.radius_m * 2));
      }
      layers.push(L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1 })
        .bindPopup(popup(p)));
      bounds.extend(latlng);
    });
    return layers;
  }

  function gridLayers(data, bounds) {
    if (!data || !(data.features || []).length) { return []; }
    var layer = L.geoJSON(data, {
      style: { color: "#0b5cad", weight: 1, dashArray: "4 4", fillOpacity: 0.04 },
      onEachFeature: function (f, l) {
        var tip = document.createElement("span");
        tip.textContent = f.properties.code + " " + f.properties.name;
        l.bindTooltip(tip);
      }
    });
    bounds.extend(layer.getBounds());
    return [layer];
  }

  function pickPoint(map, el) {
    var lon = document.getElementById("f-lon"), lat = document.getElementById("f-lat");
    if (!lon || !lat) { return; }
    var marker = null;
    function place(la, lo, pan) {
      if (marker) { marker.setLatLng([la, lo]); } else { marker = L.marker([la, lo]).addTo(map); }
      if (pan) { map.setView([la, lo], Math.max(map.getZoom(), 16)); }
    }
    var a = parseFloat(lat.value), o = parseFloat(lon.value);
    if (isFinite(a) && isFinite(o)) { place(a, o, true); }
    map.on("click", function (e) {
      lon.value = e.latlng.lng.toFixed(6);
      lat.value = e.latlng.lat.toFixed(6);
      place(e.latlng.lat, e.latlng.lng, false);
    });
    var locate = document.querySelector("[data-locate]");
    if (locate && navigator.geolocation) {
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          lon.value = pos.coords.longitude.toFixed(6);
          lat.value = pos.coords.latitude.toFixed(6);
          place(pos.coords.latitude, pos.coords.longitude, true);
        }, function () { locate.disabled = true; }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  function initMap(el) {
    if (!window.L || el.dataset.ready) { return; }
    el.dataset.ready = "1";
    var map = L.map(el, { attributionControl: true });
    addTiles(map, el);
    var bounds = L.latLngBounds([]);
    var layers = gridLayers(readJson(el.dataset.grids), bounds);
    var subjects = readJson(el.dataset.subjects);
    if (subjects) { layers = layers.concat(subjectLayers(subjects, bounds)); }
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 }); }
    else { map.setView([35.0, 104.0], 4); }
    layers.forEach(function (layer) { layer.addTo(map); });
    if (el.hasAttribute("data-pick-point")) { pickPoint(map, el); }
  }

  function fenceFields(root) {
    var mode = root.querySelector("[data-fence-mode]");
    if (!mode) { return; }
    function show() {
      root.querySelectorAll("[data-fence-part]").forEach(function (part) {
        part.hidden = part.dataset.fencePart !== mode.value;
      });
    }
    mode.addEventListener("change", show);
    show();
  }

  function init(root) {
    if (root.matches && root.matches("[data-subject-map]")) { initMap(root); }
    root.querySelectorAll("[data-subject-map]").forEach(initMap);
    fenceFields(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // The form is swapped in place by htmx after a refusal: set up its map and fence fields again.
  document.addEventListener("htmx:load", function (evt) { init(evt.target); });
})();
