"""Run by scripts/test.sh in a fresh venv holding only the wheel and what it
requires, before anything else is installed there: the binary runs from the
venv with no Rust on the PATH, the package needs pyarrow and pandas only,
and asking for polars names the extra that brings it."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import shoots

venv_bin = Path(sys.executable).parent
assert shutil.which("cargo") is None and shutil.which("rustc") is None, "Rust is on the PATH"
assert "SHOOTS_BIN" not in os.environ

# The binary came with the wheel, into this venv's scripts.
assert shoots.binary() == str(venv_bin / "shoots"), shoots.binary()
version = subprocess.run(["shoots", "--version"], capture_output=True, text=True, check=True).stdout
assert version.startswith("shoots "), version
assert subprocess.run([sys.executable, "-m", "shoots", "--version"], capture_output=True, text=True,
                      check=True).stdout == version

requires = importlib.metadata.requires("shoots-df")
required = sorted(r.split(">")[0].split("=")[0].strip() for r in requires if "extra ==" not in r)
assert required == ["pandas", "pyarrow"], requires
assert any(r.startswith("polars") and "extra ==" in r for r in requires), requires
try:
    import polars  # noqa: F401
    raise AssertionError("polars is installed: this check needs a venv without it")
except ImportError:
    pass

with tempfile.TemporaryDirectory() as tmp:
    # `shoots serve` from the venv, then the client with pandas only.
    serve = subprocess.Popen(["shoots", "serve", "--port", "0", "--bucket-dir", f"{tmp}/b"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = serve.stdout.readline()
    port = int(line.split("listening on grpc://")[1].split()[0].rsplit(":", 1)[1])
    client = shoots.ShootsClient("localhost", port)
    import pandas as pd

    client.put("t", pd.DataFrame({"a": [1, 2]}))
    assert client.get("t")["a"].tolist() == [1, 2]
    for call in (lambda: client.get("t", as_="polars"), lambda: client.scan("t")):
        try:
            call()
            raise AssertionError("polars was asked for without the extra")
        except shoots.MissingExtraError as e:
            assert "pip install 'shoots-df[polars]'" in str(e), e
    serve.terminate()
    assert serve.wait(60) == 0
    assert "polars" not in sys.modules

print(f"check_install: {version.strip()} from {venv_bin}, requires {required}, polars missing is one clear error")
