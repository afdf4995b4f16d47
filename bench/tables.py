"""The benchmark's table, shared by its scripts."""

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
