#!/usr/bin/env bash
# Regenerates the screenshots of the `ittai serve` workbench (1280×800): home.png,
# purpose.png, conditions.png, list.png, person.png and indicators.png. Starts the server on
# a temporary copy of sample_data (the walk-through adds a support record; the committed
# sample stays as it is), walks through it in headless Chromium with tests/e2e/serve.mjs
# (the same walk as the integration test tests/it/serve.rs), and stops the server.
#
# Usage: scripts/screenshots_serve.sh [SCREENSHOT_DIR]     (default: docs/images)
#   ITTAI=path/to/ittai uses that binary; otherwise `cargo build --release` builds one.
# Needs: chromium and fonts-noto-cjk (Debian: apt-get install chromium fonts-noto-cjk),
# Node.js >= 18 with npm (tests/e2e/node_modules is installed with `npm ci` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

shots=${1:-docs/images}
if [ -z "${ITTAI:-}" ]; then
  cargo build --release --quiet --bin ittai
  ITTAI="${CARGO_TARGET_DIR:-target}/release/ittai"
fi
[ -x "$ITTAI" ] || { echo "screenshots_serve: $ITTAI is not an executable" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "screenshots_serve: node not found (apt-get install nodejs npm)" >&2; exit 1; }
[ -d tests/e2e/node_modules/playwright-core ] || npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/data"
cp sample_data/*.parquet "$tmp/data/"
"$ITTAI" serve --data "$tmp/data" --out "$tmp/out" --no-open >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
# The server prints "ittai serve: http://127.0.0.1:PORT/ …" once it listens; the first
# start validates the dataset (up to 300 s).
url=
for _ in $(seq 600); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]\+' "$tmp/serve.out" | head -1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "screenshots_serve: ittai serve ended before listening:" >&2
    cat "$tmp/serve.out" "$tmp/serve.err" >&2
    exit 1
  fi
  sleep 0.5
done
[ -n "$url" ] || { echo "screenshots_serve: ittai serve printed no address within 300 s" >&2; cat "$tmp/serve.err" >&2; exit 1; }
echo "screenshots_serve: $url"
mkdir -p "$shots"
node tests/e2e/serve.mjs --url "$url/" --out "$tmp/result.json" --screenshots "$shots" --downloads "$tmp/downloads"
