"""Authentication, authorisation and TLS (README: Security), with pyarrow, the
original client, and tokens signed here with nothing but hmac."""

import base64
import json
import os
import subprocess
import time

import pyarrow as pa
import pyarrow.flight as flight
import pytest
from shoots import PutMode, ShootsClient

from conftest import Daemon, error_info, files_under, shoots_bin
from helpers import SECRET, action, get, jwt, put, tls_files

class TokenAuth(flight.ClientAuthHandler):
    """What the original client does: the token as Handshake payload."""

    def __init__(self, token):
        super().__init__()
        self.token = token.encode() if isinstance(token, str) else token
        self.reply = None

    def authenticate(self, outgoing, incoming):
        outgoing.write(self.token)
        self.reply = incoming.read()

    def get_token(self):
        return self.reply


def bearer(token):
    return flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])


@pytest.fixture
def secure(tmp_path):
    d = Daemon(tmp_path / "buckets", extra_args=["--secret", SECRET])
    yield d
    d.stop()


def handshaken(daemon, token):
    c = flight.FlightClient(daemon.location)
    c.authenticate(TokenAuth(token))
    return c


def put_with(client, name, table, options=None, bucket=None, mode="replace"):
    cmd = {"name": name, "bucket": bucket, "mode": mode}
    writer, reader = client.do_put(flight.FlightDescriptor.for_command(json.dumps(cmd)), table.schema,
                                   **({"options": options} if options else {}))
    writer.write_table(table)
    writer.close()


def ticket(name, bucket=None, sql=None):
    body = {"name": name, "bucket": bucket}
    if sql:
        body["sql"] = sql
    return flight.Ticket(json.dumps(body).encode())


TABLE = pa.table({"x": [1, 2, 3]})


def test_handshake_token_client_works(secure):
    c = handshaken(secure, jwt({"type": "admin"}))  # as minted by the original
    put(c, "t", TABLE)
    assert get(c, "t").to_pydict() == TABLE.to_pydict()
    assert [i.descriptor.path[0].decode() for i in c.list_flights()] == ["t"]
    assert action(c, "ping") == ["pong"]


def test_bearer_header_client_works(secure):
    token = jwt({"type": "write", "exp": int(time.time()) + 600})
    c = secure.client()
    put_with(c, "t", TABLE, bearer(token))
    assert c.do_get(ticket("t"), options=bearer(token)).read_all().to_pydict() == TABLE.to_pydict()
    assert len(list(c.list_flights(options=bearer(token)))) == 1


def test_shoots_token_create_mints_what_the_daemon_takes(secure):
    token = subprocess.run([shoots_bin(), "token", "create", "--secret", SECRET, "--role", "read"],
                           capture_output=True, check=True).stdout.decode().strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["type"] == "read"
    handshaken(secure, token).list_flights()


@pytest.mark.parametrize("token", [
    None,
    "garbage",
    jwt({"type": "admin"}, secret="another secret"),
    jwt({"type": "admin", "exp": int(time.time()) - 10}),
])
def test_calls_without_a_valid_token_are_unauthenticated(secure, token):
    c = secure.client()
    options = bearer(token) if token else None
    kw = {"options": options} if options else {}
    calls = [
        lambda: list(c.list_flights(**kw)),
        lambda: c.do_get(ticket("t"), **kw).read_all(),
        lambda: list(c.do_action(flight.Action("buckets", b"{}"), **kw)),
        lambda: list(c.do_action(flight.Action("shutdown", b"{}"), **kw)),
        lambda: c.get_flight_info(flight.FlightDescriptor.for_path("t"), **kw),
        lambda: put_with(c, "t", TABLE, options),
    ]
    for call in calls:
        with pytest.raises(flight.FlightUnauthenticatedError):
            call()
    assert files_under(secure.bucket_dir) == set()
    assert secure.proc.poll() is None


def test_handshake_errors_match_the_original(secure):
    with pytest.raises(flight.FlightServerError) as e:
        handshaken(secure, jwt({"type": "admin"}, secret="another secret"))
    assert "InvalidSignatureError" in str(e.value)
    with pytest.raises(flight.FlightServerError) as e:
        handshaken(secure, jwt({"type": "admin", "exp": int(time.time()) - 10}))
    assert "ExpiredSignatureError" in str(e.value)
    with pytest.raises(flight.FlightUnauthenticatedError):
        handshaken(secure, jwt({"type": "guest"}))


def test_a_read_token_cannot_write(secure):
    admin = handshaken(secure, jwt({"type": "admin"}))
    put(admin, "t", TABLE)
    before = files_under(secure.bucket_dir)
    reader = handshaken(secure, jwt({"type": "read"}))
    assert get(reader, "t").num_rows == 3
    with pytest.raises(flight.FlightUnauthorizedError):
        put(reader, "t", pa.table({"x": [9]}), mode="append")
    with pytest.raises(flight.FlightUnauthorizedError):
        put(reader, "new", TABLE)
    with pytest.raises(flight.FlightUnauthorizedError):
        action(reader, "delete", {"name": "t"})
    with pytest.raises(flight.FlightUnauthorizedError):
        action(reader, "resample", {"source": "t", "target": "u", "sql": "select * from t"})
    assert files_under(secure.bucket_dir) == before
    assert get(admin, "t").to_pydict() == TABLE.to_pydict()


def test_a_write_token_cannot_shut_down_or_delete_buckets(secure):
    writer = handshaken(secure, jwt({"type": "write"}))
    put(writer, "t", TABLE, bucket="b")
    action(writer, "resample", {"source": "t", "source_bucket": "b", "target": "u", "sql": "select * from t"})
    with pytest.raises(flight.FlightUnauthorizedError):
        action(writer, "delete_bucket", {"name": "b", "mode": "delete"})
    with pytest.raises(flight.FlightUnauthorizedError):
        action(writer, "shutdown", {})
    assert action(writer, "ping") == ["pong"]
    assert get(writer, "t", bucket="b").num_rows == 3
    admin = handshaken(secure, jwt({"type": "admin"}))
    action(admin, "delete_bucket", {"name": "b", "mode": "delete"})
    action(admin, "shutdown", {})
    secure.proc.wait(timeout=60)


def test_a_bucket_scoped_token_sees_only_its_buckets(secure):
    admin = handshaken(secure, jwt({"type": "admin"}))
    put(admin, "in_a", TABLE, bucket="a")
    put(admin, "in_b", TABLE, bucket="b")
    scoped = handshaken(secure, jwt({"type": "write", "buckets": ["a"]}))

    assert get(scoped, "in_a", bucket="a").num_rows == 3
    assert json.loads(action(scoped, "buckets")[0]) == ["a"]
    assert [i.descriptor.path[0].decode() for i in scoped.list_flights(json.dumps({"bucket": "a"}).encode())] == ["in_a"]
    with pytest.raises(flight.FlightUnauthorizedError):
        get(scoped, "in_b", bucket="b")
    with pytest.raises(flight.FlightUnauthorizedError):
        list(scoped.list_flights(json.dumps({"bucket": "b"}).encode()))
    with pytest.raises(flight.FlightUnauthorizedError):
        scoped.get_flight_info(flight.FlightDescriptor.for_path("b", "in_b"))
    with pytest.raises(flight.FlightUnauthorizedError):
        put(scoped, "x", TABLE, bucket="b")
    with pytest.raises(flight.FlightUnauthorizedError):
        get(scoped, "in_b", bucket="b", sql="select * from in_b")
    # SQL sees a catalog without bucket b.
    with pytest.raises(flight.FlightServerError) as e:
        get(scoped, "in_a", bucket="a", sql="select * from b.in_b")
    assert error_info(e)["type"] == "DataFusionError"
    assert get(scoped, "in_a", bucket="a", sql="select count(*) as n from a.in_a").to_pydict() == {"n": [3]}
    with pytest.raises(flight.FlightUnauthorizedError):
        action(scoped, "resample", {"source": "in_b", "source_bucket": "b", "target": "c", "target_bucket": "a",
                                    "sql": "select * from in_b"})
    with pytest.raises(flight.FlightUnauthorizedError):
        action(scoped, "resample", {"source": "in_a", "source_bucket": "a", "target": "c", "target_bucket": "b",
                                    "sql": "select * from in_a"})
    assert get(admin, "in_b", bucket="b").num_rows == 3


def test_secrets_never_reach_the_log(secure):
    token = jwt({"type": "admin"})
    c = handshaken(secure, token)
    put(c, "t", TABLE)
    with pytest.raises(flight.FlightServerError):
        handshaken(secure, jwt({"type": "admin"}, secret="another secret"))
    secure.stop()
    log = secure.logs()
    assert "Handshake" in log and "DoPut" in log
    assert SECRET not in log and token not in log and token.split(".")[2] not in log


def test_warns_when_tokens_would_cross_the_network_in_clear(tmp_path):
    proc = subprocess.Popen([shoots_bin(), "serve", "--host", "0.0.0.0", "--port", "0", "--bucket-dir",
                             str(tmp_path / "b"), "--secret", SECRET], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert "tokens required" in proc.stdout.readline().decode()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert "warning: --secret without TLS" in err.decode()
    assert SECRET not in err.decode()


@pytest.fixture
def tls_daemon(tmp_path):
    _, _, tls = tls_files(tmp_path, "localhost")
    d = Daemon(tmp_path / "buckets", extra_args=[*tls, "--secret", SECRET])
    d.ca = tmp_path / "ca.pem"
    yield d
    d.stop()


def test_original_client_with_tls_and_an_admin_token(tls_daemon):
    token = jwt({"type": "admin"})
    root = tls_daemon.ca.read_text()
    shoots = ShootsClient("localhost", tls_daemon.port, tls=True, root_cert=root, token=token)
    df = TABLE.to_pandas()
    shoots.put("t", dataframe=df, mode=PutMode.REPLACE)
    assert shoots.get("t").equals(df)
    assert [r["name"] for r in shoots.list()] == ["t"]

    # The certificate names localhost, not 127.0.0.1.
    with pytest.raises(flight.FlightUnavailableError):
        ShootsClient("127.0.0.1", tls_daemon.port, tls=True, root_cert=root, token=token).list()
    # And a client that does not trust the root gets nowhere either.
    with pytest.raises(flight.FlightUnavailableError):
        flight.FlightClient(f"grpc+tls://localhost:{tls_daemon.port}").list_actions()


def test_cli_with_tls_and_token(tls_daemon):
    token = jwt({"type": "admin"})
    base = [shoots_bin()]
    conn = ["--host", "localhost", "--port", str(tls_daemon.port), "--tls-root-cert", str(tls_daemon.ca)]
    env = {"PATH": os.environ["PATH"], "SHOOTS_CONFIG": "/nonexistent"}
    ok = subprocess.run([*base, "buckets", *conn, "--token", token], capture_output=True, env=env)
    assert ok.returncode == 0, ok.stderr
    ok = subprocess.run([*base, "ping", *conn], capture_output=True, env={**env, "SHOOTS_TOKEN": token})
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([*base, "buckets", *conn], capture_output=True, env=env)
    assert refused.returncode == 1
    assert refused.stderr.decode().startswith("shoots: error: authentication required")
    wrong_host = subprocess.run([*base, "buckets", *conn[2:], "--host", "127.0.0.1", "--token", token],
                                capture_output=True, env=env)
    assert wrong_host.returncode == 3
