#!/usr/bin/env bash
# Rebuild jobmetrics/reports/assets/vendor/plotly-jobmetrics.min.js: plotly.js core (scatter and
# every layout component: annotations, shapes, legend, colorbar, modebar, ...) plus the bar,
# heatmap, funnel and waterfall traces, the only trace types jobmetrics/reports/charts.py and
# annotations.py draw. Not run by setup or tests: the vendored file is what ships. Needs node and npm
# (registry access); works in a temporary folder and writes only the bundle and the licence.
#
# Usage: scripts/build_plotly_bundle.sh [plotly.js version]   (default: the vendored one)
# A new version: run this, build a site, run tests/reports/test_browser.py, look at the charts,
# and update the version line in assets/vendor/README.md.
set -euo pipefail

PLOTLY_VERSION="${1:-4.1.1}"
ESBUILD_VERSION="0.28.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/jobmetrics/reports/assets/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --save-exact "plotly.js@$PLOTLY_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
cat > entry.js <<'JS'
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/funnel'),
    require('plotly.js/lib/waterfall')
]);
module.exports = Plotly;
JS
BANNER="/**
* plotly.js v$PLOTLY_VERSION, partial bundle for JobMetrics: core (scatter) + bar, heatmap, funnel, waterfall
* Copyright 2012-2026, Plotly, Inc. All rights reserved. Licensed under the MIT license (LICENSE-plotly.js.txt)
* Built by scripts/build_plotly_bundle.sh with esbuild $ESBUILD_VERSION
*/"
# The options of plotly.js's own esbuild-config.js (iife, global Plotly, es2016, global=window,
# no AMD); the maplibre-gl stylesheet that src/registry.js requires for map traces is left out
# (--loader:.css=empty): no map trace is registered.
npx --no-install esbuild entry.js --bundle --minify --format=iife --global-name=Plotly \
    --target=es2016 --define:global=window --define:define.amd=false --loader:.css=empty \
    --legal-comments=external --banner:js="$BANNER" --log-level=warning --outfile=plotly-jobmetrics.min.js

cp plotly-jobmetrics.min.js "$VENDOR/plotly-jobmetrics.min.js"
# plotly.js's licence, then the licence comments of the packages esbuild bundled with it
{ cat node_modules/plotly.js/LICENSE; printf '\n\n'; cat plotly-jobmetrics.min.js.LEGAL.txt; } \
    > "$VENDOR/LICENSE-plotly.js.txt"
wc -c "$VENDOR/plotly-jobmetrics.min.js"
sha256sum "$VENDOR/plotly-jobmetrics.min.js"
