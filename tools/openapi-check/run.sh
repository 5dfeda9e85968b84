#!/usr/bin/env bash
# External check of the API's OpenAPI document: starts `ordo run` on a scratch embedded store
# with the API on a free local port, fetches /api/openapi.json, and validates it with the
# openapi-spec-validator package (PyPI, never linked). Installs it into $VENV (default:
# <repo>/.venv-openapi). Prints "N passed, M failed"; exits non-zero unless the document is
# valid OpenAPI 3.1 and lists every route.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv-openapi}"
PY="$VENV/bin/python"
if ! "$PY" -c 'import openapi_spec_validator' 2>/dev/null; then
  python3 -m venv "$VENV" || exit 2
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" || exit 2
fi
(cd "$ROOT" && cargo build -q -p ordo-cli) || exit 2
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ordo"
TMP="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
cp -r "$ROOT/workflows" "$ROOT/rules" "$TMP/"
mkdir -p "$TMP/config"
cp "$ROOT/config/company.yaml" "$TMP/config/"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'store: { sqlite: data/ordo.db }\nqueue: { embedded: {} }\n' > "$TMP/config/ordo.yaml"
(cd "$TMP" && exec "$BIN" run --no-reload --listen "127.0.0.1:$PORT" >"$TMP/run.log" 2>&1) &
PID=$!
for _ in $(seq 1 100); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" 2>/dev/null && break
  sleep 0.2
done
"$PY" - "$PORT" <<'PYEOF'
import json, sys, urllib.request
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

port = sys.argv[1]
passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok:
        passed += 1; print("ok   ", what)
    else:
        failed += 1; print("FAIL ", what)

try:
    doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json"))
except Exception as e:
    print("FAIL  fetch /api/openapi.json:", e); print("0 passed, 1 failed"); sys.exit(1)
check(str(doc.get("openapi", "")).startswith("3.1"), f"openapi version {doc.get('openapi')}")
try:
    validate(doc)
    check(True, "openapi-spec-validator accepts the document")
except OpenAPIValidationError as e:
    check(False, f"openapi-spec-validator: {e}")
routes = [
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/api/openapi.json"),
    ("post", "/api/v1/orders"), ("get", "/api/v1/orders"), ("get", "/api/v1/orders/{id}"),
    ("get", "/api/v1/tasks"), ("post", "/api/v1/tasks/{id}/approve"), ("post", "/api/v1/tasks/{id}/reject"),
    ("get", "/api/v1/invoices/{number}"), ("get", "/api/v1/credit-notes/{number}"),
    ("post", "/api/v1/complaints"), ("get", "/api/v1/complaints/{number}"),
    ("post", "/api/v1/complaints/{number}/decision"), ("get", "/api/v1/recon/exceptions"),
    ("post", "/api/v1/recon/exceptions/{id}/match"), ("post", "/api/v1/recon/exceptions/{id}/reject"),
    ("get", "/api/v1/recon/reports"), ("post", "/api/v1/partners/{partner}/files"),
    ("post", "/api/v1/banks/{account}/statements"), ("get", "/api/v1/instances"),
    ("post", "/api/v1/instances/{id}/retry"), ("post", "/api/v1/events"), ("get", "/api/v1/audit"),
]
for method, path in routes:
    op = doc.get("paths", {}).get(path, {}).get(method)
    check(op is not None, f"{method.upper()} {path} documented")
    if op is not None and path.startswith("/api/v1"):
        codes = set(op.get("responses", {}))
        check("401" in codes, f"{method.upper()} {path} documents 401")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PYEOF
