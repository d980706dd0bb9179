#!/bin/bash
# `ruuvictl serve --ui` start → first dashboard answer, on a given store against an empty one
# measured in the same run (a benchmark, not a test). Loopback only; ends what it starts by PID.
# Usage: tests/bench-serve-start.sh STORE.sqlite [runs]   (target/release/ruuvictl, or RUUVICTL)
set -euo pipefail
store=$(realpath "$1")
runs=${2:-5}
ruuvictl=${RUUVICTL:-target/release/ruuvictl}
[ -x "$ruuvictl" ] || { echo "no $ruuvictl: cargo build --release -p ruuvictl" >&2; exit 2; }
work=$(mktemp -d)
pid=''
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Milliseconds from start to the first answer of POST /api/dashboard.
first_answer() {
  local db=$1 start ui token base
  start=$(date +%s%N)
  RUUVI_DESK_DATA_DIR="$work/data" DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus \
    "$ruuvictl" serve --http --listen 127.0.0.1:0 --no-admin --ui 127.0.0.1:0 --store "$db" \
    >"$work/out" 2>/dev/null &
  pid=$!
  for _ in $(seq 1 600); do
    ui=$(grep -o '"ui": *"[^"]*"' "$work/out" 2>/dev/null | sed 's/.*"\(http[^"]*\)"/\1/' || true)
    [ -n "$ui" ] && break
    sleep 0.01
  done
  [ -n "$ui" ] || { echo "serve did not start" >&2; exit 1; }
  token=${ui##*#token=}
  base=${ui%%/#*}
  for _ in $(seq 1 3000); do
    if curl -sf -o "$work/dashboard" -X POST -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d '{}' "$base/api/dashboard"; then
      break
    fi
    sleep 0.005
  done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=''
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

empty="$work/empty.sqlite"
base_ms=$(for _ in $(seq 1 "$runs"); do rm -f "$empty"*; first_answer "$empty"; done | median)
big_ms=$(for _ in $(seq 1 "$runs"); do first_answer "$store"; done | median)
cards=$(grep -o '"sensor"' "$work/dashboard" | wc -l)
echo "serve --ui start → first dashboard answer: ${big_ms} ms with $(du -h "$store" | cut -f1) ($cards sensors), ${base_ms} ms empty (median of $runs)"
