#!/usr/bin/env bash
# Re-vendors the dashboard's third-party files from npm, at pinned
# versions, into static/vendor/, with their licenses and checksums.
#
#   internal/web/vendor.sh        # needs npm and the npm registry
#
# The vendored files are committed: building and running figures needs no
# npm, no network and no build step. Change a version here, run this, and
# commit static/vendor/ (TestVendoredChecksums checks VERSIONS against the
# files, so an edit by hand shows).
set -euo pipefail

CHARTJS_VERSION=4.6.1

cd "$(dirname "$0")"
out=static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm pack downloads the published tarball and checks it against the
# registry's integrity hash.
(cd "$tmp" && npm pack --silent "chart.js@${CHARTJS_VERSION}" >/dev/null && tar xzf "chart.js-${CHARTJS_VERSION}.tgz")
pkg="$tmp/package"
test "$(node -p "require('$pkg/package.json').version")" = "$CHARTJS_VERSION"

# The UMD build defines window.Chart and bundles its one dependency,
# @kurkle/color (MIT); the unminified build's header names the version
# bundled, whose license is vendored beside Chart.js's.
cp "$pkg/dist/chart.umd.min.js" "$out/chart.umd.min.js"
cp "$pkg/LICENSE.md" "$out/chart.js.LICENSE.md"
color_version=$(grep -o '@kurkle/color v[0-9][0-9.]*' "$pkg/dist/chart.umd.js" | head -1 | sed 's/.* v//')
test -n "$color_version"
(cd "$tmp" && npm pack --silent "@kurkle/color@${color_version}" >/dev/null && mkdir color && tar xzf "kurkle-color-${color_version}.tgz" -C color)
cp "$tmp/color/package/LICENSE.md" "$out/kurkle-color.LICENSE.md"

{
  echo "# Vendored by internal/web/vendor.sh; do not edit by hand."
  echo "# file	npm package@version	license	sha256"
  echo "chart.umd.min.js	chart.js@${CHARTJS_VERSION}	MIT	$(sha256sum "$out/chart.umd.min.js" | cut -d' ' -f1)"
  echo "chart.js.LICENSE.md	chart.js@${CHARTJS_VERSION}	MIT	$(sha256sum "$out/chart.js.LICENSE.md" | cut -d' ' -f1)"
  echo "kurkle-color.LICENSE.md	@kurkle/color@${color_version} (bundled in chart.umd.min.js)	MIT	$(sha256sum "$out/kurkle-color.LICENSE.md" | cut -d' ' -f1)"
} > "$out/VERSIONS"

echo "vendored chart.js ${CHARTJS_VERSION} (with @kurkle/color ${color_version}) into internal/web/$out"
