#!/usr/bin/env bash
# Installs the built .deb on this machine, starts the installed app under Xvfb, checks that its
# window shows the dashboard (its log says the first dashboard was painted; screenshot saved),
# and uninstalls it. Needs root (apt-get). Usage: tests/deb-install.sh [path/to/ruuvi-desk.deb]
set -euo pipefail
deb=${1:-$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -1)}
[ -f "$deb" ] || { echo "no .deb: make package" >&2; exit 2; }
deb=$(realpath "$deb")
out=${PACKAGE_SCREENSHOT:-target/screenshots/installed-app.png}
mkdir -p "$(dirname "$out")"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
package=$(dpkg-deb --field "$deb" Package)
# The one version is the workspace's (Cargo.toml); the installer carries it.
expected=$(awk '/^\[workspace.package\]/ {f = 1} f && /^version = / {gsub(/"/, "", $3); print $3; exit}' Cargo.toml)
[ "$(dpkg-deb --field "$deb" Version)" = "$expected" ] || { echo "the .deb is version $(dpkg-deb --field "$deb" Version), the workspace $expected"; exit 1; }
echo "installing $package $(dpkg-deb --field "$deb" Version) from $deb"
# apt resolves the package's Depends from Debian's archive.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -q "$package" >/dev/null 2>&1 || true' EXIT
binary=$(command -v ruuvi-desk) || { echo "ruuvi-desk is not on PATH after installing"; exit 1; }
desktop=$(dpkg -L "$package" | grep '\.desktop$' | head -1)
grep -q '^Exec=ruuvi-desk' "$desktop" || { echo "no Exec=ruuvi-desk in $desktop"; exit 1; }
grep -q '^Name=Ruuvi Desk' "$desktop" || { echo "no Name=Ruuvi Desk in $desktop"; exit 1; }
icons=$(dpkg -L "$package" | grep -c '/icons/hicolor/.*/apps/.*\.png$' || true)
[ "$icons" -ge 2 ] || { echo "only $icons icons installed"; exit 1; }
echo "installed: $binary, $desktop, $icons icons"

home=$(mktemp -d)
trap 'rm -rf "$home"; DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -q "$package" >/dev/null 2>&1 || true' EXIT
log="$home/com.ruuvidesk.desktop/logs/ruuvi-desk.log"
# A user who chose "Show demo data" on the first-run guide: the demo starts with the app.
mkdir -p "$home/com.ruuvidesk.desktop"
echo '{"demo": true}' > "$home/com.ruuvidesk.desktop/app.json"
XDG_DATA_HOME=$home XDG_CONFIG_HOME=$home DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus \
  RUUVI_DESK_RECEIVER_LISTEN=127.0.0.1:0 \
  xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  ruuvi-desk & app=$!
  trap "kill $app 2>/dev/null || true" EXIT
  for _ in $(seq 1 120); do
    if grep -q "first dashboard paint" "$1" 2>/dev/null && xwininfo -root -tree | grep -q "\"Ruuvi Desk\"" \
      && [ "$(grep -c "demo gateway posts to" "$1")" -ge 2 ]; then
      # A demo gateway sends its first data once the set-up read of its configuration has
      # paused forwarding (5 s) and a period (2 s) passed: then its sensors are on screen.
      sleep 12
      import -window root "$2"
      echo "window up: $(grep -o "first dashboard paint.*" "$1" | head -1)"
      exit 0
    fi
    kill -0 $app 2>/dev/null || { echo "the installed app exited"; exit 1; }
    sleep 0.5
  done
  echo "no dashboard with demo gateways after 60 s"; cat "$1"; exit 1
' _ "$log" "$out"
echo "screenshot: $out"
DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -q "$package" >/dev/null
if command -v ruuvi-desk >/dev/null; then echo "still installed after removing"; exit 1; fi
echo "uninstalled $package"
