#!/usr/bin/env bash
# Regenerates docs/counterexample.png, the README's picture of a counterexample page: builds
# the CLI, renders the page of a saved counterexample (`lockproof trace FILE --html OUT`) and
# screenshots it in headless Chromium 1280 pixels wide (installed from Debian when missing).
#   bash ci/screenshot.sh [SCHEDULE]     (default: a tutorial deadlock, ex-1.4-01)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/deps.sh
source ci/deps.sh
ensure_cmd chromium chromium

schedule=${1:-corpus/schedules/ex-1.4-01/loom-bound0-001.schedule}
out=docs/counterexample.png
height=${HEIGHT:-1250}   # tall enough for the default page's waits-for graph

cargo build --quiet -p lockproof-cli
bin=${CARGO_TARGET_DIR:-target}/debug/lockproof

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" trace "$schedule" --html "$work/page.html"
# timeout signals chromium's whole process group (renderers included) when it hangs.
timeout --kill-after=10 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --no-default-browser-check --disable-extensions --user-data-dir="$work/profile" \
  --hide-scrollbars --window-size=1280,"$height" --screenshot="$work/shot.png" \
  "file://$work/page.html" 2>"$work/chromium.log" || {
  cat "$work/chromium.log" >&2
  echo "ci/screenshot.sh: chromium failed" >&2
  exit 1
}
mkdir -p docs
cp "$work/shot.png" "$out"
echo "$out: $schedule at 1280x$height"
