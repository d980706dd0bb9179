#!/usr/bin/env bash
# A second start of Ruuvi Desk brings the running window forward and exits (the single-instance
# plugin talks over the D-Bus session bus, so this runs in a private one under Xvfb); the tray
# icon comes up with the receiver's state.
set -euo pipefail
app=${1:?usage: single-instance.sh PATH-TO-ruuvi-desk}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export XDG_DATA_HOME=$home DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus
dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" & first=$!
  trap "kill $first 2>/dev/null || true" EXIT
  for _ in $(seq 1 60); do
    xwininfo -root -tree | grep -q "\"Ruuvi Desk\"" && break
    sleep 0.5
  done
  xwininfo -root -tree | grep -q "\"Ruuvi Desk\"" || { echo "no window"; exit 1; }
  started=$(date +%s%N)
  timeout 20 "$1" || { echo "the second start did not exit by itself (status $?)"; exit 1; }
  echo "second start exited after $(( ($(date +%s%N) - started) / 1000000 )) ms"
  kill -0 $first || { echo "the first instance is gone"; exit 1; }
  windows=$(xwininfo -root -tree | grep -c "\"Ruuvi Desk\"")
  [ "$windows" = 1 ] || { echo "$windows Ruuvi Desk windows"; exit 1; }
  log="$XDG_DATA_HOME/com.ruuvidesk.desktop/logs/ruuvi-desk.log"
  grep -q "started again: showing the window" "$log" || { echo "the first instance was not told"; exit 1; }
  # The tray icon is up and shows the receiver state.
  grep -q "tray: Receiver off" "$log" || { echo "no tray line in the log"; exit 1; }
  echo "one instance, its window brought forward; tray icon up"
' _ "$app" 2> >(grep -v -e "Failed to set fd limit" -e "^dbus-daemon" >&2)
