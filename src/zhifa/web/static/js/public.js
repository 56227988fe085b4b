// The citizen's public page (/c/): the map pin (tap, or the phone's position), the chosen
// category's extra questions, the anonymous switch, photo previews (shrunk before upload) and a
// submit button that cannot be pressed twice. Everything still works without this script: the
// address stands in for the pin and the photos go up as taken. Coordinates are WGS-84.
(function () {
  "use strict";

  var MAX_SIDE = 1600;      // longest side of a shrunk photo, in pixels
  var SHRINK_ABOVE = 600000; // photos under this many bytes go up as they are

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  // ---- the category's extra questions --------------------------------------------------------
  function categories(form) {
    var sections = form.querySelectorAll("[data-attrs-for]");
    function show() {
      var chosen = form.querySelector("input[name=category]:checked");
      var code = chosen ? chosen.value : "";
      sections.forEach(function (section) {
        var on = section.getAttribute("data-attrs-for") === code;
        section.hidden = !on;
        section.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !on; });
      });
    }
    form.querySelectorAll("input[name=category]").forEach(function (el) {
      el.addEventListener("change", show);
    });
    show();
  }

  // ---- the map pin ---------------------------------------------------------------------------
  function pinIcon() {
    return L.divIcon({ className: "", html: '<div class="pin-icon"></div>', iconSize: [28, 28], iconAnchor: [14, 30] });
  }

  function mapPicker(form) {
    var el = form.querySelector("[data-public-map]");
    var lon = form.querySelector("input[name=lon]"), lat = form.querySelector("input[name=lat]");
    var status = form.querySelector("[data-pin-status]");
    if (!el || !window.L || !lon || !lat) { return; }
    el.hidden = false;
    form.querySelectorAll("[data-needs-map]").forEach(function (x) { x.hidden = false; });
    var map = L.map(el, { attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var bounds = L.latLngBounds([]);
    var outline = readJson(el.dataset.boundary);
    var grids = readJson(el.dataset.grids);
    var layers = [];
    if (outline) {
      layers.push(L.geoJSON(outline, { style: { color: "#0b3a6b", weight: 2, fill: false }, interactive: false }));
    }
    if (grids && (grids.features || []).length) {
      layers.push(L.geoJSON(grids, { style: { color: "#0b5cad", weight: 1, dashArray: "4 4", fillOpacity: 0.04 }, interactive: false }));
    }
    layers.forEach(function (layer) { bounds.extend(layer.getBounds()); });
    var centre = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); }
    else if (isFinite(centre[0]) && isFinite(centre[1])) { map.setView(centre, 14); }
    else { map.setView([30.66, 104.06], 11); }
    layers.forEach(function (layer) { layer.addTo(map); });

    var marker = null;
    function place(la, lo, pan) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      if (marker) { marker.setLatLng([la, lo]); }
      else { marker = L.marker([la, lo], { icon: pinIcon(), draggable: true, keyboard: false }).addTo(map);
        marker.on("dragend", function () { var p = marker.getLatLng(); place(p.lat, p.lng, false); }); }
      if (pan) { map.setView([la, lo], Math.max(map.getZoom(), 17)); }
      if (status) { status.textContent = status.dataset.placed; }
      el.dispatchEvent(new CustomEvent("pin-changed", { bubbles: true }));
    }
    var a = parseFloat(lat.value), o = parseFloat(lon.value);
    if (isFinite(a) && isFinite(o)) { place(a, o, true); }
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false); });

    var locate = form.querySelector("[data-locate]");
    if (locate) {
      if (!navigator.geolocation) { locate.hidden = true; }
      locate.addEventListener("click", function () {
        var label = locate.textContent;
        locate.disabled = true;
        locate.textContent = locate.dataset.busy || label;
        navigator.geolocation.getCurrentPosition(function (pos) {
          locate.disabled = false;
          locate.textContent = label;
          place(pos.coords.latitude, pos.coords.longitude, true);
        }, function () {
          locate.disabled = false;
          locate.textContent = label;
          if (status) { status.textContent = status.dataset.failed; }
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
    var clear = form.querySelector("[data-clear-pin]");
    if (clear) {
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        lon.value = ""; lat.value = "";
        if (status) { status.textContent = status.dataset.empty; }
      });
    }
  }

  // ---- anonymous until a name or phone is typed ----------------------------------------------
  function anonymity(form) {
    var box = form.querySelector("input[name=anonymous]");
    var fields = ["reporter_name", "reporter_phone"].map(function (n) { return form.querySelector("input[name=" + n + "]"); })
      .filter(Boolean);
    if (!box) { return; }
    var touched = false;
    box.addEventListener("change", function () { touched = true; });
    fields.forEach(function (input) {
      input.addEventListener("input", function () {
        if (touched) { return; }
        box.checked = !fields.some(function (f) { return f.value.trim() !== ""; });
      });
    });
  }

  // ---- photos: previews, the limit, and shrinking before upload -------------------------------
  function photos(form) {
    var input = form.querySelector("input[type=file][name=photos]");
    var box = form.querySelector("[data-thumbs]");
    var note = form.querySelector("[data-photo-note]");
    if (!input) { return; }
    var max = parseInt(input.dataset.max || "9", 10);
    input.addEventListener("change", function () {
      if (box) {
        box.textContent = "";
        Array.prototype.slice.call(input.files, 0, max).forEach(function (file) {
          var img = document.createElement("img");
          img.alt = file.name;
          img.src = URL.createObjectURL(file);
          box.appendChild(img);
        });
      }
      if (note) {
        note.textContent = input.files.length > max ? note.dataset.tooMany : "";
        note.hidden = input.files.length <= max;
      }
    });
  }

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < SHRINK_ABOVE || !window.createImageBitmap) {
        resolve(file);
        return;
      }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          resolve(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        }, "image/jpeg", 0.85);
      }).catch(function () { resolve(file); });
    });
  }

  function submitOnce(form) {
    var input = form.querySelector("input[type=file][name=photos]");
    var button = form.querySelector("[data-submit]");
    var label = button ? button.textContent : "";
    var sending = false;
    // Back from the next page (the browser's page cache): the form can be sent again, as a new
    // report (a new submission id; the same id would be answered with the first report).
    window.addEventListener("pageshow", function (evt) {
      if (!evt.persisted) { return; }
      sending = false;
      if (button) { button.disabled = false; button.textContent = label; }
      var id = form.querySelector("input[name=submission]");
      if (id && window.crypto && window.crypto.getRandomValues) {
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        id.value = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
      }
    });
    form.addEventListener("submit", function (evt) {
      if (sending) { evt.preventDefault(); return; }
      sending = true;
      if (button) { button.disabled = true; button.textContent = button.dataset.busy || button.textContent; }
      if (!input || !input.files.length || !window.DataTransfer || !window.Promise) { return; }
      evt.preventDefault();
      Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
        try {
          var dt = new DataTransfer();
          files.forEach(function (f) { dt.items.add(f); });
          input.files = dt.files;
        } catch (e) { /* keep the originals */ }
        form.submit();
      }, function () { form.submit(); });
    });
  }

  function filingForm(form) {
    categories(form);
    mapPicker(form);
    anonymity(form);
    photos(form);
    submitOnce(form);
  }

  // ---- the tracking number: copy it with one tap ------------------------------------------------
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) { button.hidden = true; return; }
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          button.textContent = button.dataset.done || button.textContent;
        });
      });
    });
  }

  function ratingForms() {
    document.querySelectorAll("form[data-rating]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button").forEach(function (b) { setTimeout(function () { b.disabled = true; }, 0); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-filing]").forEach(filingForm);
    copyButtons();
    ratingForms();
  });
})();
