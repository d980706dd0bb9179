#!/bin/bash
# Prepares a Rust toolchain that can build the standard library for Windows and macOS targets
# on this Debian machine, and prints its bin folder:
#   .tools/cross/tc-<rustc version>/  a hard-linked copy of rustup's toolchain (no extra space)
#                                     with lib/rustlib/src/rust = Debian's rust-src of exactly
#                                     that rustc version (rustup cannot download here).
# cargo then builds std for any target with `-Zbuild-std` (RUSTC_BOOTSTRAP=1).
# Touches neither the machine's apt sources nor ~/.rustup: apt runs on a private state folder
# (.tools/cross/apt) whose only source is Debian's trixie-backports and sid, and only downloads.
# Fails, saying why, when Debian has no rust-src of rustc's version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.tools/cross
version=$(rustc -V | awk '{print $2}')
tc=$root/tc-$version
if [ -f "$tc/lib/rustlib/src/rust/library/std/Cargo.toml" ]; then
  echo "$tc/bin"
  exit 0
fi

apt=$root/apt
mkdir -p "$apt"/state/lists/partial "$apt"/cache/archives/partial "$apt"/etc/sources.list.d \
  "$apt"/etc/preferences.d "$apt"/download
: >"$apt/state/status"
# Newest first: backports carry each release for a while; sid has the newest.
cat >"$apt/etc/sources.list" <<EOF
deb http://deb.debian.org/debian trixie-backports main
deb http://deb.debian.org/debian sid main
EOF
cat >"$apt/apt.conf" <<EOF
Dir::State "$apt/state";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
Dir::Etc::SourceList "$apt/etc/sources.list";
Dir::Etc::SourceParts "$apt/etc/sources.list.d";
Dir::Etc::Preferences "$apt/etc/preferences";
Dir::Etc::PreferencesParts "$apt/etc/preferences.d";
Acquire::Languages "none";
APT::Get::List-Cleanup "false";
APT::Sandbox::User "root";
EOF
export APT_CONFIG=$apt/apt.conf
echo "cross-toolchain: rust-src for rustc $version from Debian (private apt state in $apt)" >&2
apt-get -qq update >&2
# Debian's version of upstream 1.95.0 is e.g. 1.95.0+dfsg1-2~bpo13+1.
debver=$(apt-cache madison rust-src | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
  grep -E "^([0-9]+:)?${version//./\\.}\+" | head -n 1 || true)
if [ -z "$debver" ]; then
  echo "cross-toolchain: Debian has no rust-src for rustc $version (it has:" \
    "$(apt-cache madison rust-src | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}'))." >&2
  echo "Install a Rust toolchain whose version Debian's rust-src matches, or add rust-src with rustup." >&2
  exit 1
fi
(cd "$apt/download" && rm -f rust-src_*.deb && apt-get -qq download "rust-src=$debver" >&2)
src=$root/rust-src-$version
rm -rf "$src" "$tc.partial"
dpkg -x "$apt"/download/rust-src_*.deb "$src"
lib=$(find "$src/usr/src" -maxdepth 1 -name 'rustc-*' | head -n 1)
[ -f "$lib/library/std/Cargo.toml" ] || { echo "cross-toolchain: no library/ in $debver" >&2; exit 1; }

sysroot=$(rustc --print sysroot)
cp -al "$sysroot" "$tc.partial"
# rustup's own rust-src, if any, would be a hard link into ~/.rustup: replace, never write into.
rm -rf "$tc.partial/lib/rustlib/src"
mkdir -p "$tc.partial/lib/rustlib/src"
ln -s "$lib" "$tc.partial/lib/rustlib/src/rust"
mv "$tc.partial" "$tc"
echo "cross-toolchain: rust-src $debver ready in $tc" >&2
echo "$tc/bin"
