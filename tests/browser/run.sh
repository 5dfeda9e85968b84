#!/usr/bin/env bash
# Browser tests of the web console: Debian's Chromium + Playwright for Python (no browser
# download). Installs what is missing (quick when present), builds ordo, runs the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if ! python3 -c "import playwright" 2>/dev/null; then
  pip install -q playwright || pip install -q --break-system-packages playwright
fi
cargo build -q -p ordo-cli
python3 tests/browser/console_test.py
python3 tests/browser/demo_walkthrough.py
