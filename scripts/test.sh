#!/usr/bin/env bash
# Builds shoots and runs every test: Rust unit and integration tests, then the
# Python suite, which drives the real binary with pyarrow and the original
# Python client (installed here into a virtualenv). Any failure or skip fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoots/target}"
venv="${SHOOTS_VENV:-$HOME/.cache/shoots/venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/py/requirements.txt

cargo build --locked
cargo test --locked

export SHOOTS_BIN="$CARGO_TARGET_DIR/debug/shoots"
"$venv/bin/python" -m pytest tests/py -p no:cacheprovider -q "$@"
