#!/bin/bash
# Measures the real app under Xvfb (a benchmark, not a test; not run by `make test`):
#   * start → first dashboard paint (the window logs it once the cards are on screen), over
#     several launches;
#   * idle memory: after a minute of live updates with nobody touching the window, RSS and PSS
#     summed over the app and its WebKit processes.
# The sensors are real simulated gateways in another process (`ruuvi-gw-sim`), set up with
# `ruuvictl gateway config set-http` to post every 10 s to the app's own HTTPS receiver, so the
# app's figures do not include the simulators. 8 sensors (2 gateways × 4 tags) are the baseline
# the 1,000-sensor figures (10 × 100) are compared with. Loopback only; needs a keychain, so it
# re-runs itself inside tests/with-keychain.sh.
# Usage: tests/bench-app.sh [app] [launches]   (defaults: target/release/ruuvi-desk, 5)
set -euo pipefail
if [ -z "${RUUVI_DESK_KEYCHAIN_SESSION:-}" ]; then
  exec "$(dirname "$0")/with-keychain.sh" "$0" "$@"
fi
app=$(realpath "${1:-target/release/ruuvi-desk}")
launches=${2:-5}
settle=${SETTLE_SECONDS:-60}
bin=$(dirname "$app")
ruuvictl=${RUUVICTL:-$bin/ruuvictl}
sim=${RUUVI_GW_SIM:-$bin/ruuvi-gw-sim}
needed=("$app" "$ruuvictl")
# A store of its own (BENCH_STORE) needs no simulated gateways.
[ -n "${BENCH_STORE:-}" ] || needed+=("$sim")
for b in "${needed[@]}"; do
  [ -x "$b" ] || { echo "no $b: cargo build --release -p ruuvi-desk -p ruuvictl -p ruuvi-gw-sim" >&2; exit 2; }
done
port=18443
# One X display for every launch here (one app at a time).
display=${BENCH_DISPLAY:-187}
app_pid='' xvfb_pid='' sims=''


tree_pids() {
  echo "$1"
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$child"; done
}
# Sum of a smaps_rollup field (kB) over a process and its descendants.
sum_kb() {
  local total=0 pid value
  for pid in $(tree_pids "$2"); do
    value=$(awk -v f="$1:" '$1 == f {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null || true)
    total=$((total + ${value:-0}))
  done
  echo "$total"
}
# Per process: name and PSS in MB.
breakdown() {
  local pid
  for pid in $(tree_pids "$1"); do
    printf '%s=%sMB ' "$(cat /proc/"$pid"/comm 2>/dev/null)" \
      "$(( $(awk '$1 == "Pss:" {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null || echo 0) / 1024 ))"
  done
}

# Starts Xvfb and the app over data directory $home; sets app_pid and xvfb_pid once the first
# paint is logged. Both are started here, so both are ended by their PIDs (nothing by name).
start_app() {
  local home=$1 log="$1/com.ruuvidesk.desktop/logs/ruuvi-desk.log"
  rm -f "$log"
  Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 1 100); do [ -S "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
  DISPLAY=":$display" XDG_DATA_HOME=$home DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus \
    RUUVI_DESK_DEMO_SENSORS=0 RUUVI_DESK_RECEIVER_LISTEN=127.0.0.1:$port \
    "$app" >/dev/null 2>&1 &
  app_pid=$!
  for _ in $(seq 1 600); do
    grep -q 'first dashboard paint' "$log" 2>/dev/null && break
    sleep 0.1
  done
}
# Stops the app, then its Xvfb.
stop_app() {
  local pid
  for pid in $app_pid $xvfb_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  app_pid='' xvfb_pid=''
}
paint_of() { grep -o 'first dashboard paint [0-9]* ms' "$1/com.ruuvidesk.desktop/logs/ruuvi-desk.log" | grep -o '[0-9]*'; }
cards_of() { grep -o 'cards=[0-9]*' "$1/com.ruuvidesk.desktop/logs/ruuvi-desk.log" | head -1 | cut -d= -f2; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

run() {
  local gateways=$1 tags=$2 home data
  # `run` is a subshell of its own ($(run …)): whatever happens, it ends what it started, by PID.
  trap 'stop_app; [ -z "$sims" ] || kill "$sims" 2>/dev/null || true' EXIT
  home=$(mktemp -d)
  data=$home/com.ruuvidesk.desktop
  mkdir -p "$data"
  # The receiver runs from the start, with the CA `ruuvictl pki init` makes.
  echo '{"receiver_enabled": true}' >"$data/app.json"
  "$ruuvictl" --data-dir "$data" pki init >/dev/null
  start_app "$home"
  # The gateways, configured the way a user does it, posting every 10 s to the app.
  "$sim" --count "$gateways" --tags "$tags" --post-delay-ms 50 --retry-after-failure-ms 2000 >"$home/sims.jsonl" &
  sims=$!
  for _ in $(seq 1 100); do [ "$(wc -l <"$home/sims.jsonl")" -ge "$gateways" ] && break; sleep 0.1; done
  python3 -c 'import json,sys
for l in open(sys.argv[1]): g=json.loads(l); print(g["address"], g["default_password"])' "$home/sims.jsonl" |
    while read -r address password; do
      RUUVI_GATEWAY_PASSWORD=$password "$ruuvictl" --data-dir "$data" gateway config set-http "$address" \
        --ruuvi-cloud off --url "https://127.0.0.1:$port/record" --format ruuvi_raw_and_decoded \
        --interval 10 --our-ca >/dev/null 2>&1 || echo "could not set up $address" >&2
    done
  sleep "$settle"
  local rss pss parts
  rss=$(sum_kb Rss "$app_pid"); pss=$(sum_kb Pss "$app_pid"); parts=$(breakdown "$app_pid")
  stop_app
  # Starts over the history the minute left: the first paint shows every sensor's card.
  local paints=() cards
  for _ in $(seq 1 "$launches"); do
    start_app "$home"
    paints+=("$(paint_of "$home")")
    cards=$(cards_of "$home")
    stop_app
  done
  kill "$sims" 2>/dev/null || true
  wait "$sims" 2>/dev/null || true
  sims=''

  rm -rf "$home"
  local m
  m=$(printf '%s\n' "${paints[@]}" | median)
  echo "sensors=$((gateways * tags)) first_paint_ms=[${paints[*]}] median=$m cards=$cards idle_rss_MB=$((rss / 1024)) idle_pss_MB=$((pss / 1024)) pss_by_process: $parts" >&2
  echo "$m $pss"
}

# BENCH_STORE=FILE: first paint with that store's history (e.g. the history benchmark's month of
# 100 sensors) against an empty store, in the same run; no gateways, no idle figures.
paint_with() {
  local store=$1 home data
  trap 'stop_app' EXIT
  home=$(mktemp -d)
  data=$home/com.ruuvidesk.desktop
  mkdir -p "$data"
  [ -z "$store" ] || cp "$store" "$data/observations.sqlite"
  local paints=()
  for _ in $(seq 1 "$launches"); do
    start_app "$home"
    paints+=("$(paint_of "$home")")
    stop_app
  done
  echo "store=${store:-empty} first_paint_ms=[${paints[*]}] cards=$(cards_of "$home")" >&2
  rm -rf "$home"
  printf '%s\n' "${paints[@]}" | median
}
if [ -n "${BENCH_STORE:-}" ]; then
  empty=$(paint_with '')
  full=$(paint_with "$BENCH_STORE")
  awk -v a="$full" -v b="$empty" -v s="$BENCH_STORE" \
    'BEGIN {printf "first paint with %s: %d ms, empty %d ms (%.2fx)\n", s, a, b, a / b}'
  exit 0
fi

read -r paint_small pss_small <<<"$(run 2 4)"
read -r paint_large pss_large <<<"$(run 10 100)"
awk -v a="$paint_large" -v b="$paint_small" -v c="$pss_large" -v d="$pss_small" \
  'BEGIN {printf "1000 sensors vs the 8-sensor baseline: first paint %.2fx, idle PSS %.2fx\n", a / b, c / d}'
