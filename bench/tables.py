"""The benchmark's tables, shared by its scripts."""

import numpy as np
import pyarrow as pa


def sensor_table(rows, seed=0):
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    return pa.table({
        "timestamp": pa.array(start + np.arange(rows) * np.timedelta64(10, "ms")),
        "s1": rng.normal(size=rows), "s2": rng.normal(size=rows),
        "s3": rng.normal(size=rows), "s4": rng.normal(size=rows),
        "count": rng.integers(0, 1000, size=rows),
        "site": pa.array(rng.choice(["north", "south", "east", "west", "centre"], size=rows)),
    })


def issue_table(rows, seed=0):
    """Issue #34's table: a timestamp, two random floats, an int of 1,000
    values, a 4-value string."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    return pa.table({
        "timestamp": pa.array(start + np.arange(rows) * np.timedelta64(10, "ms")),
        "sensor_1": rng.normal(size=rows), "sensor_2": rng.normal(size=rows),
        "sensor_3": rng.integers(0, 1000, size=rows),
        "site": pa.array(rng.choice(["north", "south", "east", "west"], size=rows)),
    })


# The SQL suite's columns in issue_table: its floats, its int.
ISSUE_COLUMNS = {"s1": "sensor_1", "s2": "sensor_2", "s3": "sensor_3", "s4": "sensor_2", '"count"': "sensor_3"}
