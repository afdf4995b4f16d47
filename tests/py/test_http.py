"""HTTP beside Flight (README: "Console, health and metrics"): /health,
/metrics read with Prometheus' own parser, and the JSON API, fetched with
nothing but the standard library's HTTP client from the real daemon."""

import csv
import http.client
import io
import json
import socket
import ssl
import urllib.error
import urllib.request

import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import Daemon
from helpers import SECRET, get, jwt, put, sample, tls_files


def fetch(daemon, path, token=None, body=None, context=None):
    """(status, headers, body bytes) of one request; errors are answers too."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(daemon.http_url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def fetch_json(daemon, path, **kw):
    status, _, body = fetch(daemon, path, **kw)
    return status, json.loads(body)


def families(daemon, token=None):
    status, headers, body = fetch(daemon, "/metrics", token=token)
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def sample_value(fams, family, suffix="", **labels):
    """A sample's value, 0 when the labelled series does not exist yet."""
    for s in fams[family].samples if family in fams else ():
        if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


@pytest.fixture
def web(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0"])
    yield d
    d.stop()


@pytest.fixture
def secure_web(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0", "--secret", SECRET])
    yield d
    d.stop()


def sensors(n=50):
    return pa.table({
        "ts": pa.array([i * 60_000_000_000 for i in range(n)], pa.timestamp("ns", tz="UTC")),
        "site": pa.array([f"s{i % 3}" for i in range(n)]),
        "value": pa.array([float(i) * 1.5 for i in range(n)]),
    })


def test_health_needs_no_token_and_says_what_runs(secure_web):
    status, health = fetch_json(secure_web, "/health")
    assert status == 200
    assert health["status"] == "ok"
    assert health["version"] == "0.1.0"
    assert isinstance(health["uptime_s"], int) and health["uptime_s"] >= 0


def test_no_http_listener_unless_asked_for(tmp_path):
    d = Daemon(tmp_path / "buckets")
    try:
        assert d.http_url is None
        assert "console on" not in d.logs()
    finally:
        d.stop()


def test_metrics_parse_and_move_after_a_put_a_get_and_a_failed_query(web):
    before = families(web)
    c = web.client()
    put(c, "m", sample(100))
    assert get(c, "m").num_rows == 100
    with pytest.raises(flight.FlightServerError, match="DataFusionError"):
        get(c, None, sql="select nope from m")
    after = families(web)

    def moved(family, suffix="_total", **labels):
        return sample_value(after, family, suffix, **labels) - sample_value(before, family, suffix, **labels)

    assert moved("shoots_requests", method="DoPut", outcome="ok") == 1
    assert moved("shoots_requests", method="DoGet", outcome="ok") == 1
    assert moved("shoots_requests", method="DoGet", outcome="DataFusionError") == 1
    assert moved("shoots_rows", direction="in") == 100
    assert moved("shoots_rows", direction="out") == 100
    assert moved("shoots_transfer_bytes", direction="in") > 0
    assert moved("shoots_transfer_bytes", direction="out") > 0
    assert moved("shoots_request_duration_seconds", "_count", method="DoPut") == 1
    assert moved("shoots_stream_duration_seconds", "_count") == 1  # the failed query never streamed
    assert sample_value(after, "shoots_active_streams") == 0
    assert moved("shoots_store_requests", kind="put") >= 2  # a data file and a commit
    assert sample_value(after, "shoots_dataframes", bucket="_default") == 1
    assert sample_value(after, "shoots_stored_rows", bucket="_default") == 100
    assert sample_value(after, "shoots_stored_bytes", bucket="_default") > 0
    assert sample_value(after, "process_resident_memory_bytes") > 1 << 20
    assert sample_value(after, "process_open_fds") > 0
    # The allocator's own counts: what is in use, and what it keeps resident.
    allocated = sample_value(after, "process_heap_bytes", kind="allocated")
    assert 0 < allocated <= sample_value(after, "process_heap_bytes", kind="resident")
    # Each cache's bytes and bound: the commit just made; a query's footer.
    assert 0 < sample_value(after, "shoots_cache_bytes", cache="commits") <= 8 << 20
    assert sample_value(after, "shoots_cache_limit_bytes", cache="commits") == 8 << 20
    assert sample_value(after, "shoots_cache_limit_bytes", cache="footers") == 16 << 20
    get(c, None, sql="select sum(id) from m")
    assert 0 < sample_value(families(web), "shoots_cache_bytes", cache="footers") <= 16 << 20
    # The console's API counts too, by route.
    fetch(web, "/api/buckets")
    assert sample_value(families(web), "shoots_requests", "_total", method="HTTP", action="/api/buckets") == 1


def test_buckets_dataframes_history_and_a_query(web):
    c = web.client()
    put(c, "readings", sensors(), bucket="lab")
    put(c, "readings", sensors(10), bucket="lab", mode="append")
    put(c, "plain", sample(5))

    status, buckets = fetch_json(web, "/api/buckets")
    assert status == 200
    assert {"name": "lab", "sql_name": "lab"} in buckets
    assert {"name": None, "sql_name": "_default"} in buckets

    status, frames = fetch_json(web, "/api/dataframes?bucket=lab")
    assert status == 200
    [frame] = frames
    assert (frame["name"], frame["rows"], frame["version"]) == ("readings", 60, 2)
    assert frame["bytes"] > 0 and frame["files"] == 2
    assert frame["columns"] == [
        {"name": "ts", "type": 'Timestamp(ns, "UTC")', "nullable": True},
        {"name": "site", "type": "Utf8", "nullable": True},
        {"name": "value", "type": "Float64", "nullable": True},
    ]
    assert [f["name"] for f in fetch_json(web, "/api/dataframes")[1]] == ["plain"]

    status, history = fetch_json(web, "/api/history?bucket=lab&name=readings")
    assert status == 200
    assert [(v["version"], v["operation"], v["rows"], v["rows_added"]) for v in history] == [
        (1, "create", 50, 50), (2, "append", 60, 10)]

    sql = "select site, count(*) as n, max(value) as top from readings group by site order by site"
    status, headers, body = fetch(web, "/api/query", body={"sql": sql, "bucket": "lab"})
    assert status == 200
    assert headers["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in body.decode().splitlines()]
    expected = pd.concat([sensors().to_pandas(), sensors(10).to_pandas()])
    want = expected.groupby("site").agg(n=("value", "size"), top=("value", "max")).reset_index()
    assert rows == [{"site": r.site, "n": r.n, "top": r.top} for r in want.itertuples()]
    schema = json.loads(urllib.request.unquote(headers["shoots-schema"]))
    assert [c["name"] for c in schema] == ["site", "n", "top"]
    assert [c["type"] for c in schema] == ["Utf8", "Int64", "Float64"]


def test_query_results_in_every_format(web):
    c = web.client()
    put(c, "readings", sensors(1000))
    sql = "select * from readings order by ts"
    want = get(c, None, sql=sql)

    status, _, body = fetch(web, "/api/query?sql=" + urllib.request.quote(sql) + "&format=arrow")
    assert status == 200
    assert pa.ipc.open_stream(body).read_all().equals(want)

    status, headers, body = fetch(web, "/api/query", body={"sql": sql, "format": "parquet"})
    assert status == 200 and headers["Content-Type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(body)).equals(want)

    status, headers, body = fetch(web, "/api/query", body={"sql": sql, "format": "csv"})
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 1000
    assert [float(r["value"]) for r in rows] == want.column("value").to_pylist()

    # No rows: a CSV still has its header, an Arrow stream its schema.
    empty = "select * from readings where value < 0"
    assert fetch(web, "/api/query", body={"sql": empty, "format": "csv"})[2].decode().strip() == "ts,site,value"
    assert pa.ipc.open_stream(fetch(web, "/api/query", body={"sql": empty, "format": "arrow"})[2]).read_all().num_rows == 0
    assert fetch(web, "/api/query", body={"sql": empty})[2] == b""


@pytest.mark.parametrize("path, body, status, kind, message", [
    ("/api/query", {"sql": "select nope from nowhere"}, 400, "DataFusionError", "nowhere"),
    ("/api/query", {"sql": "create table t as select 1"}, 400, "DataFusionError", "read-only"),
    ("/api/query", {"sql": "select 1", "format": "xlsx"}, 400, "InvalidArgumentError", "unknown format"),
    ("/api/query", {"sql": "select 1", "bucket": "ghost"}, 404, "FileNotFoundError", "ghost"),
    ("/api/query", {"sql": "select 1", "sqll": "typo"}, 400, "InvalidArgumentError", "unknown field"),
    ("/api/query?format=csv", None, 400, "InvalidArgumentError", "sql"),
    ("/api/dataframes?bucket=ghost", None, 404, "FileNotFoundError", "ghost"),
    ("/api/dataframes?bucket=bad%20name", None, 400, "InvalidNameError", "bad name"),
    ("/api/history?name=ghost", None, 404, "FileNotFoundError", "ghost"),
    ("/api/history", None, 400, "InvalidArgumentError", "name"),
    ("/api/nothing-here", None, 404, "FileNotFoundError", "no such endpoint"),
])
def test_bad_requests_get_a_typed_json_error(web, path, body, status, kind, message):
    put(web.client(), "m", sample(3))
    got, info = fetch_json(web, path, body=body)
    assert (got, info["type"]) == (status, kind), info
    assert message in info["message"], info
    # Nothing was written: the default bucket still holds only `m`, at v1.
    assert [(f["name"], f["version"]) for f in fetch_json(web, "/api/dataframes")[1]] == [("m", 1)]
    assert sorted(p.name for p in web.bucket_dir.iterdir()) == ["_default"]


def test_tokens_on_http(secure_web):
    admin = jwt({"type": "admin"})
    lab_only = jwt({"type": "read", "buckets": ["lab"]})
    c = flight.FlightClient(f"grpc://127.0.0.1:{secure_web.port}")
    options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {admin}".encode())])
    for bucket in ("lab", "other"):
        writer, reader = c.do_put(flight.FlightDescriptor.for_command(json.dumps({"name": "t", "bucket": bucket})),
                                  sample(3).schema, options)
        writer.write_table(sample(3))
        writer.close()

    for path in ("/metrics", "/api/buckets", "/api/dataframes?bucket=lab", "/api/history?bucket=lab&name=t"):
        status, headers, body = fetch(secure_web, path)
        assert status == 401, path
        assert headers["WWW-Authenticate"] == "Bearer"
        assert json.loads(body)["type"] == "FlightUnauthenticatedError"
    status, info = fetch_json(secure_web, "/api/query", body={"sql": "select 1"})
    assert (status, info["type"]) == (401, "FlightUnauthenticatedError")
    status, info = fetch_json(secure_web, "/api/buckets", token=jwt({"type": "read"}, secret="wrong"))
    assert (status, info["type"]) == (401, "FlightUnauthenticatedError")
    assert "InvalidSignatureError" in info["message"]

    assert fetch_json(secure_web, "/api/buckets", token=lab_only) == (200, [{"name": "lab", "sql_name": "lab"}])
    assert fetch_json(secure_web, "/api/dataframes?bucket=lab", token=lab_only)[0] == 200
    for path in ("/api/dataframes?bucket=other", "/api/history?bucket=other&name=t"):
        status, info = fetch_json(secure_web, path, token=lab_only)
        assert (status, info["type"]) == (403, "FlightUnauthorizedError"), path
        assert "other" in info["message"]
    status, info = fetch_json(secure_web, "/api/query", token=lab_only, body={"sql": "select * from t", "bucket": "other"})
    assert (status, info["type"]) == (403, "FlightUnauthorizedError")
    # A query sees only the token's buckets.
    status, info = fetch_json(secure_web, "/api/query", token=lab_only, body={"sql": "select * from other.t"})
    assert (status, info["type"]) == (400, "DataFusionError")
    status, _, body = fetch(secure_web, "/api/query", token=lab_only, body={"sql": "select count(*) as n from lab.t"})
    assert (status, json.loads(body)) == (200, {"n": 3})
    assert families(secure_web, token=lab_only)["shoots_dataframes"]
    # The console's page loads without a token, so it can ask for one.
    assert fetch(secure_web, "/")[0] == 200


def test_console_over_https_with_the_daemons_certificate(tmp_path):
    ca, _, tls = tls_files(tmp_path, "localhost", "127.0.0.1")
    d = Daemon(tmp_path / "buckets", extra_args=["--http-port", "0", *tls])
    try:
        assert d.http_url.startswith("https://")
        trusted = ssl.create_default_context()
        ca.configure_trust(trusted)
        status, _, page = fetch(d, "/", context=trusted)
        assert status == 200 and b"<title>shoots console</title>" in page
        assert fetch_json(d, "/health", context=trusted)[1]["status"] == "ok"
        # Plain HTTP on the TLS port is refused, and the daemon keeps serving.
        plain = "http://" + d.http_url.removeprefix("https://")
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            urllib.request.urlopen(plain + "/health", timeout=10).read()
        # A client that does not trust the certificate is refused too.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(d.http_url + "/health", timeout=10, context=ssl.create_default_context())
        assert fetch_json(d, "/health", context=trusted)[0] == 200
    finally:
        d.stop()


def test_a_request_whose_headers_never_finish_is_dropped(web):
    port = int(web.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        answer = s.recv(1000)  # the daemon closes it after 10 s (an empty read), or answers 408
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    assert fetch_json(web, "/health")[1]["status"] == "ok"
