#!/usr/bin/env bash
# Starts, lists and stops N `ordo run` processes on this machine against one PostgreSQL schema
# and one RabbitMQ prefix (the cluster backend of CONFIG), each with its own HTTP port and log.
#
#   deploy/local-cluster.sh start N     # processes 0..N-1, process K listens on BASE_PORT+K
#   deploy/local-cluster.sh status      # which are running
#   deploy/local-cluster.sh stop        # SIGTERM to each: batches finish or roll back, exit 0
#
# Settings (environment): CONFIG (default config/cluster.yaml), BASE_PORT (8080), RUN_DIR
# (data/cluster: run-K.log and run-K.pid), ORDO (the binary; default target/release/ordo,
# else target/debug/ordo, else `ordo` on PATH), WORKERS (per process; default from CONFIG),
# STOP_WAIT (seconds to wait for each process after SIGTERM, default 20). ORDO_* variables
# (README "Running on several machines") reach every process, e.g. ORDO_PG_SCHEMA.
set -euo pipefail

CONFIG=${CONFIG:-config/cluster.yaml}
BASE_PORT=${BASE_PORT:-8080}
RUN_DIR=${RUN_DIR:-data/cluster}
STOP_WAIT=${STOP_WAIT:-20}

die() { echo "local-cluster: $*" >&2; exit 2; }

ordo_bin() {
  if [ -n "${ORDO:-}" ]; then echo "$ORDO"
  elif [ -x target/release/ordo ]; then echo target/release/ordo
  elif [ -x target/debug/ordo ]; then echo target/debug/ordo
  elif command -v ordo >/dev/null; then command -v ordo
  else die "no ordo binary: build it (cargo build --release) or set ORDO"; fi
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local n=${1:-}
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die "start N: N from 1 to 64, got '${n}'"
  [ -f "$CONFIG" ] || die "$CONFIG: no such file"
  local bin; bin=$(ordo_bin)
  mkdir -p "$RUN_DIR"
  # One check first: a bad config or workflow fails here once, not in N logs.
  "$bin" --config "$CONFIG" check >/dev/null || die "ordo check failed for $CONFIG"
  local k extra=()
  [ -n "${WORKERS:-}" ] && extra=(--workers "$WORKERS")
  for ((k = 0; k < n; k++)); do
    local pidf="$RUN_DIR/run-$k.pid"
    if alive "$pidf"; then echo "run-$k already running (pid $(cat "$pidf"))"; continue; fi
    nohup "$bin" --config "$CONFIG" run --listen "127.0.0.1:$((BASE_PORT + k))" "${extra[@]}" \
      >"$RUN_DIR/run-$k.log" 2>&1 </dev/null &
    echo $! >"$pidf"
    echo "run-$k: pid $!, http://127.0.0.1:$((BASE_PORT + k)), log $RUN_DIR/run-$k.log"
  done
  # Wait until each says it runs (or died), so the caller can use the cluster at once.
  for ((k = 0; k < n; k++)); do
    local i
    for ((i = 0; i < 600; i++)); do
      grep -q "ordo running" "$RUN_DIR/run-$k.log" 2>/dev/null && break
      alive "$RUN_DIR/run-$k.pid" || { tail -5 "$RUN_DIR/run-$k.log" >&2; die "run-$k exited"; }
      sleep 0.1
    done
    grep -q "ordo running" "$RUN_DIR/run-$k.log" || die "run-$k did not start within 60 s"
  done
  echo "$n process(es) running"
}

status() {
  local f any=0
  for f in "$RUN_DIR"/run-*.pid; do
    [ -e "$f" ] || continue
    any=1
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
    else echo "$(basename "$f" .pid): stopped"; fi
  done
  [ "$any" = 1 ] || echo "no processes started from $RUN_DIR"
}

stop() {
  local f failed=0
  for f in "$RUN_DIR"/run-*.pid; do
    [ -e "$f" ] || continue
    alive "$f" && kill -TERM "$(cat "$f")"
  done
  for f in "$RUN_DIR"/run-*.pid; do
    [ -e "$f" ] || continue
    local pid i name; pid=$(cat "$f"); name=$(basename "$f" .pid)
    for ((i = 0; i < STOP_WAIT * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name: still running ${STOP_WAIT} s after SIGTERM, killing" >&2
      kill -KILL "$pid" 2>/dev/null || true
      failed=1
    else
      echo "$name: stopped"
    fi
    rm -f "$f"
  done
  return $failed
}

case "${1:-}" in
  start) start "${2:-}" ;;
  status) status ;;
  stop) stop ;;
  *) die "usage: $0 start N | status | stop" ;;
esac
