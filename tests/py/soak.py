"""A soak of one daemon, or of several on one store: N clients for a fixed
time doing a mix of puts, 1-row appends, gets, SQL, resample, ls, history,
compaction and vacuum, spread over the daemons, with a checker that knows
what every dataframe must hold. Used by the test suite (a short run) and by
`bench/soak` (a long one, with figures)."""

import json
import os
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.flight as flight

OWNED = 4          # dataframes each replaced by one client only
LOGS = 2           # dataframes every client appends 1-row batches to


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


def open_fds(pid: int) -> tuple:
    """(sockets, everything else) the daemon has open."""
    sockets = others = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:"):
            sockets += 1
        else:
            others += 1
    return sockets, others


def error_type(e: flight.FlightError) -> str:
    try:
        return json.loads(e.extra_info)["type"]
    except Exception:
        return type(e).__name__


@dataclass
class Report:
    seconds: float = 0.0
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    provoked: dict = field(default_factory=lambda: defaultdict(int))
    unexpected: list = field(default_factory=list)
    rss: list = field(default_factory=list)      # (seconds since start, bytes), of the first daemon
    fds: list = field(default_factory=list)      # (seconds since start, (sockets, others)), of the first daemon
    # Every daemon's, by pid: (seconds since start, RSS bytes, (sockets, others)).
    per_daemon: dict = field(default_factory=lambda: defaultdict(list))
    idle_fds_before: tuple = (0, 0)              # before the clients start
    idle_fds_after: tuple = (0, 0)               # once they are done and the daemon settled

    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentiles(self):
        out = {}
        for kind, values in sorted(self.latencies.items()):
            values = sorted(values)
            out[kind] = (len(values), values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))])
        return out


class Soak:
    """Drives `location` from `clients` threads for `seconds`; `pid` is the
    daemon's, for memory and descriptors. `more` are other daemons of the
    same store, `(location, pid)`: client `i` talks to daemon `i` modulo
    their number."""

    def __init__(self, location, pid, clients=16, seconds=60, warmup=10, seed=1, connect=None, more=()):
        self.location, self.pid = location, pid
        self.daemons = [(location, pid), *more]
        self.clients, self.seconds, self.warmup = clients, seconds, warmup
        self.seed = seed
        self.connect = connect or (lambda: flight.FlightClient(location))
        self.connect_to = (lambda i: connect()) if connect else (
            lambda i: flight.FlightClient(self.daemons[i % len(self.daemons)][0]))
        self.report = Report()
        self.lock = threading.Lock()
        # What the checker knows: the table each owned dataframe was last
        # replaced with, and the ids acknowledged for each log.
        self.owned = {}
        self.acked = defaultdict(set)
        self.stop_at = None

    # ---- requests ------------------------------------------------------

    @staticmethod
    def put(client, name, table, mode):
        cmd = {"name": name, "mode": mode}
        writer, reader = client.do_put(flight.FlightDescriptor.for_command(json.dumps(cmd)), table.schema)
        writer.write_table(table)
        writer.done_writing()
        reader.read()
        writer.close()

    @staticmethod
    def get(client, name=None, sql=None):
        ticket = {"name": name}
        if sql:
            ticket["sql"] = sql
        return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()

    @staticmethod
    def action(client, kind, body):
        return [r.body.to_pybytes() for r in client.do_action(flight.Action(kind, json.dumps(body).encode()))]

    def timed(self, kind, work, provoked=None):
        """(answered, result) of one request, its latency recorded; an error
        counts as provoked when it is the `provoked` type, else unexpected."""
        started = time.monotonic()
        try:
            result = work()
        except flight.FlightError as e:
            with self.lock:
                if provoked and error_type(e) == provoked:
                    self.report.provoked[kind] += 1
                    self.report.latencies[kind].append(time.monotonic() - started)
                else:
                    self.report.unexpected.append(f"{kind}: {error_type(e)}: {e}")
            return False, None
        with self.lock:
            self.report.latencies[kind].append(time.monotonic() - started)
            if provoked:
                self.report.unexpected.append(f"{kind}: expected {provoked}, got an answer")
        return True, result

    # ---- the mix -------------------------------------------------------

    def owned_table(self, rng, n):
        base = rng.randrange(1 << 30)
        return pa.table({
            "ts": pa.array([(base + i) * 1_000_000_000 for i in range(n)], pa.timestamp("ns")),
            "id": pa.array(range(base, base + n), pa.int64()),
            "v": pa.array([rng.random() for _ in range(n)]),
        })

    def setup(self):
        client = self.connect()
        rng = random.Random(self.seed)
        for k in range(OWNED):
            table = self.owned_table(rng, 1000)
            self.put(client, f"owned_{k}", table, "replace")
            self.owned[f"owned_{k}"] = table
        for k in range(LOGS):
            self.put(client, f"log_{k}", pa.table({"client": pa.array([], pa.int64()), "seq": pa.array([], pa.int64())}),
                     "replace")

    def worker(self, index):
        rng = random.Random(self.seed * 1000 + index)
        client = self.connect_to(index)
        seq = 0
        mine = [f"owned_{k}" for k in range(OWNED) if k % self.clients == index]
        while time.monotonic() < self.stop_at:
            roll = rng.random()
            if roll < 0.30:
                log = f"log_{rng.randrange(LOGS)}"
                seq += 1
                row = pa.table({"client": pa.array([index], pa.int64()), "seq": pa.array([seq], pa.int64())})
                answered, _ = self.timed("append", lambda: self.put(client, log, row, "append"))
                if answered:
                    with self.lock:
                        self.acked[log].add((index, seq))
            elif roll < 0.36 and mine:
                name = rng.choice(mine)
                table = self.owned_table(rng, rng.randrange(1, 3000))
                answered, _ = self.timed("replace", lambda: self.put(client, name, table, "replace"))
                if answered:
                    self.owned[name] = table
            elif roll < 0.56:
                name = rng.choice(list(self.owned))
                answered, got = self.timed("get", lambda: self.get(client, name))
                if answered and name in mine and not got.equals(self.owned[name]):
                    with self.lock:
                        self.report.unexpected.append(f"get {name}: not what was last put")
            elif roll < 0.68:
                log = f"log_{rng.randrange(LOGS)}"
                self.timed("sql", lambda: self.get(client, sql=f"select client, count(*) as n, max(seq) as top from {log} group by client"))
            elif roll < 0.72:
                source = rng.choice(list(self.owned))
                body = {"source": source, "target": f"resampled_{index}", "rule": "1min", "time_col": "ts",
                        "aggregation_func": "mean", "mode": "replace"}
                self.timed("resample", lambda: self.action(client, "resample", body))
            elif roll < 0.80:
                self.timed("ls", lambda: list(client.list_flights(json.dumps({"bucket": None}).encode())))
            elif roll < 0.86:
                name = rng.choice(list(self.owned) + [f"log_{k}" for k in range(LOGS)])
                self.timed("history", lambda: self.action(client, "history", {"name": name}))
            elif roll < 0.89:
                log = f"log_{rng.randrange(LOGS)}"
                self.timed("compact", lambda: self.action(client, "compact", {"name": log}))
            elif roll < 0.91:
                log = f"log_{rng.randrange(LOGS)}"
                self.timed("vacuum", lambda: self.action(client, "vacuum", {"name": log}))
            elif roll < 0.95:
                self.timed("get_missing", lambda: self.get(client, "never_put"), provoked="FileNotFoundError")
            else:
                self.timed("bad_sql", lambda: self.get(client, sql="select nope from owned_0"), provoked="DataFusionError")
        client.close()

    def run(self):
        self.setup()
        started = time.monotonic()
        self.stop_at = started + self.seconds
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.clients)]
        self.report.idle_fds_before = open_fds(self.pid)
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            now = time.monotonic() - started
            for _, pid in self.daemons:
                try:
                    self.report.per_daemon[pid].append((now, rss_bytes(pid), open_fds(pid)))
                except FileNotFoundError:
                    pass  # the daemon has gone (a test stopped it)
            if self.report.per_daemon[self.pid]:
                now, rss, fds = self.report.per_daemon[self.pid][-1]
                self.report.rss.append((now, rss))
                self.report.fds.append((now, fds))
            time.sleep(1)
        for t in threads:
            t.join()
        self.report.seconds = time.monotonic() - started
        self.report.idle_fds_after = self.settled_fds()
        return self.report

    def settled_fds(self, patience=15):
        """Descriptors once background compactions and closing connections
        are done: polled until back at the start's count or `patience` s."""
        deadline = time.monotonic() + patience
        while True:
            try:
                now = open_fds(self.pid)
            except FileNotFoundError:
                return (0, 0)
            if now[1] <= self.report.idle_fds_before[1] or time.monotonic() > deadline:
                return now
            time.sleep(0.5)

    def mismatches(self):
        """What the dataframes hold that the checker did not expect."""
        client = self.connect()
        wrong = []
        for name, table in self.owned.items():
            if not self.get(client, name).equals(table):
                wrong.append(f"{name}: not the last table put")
        for k in range(LOGS):
            log = f"log_{k}"
            rows = self.get(client, log)
            ids = list(zip(rows["client"].to_pylist(), rows["seq"].to_pylist()))
            if len(ids) != len(set(ids)):
                wrong.append(f"{log}: {len(ids) - len(set(ids))} rows twice")
            if set(ids) != self.acked[log]:
                missing, extra = self.acked[log] - set(ids), set(ids) - self.acked[log]
                wrong.append(f"{log}: {len(missing)} acknowledged rows missing, {len(extra)} unacknowledged rows")
        client.close()
        return wrong
