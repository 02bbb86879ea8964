#!/usr/bin/env bash
# Refreshes the front-end files the web UI vendors from npm, at the versions pinned in Api/ui-vendor/package-lock.json:
# npm ci there, then copy the distributed files into Api/wwwroot/lib/. The copies are committed, so building the
# solution never needs npm or the network. Run after changing a version in Api/ui-vendor/package.json (npm install there first).
set -euo pipefail
cd "$(dirname "$0")/../Api/ui-vendor"
npm ci --no-audit --no-fund --loglevel=error
lib=../wwwroot/lib
rm -rf "$lib/uplot" && mkdir -p "$lib/uplot"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE "$lib/uplot/"
echo "vendored: uplot $(node -p 'require("./node_modules/uplot/package.json").version')"
