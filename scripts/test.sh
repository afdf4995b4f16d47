#!/usr/bin/env bash
# Checks formatting and lints, builds shoots and runs every test: Rust unit
# and integration tests, then the Python suite, which drives the real binary
# with pyarrow and the original Python client (installed here into a
# virtualenv), then the Python package: its wheel (of the same debug build)
# in a fresh virtualenv with no Rust on the PATH, its own suite and the
# original's. Any failure or skip fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoots/target}"
venv="${SHOOTS_VENV:-$HOME/.cache/shoots/venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/py/requirements.txt
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r tests/py/requirements-nodeps.txt

# The console's browser test drives Debian's Chromium through chromedriver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test.sh: the console test needs chromium and chromium-driver (apt-get install chromium chromium-driver)" >&2
  fi
fi

# The Postgres tests drive Debian's psql.
if ! command -v psql >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  else
    echo "test.sh: the Postgres tests need psql (apt-get install postgresql-client)" >&2
  fi
fi

# House style first: it fails in seconds where the rest takes minutes.
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo build --locked
cargo test --locked

export SHOOTS_BIN="$CARGO_TARGET_DIR/debug/shoots"
"$venv/bin/python" -m pytest tests/py -p no:cacheprovider -q "$@"
unset SHOOTS_BIN

# The wheel, from the debug build above (maturin reuses the target directory).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$venv/bin/maturin" build --quiet --profile dev --locked --out "$scratch/wheels"
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check "$scratch"/wheels/*.whl
# Only the venv and the system on the PATH: no cargo, no rustc.
bare_path="$scratch/venv/bin:/usr/local/bin:/usr/bin:/bin"
PATH="$bare_path" "$scratch/venv/bin/python" tests/package/check_install.py
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/package/requirements.txt
# The original's own tests ship in its wheel, beside its package.
"$scratch/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps shoots==0.1.1 -d "$scratch/original"
"$scratch/venv/bin/python" - "$scratch/original" <<'PY'
import sys, zipfile, pathlib
root = pathlib.Path(sys.argv[1])
with zipfile.ZipFile(next(root.glob("shoots-0.1.1-*.whl"))) as wheel:
    wheel.extractall(root, [m for m in wheel.namelist() if m.startswith("tests/")])
PY
PATH="$bare_path" SHOOTS_ORIGINAL_TESTS="$scratch/original/tests" \
  "$scratch/venv/bin/python" -m pytest tests/package -p no:cacheprovider -q "$@"
