#!/bin/bash
# Runs a command against a real, throw-away Secret Service keychain: a private D-Bus session with
# gnome-keyring unlocked by a test password, its files in a temporary directory. The user's own
# keyring is never touched. Usage: tests/with-keychain.sh cargo test ... -- --ignored
set -euo pipefail
if [ -z "${RUUVI_DESK_KEYCHAIN_SESSION:-}" ]; then
  export RUUVI_DESK_KEYCHAIN_SESSION=1
  exec dbus-run-session -- "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
fi
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
# gnome-keyring creates its login collection under $XDG_DATA_HOME/keyrings; an empty password
# would create none (every call then fails with "no result found"), hence a non-empty one.
export XDG_DATA_HOME="$keyring_home"
eval "$(printf 'ruuvi-desk-test' | gnome-keyring-daemon --unlock --components=secrets | sed 's/^/export /')"
"$@"
