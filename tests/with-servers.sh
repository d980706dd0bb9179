#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback, from Debian's packages
# (`make test-deps` installs them), and mosquitto on PATH for the MQTT tests, which start
# brokers of their own. The command sees
#   RUUVI_TEST_POSTGRES=postgres://postgres@127.0.0.1:<port>/postgres
# (trust authentication, loopback only); tests create a database each. Everything is removed
# when the command ends. Usage: tests/with-servers.sh cargo test -- --ignored
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed: make test-deps" >&2; exit 2; }
export PATH="$PATH:/usr/sbin"
command -v mosquitto >/dev/null || { echo "mosquitto is not installed: make test-deps" >&2; exit 2; }
dir=$(mktemp -d /tmp/ruuvi-servers.XXXXXX)
as=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$dir"
  as=(runuser -u postgres --)
fi
stop() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
started=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null; then
    started=yes
    break
  fi
done
[ -n "$started" ] || { cat "$dir/server.log" >&2; exit 1; }
export RUUVI_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, $(mosquitto -h | head -1)"
"$@"
