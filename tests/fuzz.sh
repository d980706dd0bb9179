#!/bin/bash
# Runs the fuzz targets (fuzz/, cargo-fuzz + libFuzzer with AddressSanitizer and overflow
# checks) one after another, each for SECONDS, starting from its seeds and regressions; stops
# at the first crash (libFuzzer leaves the input in fuzz/artifacts/<target>/: keep it under
# fuzz/regressions/<target>/ once fixed). Prints executions per target.
#   tests/fuzz.sh [SECONDS] [TARGET...]     (defaults: 20 s, every target)
# Needs only the stable toolchain: cargo-fuzz's nightly flags are allowed by RUSTC_BOOTSTRAP
# (installs cargo-fuzz when missing). Fuzzing calls no network at all.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
export PATH="$HOME/.cargo/bin:$PATH" RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi
# The versions the workspace is tested with (fuzz/ is a workspace of its own): start from
# its lock file; cargo adds libFuzzer's few crates.
cp Cargo.lock fuzz/Cargo.lock
build_log=$(mktemp)
if ! (cd fuzz && cargo fuzz build) 2>&1 | tee "$build_log"; then
  # CI shows only the end of the output: repeat the linker's and compiler's own words and the
  # disk's state there (a link once failed on CI with only "ld returned 1" left visible).
  echo "---- fuzz build failed; its error lines:" >&2
  grep -E '(^error|ld:|collect2|No space|[Kk]illed|cannot)' "$build_log" | grep -v '^ *[0-9]*: ' | tail -n 40 >&2 || true
  df -h . /tmp >&2
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  inputs=("corpus/$t" "seeds/$t")
  [ -d "fuzz/regressions/$t" ] && inputs+=("regressions/$t")
  log=$(mktemp)
  # -rss_limit_mb: a target that holds much memory is a bug too; -timeout: so is a hang.
  if ! (cd fuzz && cargo fuzz run "$t" "${inputs[@]}" -- -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $t crashed: see fuzz/artifacts/$t/" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  summary+=("$(printf '%-24s %6s s %12s runs  corpus %s' "$t" "$seconds" "$runs" "$corpus")")
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
echo "fuzzing: ${#targets[@]} targets, no crash"
