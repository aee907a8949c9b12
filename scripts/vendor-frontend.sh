#!/usr/bin/env bash
# Re-vendor the front-end packages from the npm registry into the repository.
# Nothing is loaded from a CDN at run time; these files are committed.
# Usage: scripts/vendor-frontend.sh   (needs npm and network access to the npm registry, and
# fontTools with brotli in the project's virtualenv: `make install-test`; PYTHON=... picks another)
set -euo pipefail

DKFDS_VERSION=11.2.0
HTMX_VERSION=2.0.11
AXE_VERSION=4.14.1

root=$(cd "$(dirname "$0")/.." && pwd)
python="${PYTHON:-$root/.venv/bin/python}"
"$python" -c 'import fontTools.subset, brotli' 2>/dev/null || {
  echo "$python cannot import fontTools and brotli, which cut the fonts down: run make install-test." >&2
  exit 1
}
static="$root/gensidig/static/gensidig/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "dkfds@$DKFDS_VERSION" "htmx.org@$HTMX_VERSION" "axe-core@$AXE_VERSION" >/dev/null
for tgz in *.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done

# Det Fælles Designsystem: minified CSS and JS, and only the fonts and images the CSS refers to.
dk="$work/dkfds-$DKFDS_VERSION/package/dist"
rm -rf "$static/dkfds" && mkdir -p "$static/dkfds/css" "$static/dkfds/js"
# The source map is not shipped; drop the reference so static file hashing does not look for it.
sed '/sourceMappingURL/d' "$dk/css/dkfds.min.css" > "$static/dkfds/css/dkfds.min.css"
sed '/sourceMappingURL/d' "$dk/js/dkfds.min.js" > "$static/dkfds/js/dkfds.min.js"
# IBM Plex Sans, cut down to the faces and characters the pages use, WOFF2 only, under a name of
# its own (Plex is reserved to the original); the CSS's @font-face rules are rewritten to match.
fonts="$static/dkfds/fonts/GensidigSans"
"$python" "$root/scripts/subset-fonts.py" --source "$dk/fonts/IBMPlexSans/complete/woff2" \
  --css "$static/dkfds/css/dkfds.min.css" --out "$fonts"
cp "$dk/fonts/IBMPlexSans/complete/woff2/license.txt" "$fonts/OFL-license.txt"
grep -o 'url([^)]*)' "$static/dkfds/css/dkfds.min.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/[?#].*//' -e "s/[\"']//g" \
  | sort -u | while read -r ref; do
    case "$ref" in data:*|../fonts/GensidigSans/*) continue ;; esac
    rel="${ref#../}"
    mkdir -p "$static/dkfds/$(dirname "$rel")"
    cp "$dk/$rel" "$static/dkfds/$rel"
  done
cp "$dk/LICENSE.md" "$static/dkfds/LICENSE.md"

# htmx: progressive enhancement only; every page works without it.
rm -rf "$static/htmx" && mkdir -p "$static/htmx"
cp "$work/htmx.org-$HTMX_VERSION/package/dist/htmx.min.js" "$static/htmx/htmx.min.js"
cp "$work/htmx.org-$HTMX_VERSION/package/LICENSE" "$static/htmx/LICENSE"

# axe-core: used by the browser tests only, so it lives with them, not in the served static files.
mkdir -p "$root/tests/e2e/vendor"
cp "$work/axe-core-$AXE_VERSION/package/axe.min.js" "$root/tests/e2e/vendor/axe.min.js"
cp "$work/axe-core-$AXE_VERSION/package/LICENSE" "$root/tests/e2e/vendor/axe-LICENSE"

echo "vendored dkfds $DKFDS_VERSION, htmx $HTMX_VERSION, axe-core $AXE_VERSION"
