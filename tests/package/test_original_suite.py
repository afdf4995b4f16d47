"""The original's own test suite, run against this package."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_the_original_suite_passes(tmp_path):
    original = os.environ["SHOOTS_ORIGINAL_TESTS"]  # scripts/test.sh unpacks them from the 0.1.1 wheel
    run = subprocess.run([sys.executable, str(HERE / "run_original_suite.py"), original], cwd=tmp_path,
                         capture_output=True, text=True, timeout=1800)
    print(run.stdout[-4000:], run.stderr[-8000:])
    assert run.returncode == 0
    tail = run.stdout.strip().splitlines()[-1]
    # 22 cases of BaseTest in each of the three classes, 3 more of JWTTest.
    assert tail.startswith("original suite: ") and " 0 failed, 0 errors, 0 skipped" in tail, tail
    assert int(tail.split()[2]) >= 60, tail
    # Each class's server was set up and torn down (its bucket directory removed).
    assert sorted(p.name for p in tmp_path.iterdir()) == []
