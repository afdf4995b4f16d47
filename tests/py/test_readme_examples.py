"""The README's command-line sessions, replayed: each section's `csv NAME`
blocks become files, each `$ shoots ...` line runs against a real daemon,
and what it prints (stdout, then the summary line on stderr) must be what
the README shows."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import Daemon, shoots_bin

README = Path(__file__).parents[2] / "README.md"


def section(title):
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def replay(title, tmp_path):
    body = section(title)
    for name, content in re.findall(r"```csv (\S+)\n(.*?)```", body, re.S):
        (tmp_path / name).write_text(content)
    sessions = re.findall(r"```console\n(.*?)```", body, re.S)
    assert sessions, f"no console block in section {title!r}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "shoots").symlink_to(shoots_bin())
    d = Daemon(tmp_path / "buckets", ["--vacuum-grace", "0s"])
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SHOOTS_CONFIG": "/nonexistent", "SHOOTS_PORT": str(d.port),
           "SHOOTS_HOST": "127.0.0.1", "HOME": str(tmp_path)}
    replayed = []
    try:
        for session in sessions:
            for command, shown in re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", session, re.M):
                run = subprocess.run(["bash", "-c", command], capture_output=True, cwd=tmp_path, env=env)
                printed = (run.stdout + run.stderr).decode()
                assert printed == shown, f"$ {command}\nREADME shows:\n{shown}\nprinted:\n{printed}"
                replayed.append(command)
    finally:
        d.stop()
    return replayed


@pytest.mark.parametrize("title", ["Versions: time travel, diffs and snapshots", "Changing data in place"])
def test_a_readme_session_prints_what_it_shows(title, tmp_path):
    assert len(replay(title, tmp_path)) >= 5
