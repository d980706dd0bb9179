#!/bin/bash
# `cargo check --workspace --all-targets` for Windows and macOS targets, on this Linux machine:
#   tests/cross-check.sh [TARGET...]
# (default: aarch64-apple-darwin x86_64-pc-windows-gnu x86_64-pc-windows-msvc x86_64-apple-darwin).
# std is built from Debian's rust-src (tests/cross-toolchain.sh) with -Zbuild-std; the target
# folder is target/cross. windows-gnu uses the real MinGW compiler and windres. macOS and MSVC
# have no SDK or compiler here: C, Objective-C and resource files of build scripts are "built"
# by a stand-in that writes empty outputs — `cargo check` never links, so every line of Rust is
# checked for the target but those C files are not.
# Needs ui/dist (tauri::generate_context! reads it): `make ui` first.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(aarch64-apple-darwin x86_64-pc-windows-gnu x86_64-pc-windows-msvc x86_64-apple-darwin)
[ -f ui/dist/index.html ] || { echo "cross-check: ui/dist is missing: run make ui first" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"
. tests/cross-env.sh
stand_in=$PWD/.tools/cross/stand-in
mkdir -p "$stand_in" "$PWD/.tools/cross/sdk"
# Writes an empty file wherever a C compiler, archiver or resource compiler would write its
# output (-o X, -oX, -FoX, /FoX, -out:X, /OUT:X, /fo X, or an archive named by ar).
cat >"$stand_in/tool" <<'EOF'
#!/bin/bash
[ -n "${STAND_IN_LOG:-}" ] && echo "$0 $*" >>"$STAND_IN_LOG"
# embed-resource asks `-V` to tell windres from llvm-rc: be windres (it names its output).
[ "${1:-}" = -V ] && { echo "GNU windres (Ruuvi Desk's stand-in)"; exit 0; }
out=""; prev=""
for a in "$@"; do
  case "$prev" in -o|/fo|-fo|-Fo|/Fo|--output) out=$a ;; esac
  case "$a" in
    -out:*|/out:*|-OUT:*|/OUT:*) out=${a#*:} ;;
    -o?*) out=${a#-o} ;;
    -Fo?*|/Fo?*) out=${a#?Fo} ;;
    *.a|*.lib) [ -z "$out" ] && out=$a ;;
  esac
  prev=$a
done
[ -n "$out" ] && : >"$out"
exit 0
EOF
chmod +x "$stand_in/tool"

for t in "${targets[@]}"; do
  u=${t//-/_}
  case "$t" in
    *-apple-darwin)
      export "CC_$u=$stand_in/tool" "CXX_$u=$stand_in/tool" "AR_$u=$stand_in/tool"
      export SDKROOT=$PWD/.tools/cross/sdk MACOSX_DEPLOYMENT_TARGET=11.0
      ;;
    *-windows-msvc)
      export "CC_$u=$stand_in/tool" "CXX_$u=$stand_in/tool" "AR_$u=$stand_in/tool" \
        "RC_$u=$stand_in/tool"
      ;;
    *-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null ||
        { echo "cross-check: needs gcc-mingw-w64-x86-64 (make test-deps)" >&2; exit 1; }
      ;;
  esac
  echo "== cargo check --workspace --all-targets --target $t"
  t0=$(date +%s)
  cargo check --workspace --all-targets --target "$t" -Zbuild-std --quiet --keep-going
  echo "   $t: checked in $(( $(date +%s) - t0 )) s"
done
