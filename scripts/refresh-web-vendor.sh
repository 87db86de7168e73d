#!/usr/bin/env bash
# Refresh the web app's vendored front-end files (app/web/vendor/) from the npm registry, with their licenses.
#
#   scripts/refresh-web-vendor.sh                 # the versions pinned below
#   ECHARTS_VERSION=6.2.0 scripts/refresh-web-vendor.sh
#
# Needs npm (only to run this script; the app itself needs no Node and no build step). Each package lands in a
# folder named after its version, so the server can cache it forever; app/web/js/lib.js is the one module that
# imports from these folders and is rewritten to the new paths. Old folders are removed.
set -euo pipefail

ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"
BRAZIL_VERSION="${BRAZIL_VERSION:-2.0.0}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/app/web/vendor"
LIB="$ROOT/app/web/js/lib.js"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked into $TMP/NAME/package
  local name="$1" version="$2" dir="$TMP/${1//\//_}"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar xzf ./*.tgz)
  echo "$dir/package"
}

# ECharts' browser ES module bundles zrender (BSD-3-Clause) and tslib (0BSD): their licenses travel with it.
echarts="$(fetch echarts "$ECHARTS_VERSION")"
zrender_version="$(node -p "require('$echarts/package.json').dependencies.zrender")"
tslib_version="$(node -p "require('$echarts/package.json').dependencies.tslib")"
zrender="$(fetch zrender "$zrender_version")"
tslib="$(fetch tslib "$tslib_version")"
brazil="$(fetch @svg-maps/brazil "$BRAZIL_VERSION")"

rm -rf "$VENDOR"
mkdir -p "$VENDOR/echarts-$ECHARTS_VERSION" "$VENDOR/svg-maps-brazil-$BRAZIL_VERSION"

out="$VENDOR/echarts-$ECHARTS_VERSION"
cp "$echarts/dist/echarts.esm.min.mjs" "$out/echarts.esm.min.js"
cp "$echarts/LICENSE" "$out/LICENSE"
cp "$echarts/NOTICE" "$out/NOTICE"
cp "$echarts/licenses/LICENSE-d3" "$out/LICENSE-d3"
cp "$zrender/LICENSE" "$out/LICENSE-zrender"
cp "$tslib/LICENSE.txt" "$out/LICENSE-tslib"
# Served instead of the file to clients that accept gzip (about a third of the size).
gzip -9 -n -k "$out/echarts.esm.min.js"

# The map: an ES module exporting {label, viewBox, locations: [{name, id, path}]} (MapSVG's map, CC BY 4.0).
out="$VENDOR/svg-maps-brazil-$BRAZIL_VERSION"
cp "$brazil/index.js" "$out/brazil.js"
cp "$brazil/LICENSE.md" "$out/LICENSE.md"
cp "$brazil/README.md" "$out/README.md"

cat > "$VENDOR/README.md" <<EOF
# Vendored front-end files

Refreshed by \`scripts/refresh-web-vendor.sh\` from the npm registry; do not edit by hand.

| folder | npm package | license |
|---|---|---|
| \`echarts-$ECHARTS_VERSION/\` | \`echarts@$ECHARTS_VERSION\` (\`dist/echarts.esm.min.mjs\`), bundling \`zrender@$zrender_version\` and \`tslib@$tslib_version\` | Apache-2.0 (\`LICENSE\`, \`NOTICE\`; d3 parts BSD-3-Clause: \`LICENSE-d3\`); zrender BSD-3-Clause (\`LICENSE-zrender\`); tslib 0BSD (\`LICENSE-tslib\`) |
| \`svg-maps-brazil-$BRAZIL_VERSION/\` | \`@svg-maps/brazil@$BRAZIL_VERSION\` (\`index.js\`) | CC BY 4.0 (\`LICENSE.md\`): map by MapSVG (mapsvg.com), packaged by Victor Cazanave; the app credits it under the map |
EOF

# Point the one importing module at the new folders.
sed -i -E \
  -e "s#vendor/echarts-[0-9A-Za-z.+-]+/#vendor/echarts-$ECHARTS_VERSION/#" \
  -e "s#vendor/svg-maps-brazil-[0-9A-Za-z.+-]+/#vendor/svg-maps-brazil-$BRAZIL_VERSION/#" \
  "$LIB"
echo "vendored echarts $ECHARTS_VERSION (zrender $zrender_version, tslib $tslib_version), @svg-maps/brazil $BRAZIL_VERSION"
