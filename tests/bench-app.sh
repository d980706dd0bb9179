#!/bin/bash
# Measures the real app under Xvfb (a benchmark, not a test; not run by `make test`):
#   * start → first dashboard paint (the window logs it once the cards are on screen), over
#     several launches each with a fresh data directory, for the default demo (8 sensors) and
#     for 1,000 live demo sensors (10 simulated gateways × 100 tags posting every 10 s);
#   * idle memory with those sensors: after a minute of live updates with nobody touching the
#     window, RSS and PSS summed over the app and its WebKit processes.
# The 8-sensor runs are the baseline the 1,000-sensor figures are compared with.
# Usage: tests/bench-app.sh [path/to/ruuvi-desk] [launches]   (needs xvfb-run; loopback only)
set -euo pipefail
app=${1:-target/release/ruuvi-desk}
launches=${2:-5}
settle=${SETTLE_SECONDS:-60}
[ -x "$app" ] || { echo "no $app: cargo build --release -p ruuvi-desk" >&2; exit 2; }

# Sum of a field (kB) over a process and all its descendants.
tree_pids() {
  local pid=$1
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do tree_pids "$child"; done
}
sum_kb() {
  local field=$1 total=0 pid value
  for pid in $(tree_pids "$2"); do
    value=$(awk -v f="$field:" '$1 == f {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null || true)
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

# One launch over data directory $home: prints "<first paint ms> <cards> [<rss kB> <pss kB>]".
launch() {
  local home=$1 sensors=$2 measure_memory=$3 log pid paint="" cards
  log="$home/com.ruuvidesk.app/logs/ruuvi-desk.log"
  rm -f "$log"
  XDG_DATA_HOME=$home DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus \
    RUUVI_DESK_DEMO_SENSORS=$sensors RUUVI_DESK_RECEIVER_LISTEN=127.0.0.1:0 \
    xvfb-run -a -s "-screen 0 1280x800x24" "$app" >/dev/null 2>&1 &
  local runner=$!
  for _ in $(seq 1 600); do
    paint=$(grep -o 'first dashboard paint [0-9]* ms' "$log" 2>/dev/null | grep -o '[0-9]*' || true)
    [ -n "$paint" ] && break
    sleep 0.1
  done
  pid=$(pgrep -n -f "^$app" || true)
  cards=$(grep -o 'cards=[0-9]*' "$log" 2>/dev/null | head -1 | cut -d= -f2 || true)
  local out="${paint:-timeout} ${cards:-?}"
  if [ "$measure_memory" = 1 ] && [ -n "$pid" ]; then
    sleep "$settle"
    out="$out $(sum_kb Rss "$pid") $(sum_kb Pss "$pid")"
  fi
  kill "$runner" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
  sleep 1
  echo "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for sensors in 8 1000; do
  home=$(mktemp -d)
  # First run: a fresh data directory filled by a minute of live updates; idle memory then.
  read -r fresh_paint _ rss pss <<<"$(launch "$home" "$sensors" 1)"
  # Then starts over that history: the first paint shows every sensor's card.
  paints=()
  for _ in $(seq 1 "$launches"); do
    result=$(launch "$home" "$sensors" 0)
    paints+=("${result%% *}")
    cards=${result##* }
  done
  rm -rf "$home"
  m=$(printf '%s\n' "${paints[@]}" | median)
  echo "sensors=$sensors first_paint_fresh_ms=$fresh_paint first_paint_ms=[${paints[*]}] median=$m cards=$cards idle_rss_MB=$((rss / 1024)) idle_pss_MB=$((pss / 1024))"
  eval "paint_$sensors=$m pss_$sensors=$pss"
done
awk -v a="$paint_1000" -v b="$paint_8" -v c="$pss_1000" -v d="$pss_8" \
  'BEGIN {printf "1000 sensors vs the 8-sensor baseline: first paint %.2fx, idle PSS %.2fx\n", a / b, c / d}'
