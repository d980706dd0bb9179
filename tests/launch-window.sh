#!/usr/bin/env bash
# Opens the built app under Xvfb the way `make run` does without a display, waits for its
# window, and saves a screenshot. Fails if no "Ruuvi Desk" window appears within 30 s.
set -euo pipefail
app=${1:?usage: launch-window.sh PATH-TO-ruuvi-desk}
out=${LAUNCH_SCREENSHOT:-target/launch-window.png}
mkdir -p "$(dirname "$out")"
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" & app=$!
  trap "kill $app 2>/dev/null || true" EXIT
  for _ in $(seq 1 60); do
    if xwininfo -root -tree | grep -q "\"Ruuvi Desk\""; then
      sleep 2   # let the page paint
      import -window root "$2"
      echo "window up: $(xwininfo -root -tree | grep "\"Ruuvi Desk\"" | head -1 | sed "s/^ *//")"
      exit 0
    fi
    kill -0 $app 2>/dev/null || { echo "app exited before opening a window"; exit 1; }
    sleep 0.5
  done
  echo "no Ruuvi Desk window after 30 s"; exit 1
' _ "$app" "$out"
echo "screenshot: $out"
