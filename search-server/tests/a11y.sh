#!/usr/bin/env bash
# Accessibility audit: axe-core and Lighthouse (accessibility) on the start,
# kiosk start, results, no-results and reading pages, served from the sample
# corpus, at 1920x1080, 1080x1920 (touch) and 390x844.
#
#   bash search-server/tests/a11y.sh
#
# Needs node/npm (installs axe-core, lighthouse and puppeteer-core into
# target/a11y-node, outside git) and Debian's chromium (CHROME to override).
# Fails on any serious or critical axe finding or a Lighthouse score < 100.
set -euo pipefail
cd "$(dirname "$0")/../.."
chrome=${CHROME:-/usr/bin/chromium}
port=${PORT:-18095}
node_dir=target/a11y-node
mkdir -p "$node_dir"
if [ ! -d "$node_dir/node_modules/lighthouse" ]; then
  (cd "$node_dir" && npm init -y >/dev/null && npm install --no-audit --no-fund axe-core@4 lighthouse@12 puppeteer-core@24 >/dev/null)
fi
cp search-server/tests/a11y/audit.mjs "$node_dir/audit.mjs"

cargo build --release -p search-server
./target/release/search-server --data target/a11y-data --seed corpus --addr "127.0.0.1:$port" --public-url "http://yuelan.test" &
server=$!
trap 'kill $server' EXIT
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 1
done
node "$node_dir/audit.mjs" "http://127.0.0.1:$port" "$chrome"
