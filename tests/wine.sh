#!/bin/bash
# Windows, run for real under Wine: builds `ruuvictl.exe` and the core crates' test binaries
# for x86_64-pc-windows-gnu (std from Debian's rust-src, tests/cross-toolchain.sh; MinGW links),
# runs the tests under Wine, then a smoke suite of the CLI as a Windows user runs it: decode,
# the PKI with its keys in the Windows Credential Manager (Wine's), secrets, `serve --http`
# receiving a gateway's post on 127.0.0.1 while `gateway config set-http` (Windows) configures
# the Linux ruuvi-gw-sim, and `export` during and after serving.
#   tests/wine.sh            (needs: make test-deps for wine, gcc-mingw-w64-x86-64, curl)
# Everything runs in a private Wine prefix (target/wine/prefix, made anew each run); the script
# ends the processes it started by PID and that prefix's wineserver at exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
target=x86_64-pc-windows-gnu
crates=(ruuvi-protocol ruuvi-store ruuvi-pki ruuvi-secrets ruuvi-alerts ruuvi-hub ruuvi-receiver ruuvi-wiring)
for tool in wine x86_64-w64-mingw32-gcc curl; do
  command -v "$tool" >/dev/null || { echo "wine.sh: $tool is missing (make test-deps)" >&2; exit 1; }
done

# ---- build (Linux simulator; Windows CLI and test binaries) ----
[ -x target/debug/ruuvi-gw-sim ] || cargo build -q -p ruuvi-gw-sim
t0=$(date +%s)
json=$root/target/cross/wine-build.json
# No debug info: the binaries link in a third of the time and nothing here reads it.
(
  . tests/cross-env.sh
  export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
  args=()
  for c in "${crates[@]}" ruuvictl; do args+=(-p "$c"); done
  cargo test --no-run -q --target $target -Zbuild-std "${args[@]}" --message-format json >"$json"
)
echo "wine.sh: built for $target in $(( $(date +%s) - t0 )) s"
out=$root/target/cross/$target/debug
exe=$out/ruuvictl.exe

# ---- a private Wine prefix ----
work=$root/target/wine
rm -rf "$work"
mkdir -p "$work"
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wineserver -k 2>/dev/null || true
}
trap cleanup EXIT
wine cmd /c exit >/dev/null 2>&1 || true
sys32=$WINEPREFIX/drive_c/windows/system32
if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
  # Wine < 9 lacks it; Rust's std imports ProcessPrng from it (see tests/wine/).
  x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c tests/wine/bcryptprimitives.def -ladvapi32
  echo "wine.sh: $(wine --version): bcryptprimitives.dll stand-in installed in the prefix"
fi

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# ---- the core crates' tests under Wine ----
# Test binaries of the listed crates (cargo's JSON names their package).
tests=()
while read -r line; do
  case "$line" in *'"test":true'*'"executable":"'*) ;; *) continue ;; esac
  manifest=$(grep -o '"manifest_path":"[^"]*"' <<<"$line" | cut -d'"' -f4)
  for c in "${crates[@]}"; do
    [ "$manifest" = "$root/crates/$c/Cargo.toml" ] &&
      tests+=("$(grep -o '"executable":"[^"]*"' <<<"$line" | cut -d'"' -f4)")
  done
done <"$json"
[ ${#tests[@]} -ge ${#crates[@]} ] || { echo "wine.sh: found only ${#tests[@]} test binaries" >&2; exit 1; }
passed=0
for t in "${tests[@]}"; do
  name=$(basename "$t" .exe)
  args=(-q)
  case "$name" in
    # The keychain tests (ruuvi-secrets' keychain, ruuvi-pki's store) are #[ignore]d on Linux
    # (they need a keyring session); here the Windows Credential Manager is always there.
    keychain-* | store-*) args+=(--include-ignored) ;;
    # 1,200 idle sockets: Wine's socket layer takes minutes, Windows does not (run on Linux).
    hostile-*) args+=(--skip idle_connections_from_one_or_many_peers) ;;
  esac
  log=$work/$name.log
  if timeout 300 wine "$t" "${args[@]}" >"$log" 2>&1; then
    for n in $(grep -oE 'ok\. [0-9]+ passed' "$log" | grep -oE '[0-9]+'); do
      passed=$((passed + n))
    done
    printf '  ok   %-40s %s\n' "$name" "$(grep 'test result' "$log" | tail -n 1)"
  else
    tail -n 40 "$log" >&2
    fail "tests $name under Wine"
  fi
done
echo "wine.sh: ${#tests[@]} test binaries, $passed tests passed under Wine"

# ---- the CLI as a Windows user runs it ----
ctl() { wine "$exe" "$@" 2>"$work/stderr" | tr -d '\r'; }
check() { # check DESCRIPTION COMMAND... : the command succeeds
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "  ok   $what"; else fail "$what"; fi
}
expect() { # expect DESCRIPTION NEEDLE TEXT
  if grep -qF -- "$2" <<<"$3"; then echo "  ok   $1"; else fail "$1: no '$2' in: $3"; fi
}

# serve_start ARGS...: `ruuvictl.exe [ARGS] serve --http` on loopback; sets $url, $serve_pid.
serve_start() {
  : >"$work/serve.out"
  wine "$exe" "$@" serve --http --listen 127.0.0.1:0 --no-admin \
    >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 300); do
    grep -q listening "$work/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  url=$(grep -o '"listening":"[^"]*"' "$work/serve.out" | cut -d'"' -f4)
  [ -n "$url" ] || { cat "$work/serve.err" >&2; fail "serve did not start"; exit 1; }
}
serve_stop() {
  kill "$serve_pid"
  wait "$serve_pid" 2>/dev/null || true
}
# post TIME DATA: a gateway's post (the format the firmware sends) for tag CB:B8:33:4C:88:4F.
post() {
  local body='{"data":{"coordinates":"","timestamp":'$1',"gw_mac":"C8:25:2D:8E:9C:2C","tags":{"CB:B8:33:4C:88:4F":{"rssi":-65,"timestamp":'$1',"data":"'$2'"}}}}'
  curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data "$body" "$url"
}
# Format 5, 24.3 °C (sequence 205) and 23.04 °C (sequence 204).
df5_now=0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F
df5_before=0201061BFF99040512005394C37C0004FFFC040CAC364200CCCBB8334C884F

expect "ruuvictl.exe --version" "ruuvictl " "$(ctl --version)"
expect "decode a format 5 advertisement" '"temperature":24.3' \
  "$(ctl decode 0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F)"
# An installation made by a version before the identifier changed (com.ruuvidesk.app): its
# folder and keychain entries, then the current version started as a user would.
appdata=$(wine cmd /c echo %APPDATA% 2>/dev/null | tr -d '\r')
localappdata=$(wine cmd /c echo %LOCALAPPDATA% 2>/dev/null | tr -d '\r')
earlier=(--data-dir "$appdata\com.ruuvidesk.app" --keychain-service com.ruuvidesk.app)
expect "pki init by the earlier version (CA key into the Credential Manager)" "created the CA" \
  "$(ctl "${earlier[@]}" pki init)"
printf 'pässwörd 🔑\r\n' | wine "$exe" "${earlier[@]}" secret set \
  gateway-password/C8:25:2D:8E:9C:2C >/dev/null 2>&1 || fail "secret set (earlier version)"
serve_start "${earlier[@]}"
[ "$(post $(( $(date +%s) - 3600 )) $df5_before)" = 200 ] || fail "a post to the earlier version"
for _ in $(seq 1 60); do
  grep -q 23.04 <<<"$(ctl "${earlier[@]}" export --format json)" && break
  sleep 0.5
done
serve_stop
data=$(winepath -u "$appdata\com.ruuvidesk.desktop" 2>/dev/null)
expect "the current version finds the earlier CA" "Ruuvi Desk CA" "$(ctl pki list)"
check "%APPDATA%\com.ruuvidesk.app moved to %APPDATA%\com.ruuvidesk.desktop" \
  test -s "$data/pki/ca.pem" -a ! -e "$(winepath -u "$appdata\com.ruuvidesk.app")"
# Issuing needs the CA key: moved to the new keychain service when first read.
expect "pki issue-client (ECDSA, with the moved CA key)" "issued a client certificate" "$(ctl pki issue-client C8:25:2D:8E:9C:2C)"
ctl pki set-algorithm rsa-2048 >/dev/null
# An RSA-2048 key is 1.7 kB of PEM: more than one Windows credential holds as UTF-16.
expect "pki issue-client (RSA-2048 key in the Credential Manager)" "issued a client certificate" \
  "$(ctl pki issue-client AA:BB:CC:DD:EE:01; cat "$work/stderr")"
ctl pki set-algorithm ecdsa-p256 >/dev/null
list=$(ctl pki list)
expect "pki list shows both gateways" "gateway AA:BB:CC:DD:EE:01" "$list"
expect "pki list shows the CA" "Ruuvi Desk CA" "$list"
openssl req -x509 -newkey rsa:4096 -nodes -keyout "$work/ca4096.key" -out "$work/ca4096.pem" \
  -subj "/CN=Big CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
other='C:\ruuvi desk\other profile'
expect "pki import-ca of an RSA-4096 CA (3.3 kB key) into a data dir with spaces" "RSA 4096" \
  "$(ctl --data-dir "$other" --keychain-service ruuvi-desk-wine-other pki import-ca \
    --cert "$(winepath -w "$work/ca4096.pem")" --key "$(winepath -w "$work/ca4096.key")"; cat "$work/stderr")"
expect "pki issue-client from the imported CA" "issuer:      CN=Big CA" \
  "$(ctl --data-dir "$other" --keychain-service ruuvi-desk-wine-other pki issue-client C8:25:2D:8E:9C:2C)"
shown=$(wine "$exe" secret get --show gateway-password/C8:25:2D:8E:9C:2C 2>/dev/null)
[ "$shown" = "pässwörd 🔑" ] &&
  echo "  ok   secret get --show: the earlier version's, CRLF dropped, non-ASCII kept" ||
  fail "secret get --show gave $(printf %q "$shown")"

serve_start
echo "  ok   serve --http listening at $url"
# The Linux simulator, configured by the Windows CLI (validated: the gateway posts to us).
target/debug/ruuvi-gw-sim --lan-auth allow --post-delay-ms 0 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q address "$work/sim.out" 2>/dev/null && break
  sleep 0.1
done
gw=$(grep -o '"address":"[^"]*"' "$work/sim.out" | cut -d'"' -f4)
set_http=$(ctl gateway config set-http "$gw" --ruuvi-cloud off --url "$url" --interval 10 --json;
  cat "$work/stderr")
expect "gateway config set-http from Windows" '"state": "applied"' "$set_http"
expect "the simulator took the configuration" "$url" \
  "$(curl -sf "http://$gw/ruuvi.json" || true)"
code=$(post "$(date +%s)" $df5_now)
[ "$code" = 200 ] && echo "  ok   a gateway post answered 200" || fail "post answered $code"
rows=""
for _ in $(seq 1 60); do
  rows=$(ctl export --format json --sensor CB:B8:33:4C:88:4F)
  grep -q '24.3' <<<"$rows" && break
  sleep 0.5
done
expect "export while serve holds the database" '24.3' "$rows"
serve_stop
csv=$(ctl export --format csv --out 'C:\ruuvi desk\observations.csv' >/dev/null;
  cat "$WINEPREFIX/drive_c/ruuvi desk/observations.csv")
expect "export after serve stopped, to a file" "24.3" "$csv"
expect "the earlier version's observation is still there" "23.04" "$csv"
check "the database in %LOCALAPPDATA%\\com.ruuvidesk.desktop (not roaming)" \
  test -s "$(winepath -u "$localappdata\\com.ruuvidesk.desktop\\observations.sqlite")" \
  -a ! -e "$data/observations.sqlite"
check "serve logged to %LOCALAPPDATA%\\com.ruuvidesk.desktop\\logs" \
  test -s "$(winepath -u "$localappdata\\com.ruuvidesk.desktop\\logs\\ruuvictl.log")"

if [ "$failures" -gt 0 ]; then
  echo "wine.sh: $failures failures" >&2
  exit 1
fi
echo "wine.sh: all passed ($(wine --version))"
