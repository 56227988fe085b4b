#!/usr/bin/env bash
# Copy the front-end packages installed by npm into the app's static folder (served by the app,
# never from a CDN). Run after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/zhifa/web/static/vendor
mkdir -p "$dest/leaflet/images"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp node_modules/leaflet/dist/images/*.png "$dest/leaflet/images/"
mkdir -p "$dest/swagger-ui"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
  node_modules/swagger-ui-dist/favicon-32x32.png "$dest/swagger-ui/"
mkdir -p "$dest/signature_pad"
cp node_modules/signature_pad/dist/signature_pad.umd.min.js node_modules/signature_pad/LICENSE \
  "$dest/signature_pad/"
mkdir -p "$dest/echarts"
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE "$dest/echarts/"
