"""The README's Python examples, run as they are written."""

import re
from pathlib import Path

import polars as pl

README = Path(__file__).parents[2] / "README.md"


def python_blocks():
    text = README.read_text()
    section = text[text.index("\n## Python\n"):text.index("\n## The command line\n")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_python_section_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("sensor_data.csv").write_text(
        "timestamp,Sensor_1,Sensor_2,site\n"
        "2024-01-01T00:00:00,0.5,0.1,north\n"
        "2024-01-01T00:00:01,0.7,0.3,south\n"
        "2024-01-01T00:00:02,0.2,0.15,north\n")
    pl.DataFrame({
        "timestamp": pl.datetime_range(pl.datetime(2024, 1, 1), pl.datetime(2024, 1, 1, 0, 16, 39), "1s", eager=True),
        "site": ["north", "south"] * 500,
        "value": [i / 1000 for i in range(1000)],
    }).write_csv("big.csv")
    blocks = python_blocks()
    assert len(blocks) == 3
    scope = {}
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), scope)
    finally:
        if "daemon" in scope:
            scope["daemon"].stop()
    out = capsys.readouterr().out
    assert "[3, 6]" in out
    assert scope["north"].height == 249 and scope["north"].columns == ["timestamp", "value"]
    assert scope["latest"].height == 10 and len(scope["first"]) == 3
    assert not scope["daemon"].running()
