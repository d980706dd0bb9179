# Sourced by tests/cross-check.sh and tests/wine.sh (from the repository root): cargo with the
# toolchain of tests/cross-toolchain.sh, which builds std for any target (-Zbuild-std), into
# target/cross, our code held to -D warnings as on Linux (cargo caps std's and dependencies'
# lints).
cross_bin=$(tests/cross-toolchain.sh)
export PATH="$cross_bin:$PATH" RUSTC="$cross_bin/rustc" RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_DIR=$PWD/target/cross RUSTFLAGS="-D warnings"
unset RUSTUP_TOOLCHAIN
