#!/usr/bin/env bash
# Checks formatting and lints, builds shoots and runs every test: Rust unit
# and integration tests, then the Python suite, which drives the real binary
# with pyarrow and the original Python client (installed here into a
# virtualenv). Any failure or skip fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoots/target}"
venv="${SHOOTS_VENV:-$HOME/.cache/shoots/venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/py/requirements.txt

# The console's browser test drives Debian's Chromium through chromedriver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test.sh: the console test needs chromium and chromium-driver (apt-get install chromium chromium-driver)" >&2
  fi
fi

# House style first: it fails in seconds where the rest takes minutes.
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo build --locked
cargo test --locked

export SHOOTS_BIN="$CARGO_TARGET_DIR/debug/shoots"
"$venv/bin/python" -m pytest tests/py -p no:cacheprovider -q "$@"
