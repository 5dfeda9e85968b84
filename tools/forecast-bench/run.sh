#!/usr/bin/env bash
# Forecast accuracy against established tools (external programs; Python never runs in ordo):
#   1. export public sales series shipped inside pmdarima to CSV (never committed),
#   2. `ordo bench forecast` evaluates ordo and seasonal naive at rolling origins (and writes
#      the generated intermittent series beside them, and its origins to JSON),
#   3. compare.py runs statsforecast's AutoETS and CrostonOptimized on the same series and
#      origins and prints one table; it fails if ordo is worse than seasonal naive anywhere.
# `--full` uses every series; the default (CI) a small subset. Installs into $VENV (default
# <repo>/.venv-forecast).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv-forecast}"
PY="$VENV/bin/python"
if ! "$PY" -c 'import statsforecast, pmdarima' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi
SUBSET=(--ci); INTERMITTENT=3
if [ "${1:-}" = "--full" ]; then SUBSET=(); INTERMITTENT=6; fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
"$PY" "$HERE/export_series.py" "$TMP/series" "${SUBSET[@]}"
# The debug build CI already has: accuracy does not depend on the build (0.3 s here).
(cd "$ROOT" && cargo build -q -p ordo-cli)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ordo"
# Accuracy only here (--items 0): the speed figure is `ordo bench forecast` run by hand.
"$BIN" bench forecast --series "$TMP/series" --intermittent "$INTERMITTENT" --items 0 --out "$TMP/ordo.json" || true
"$PY" "$HERE/compare.py" "$TMP/series" "$TMP/ordo.json"
