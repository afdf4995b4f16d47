import base64
import hashlib
import hmac
import json
import subprocess
import time

import pyarrow as pa
import pyarrow.flight as flight


def put(client, name, table, mode=None, bucket=None, batch_size=None, **more):
    """A DoPut of `table`; `more` goes into the command as it is (`keys`, `schema`)."""
    cmd = {"name": name, "bucket": bucket, **more}
    if mode is not None:
        cmd["mode"] = mode
    writer, reader = client.do_put(flight.FlightDescriptor.for_command(json.dumps(cmd)), table.schema)
    if batch_size:
        for b in table.to_batches(max_chunksize=batch_size):
            writer.write_batch(b)
    else:
        writer.write_table(table)
    writer.done_writing()
    meta = reader.read()
    writer.close()
    return json.loads(meta.to_pybytes()) if meta is not None else None


def get(client, name, bucket=None, sql=None, version=None):
    ticket = {"name": name, "bucket": bucket}
    if sql is not None:
        ticket["sql"] = sql
    if version is not None:
        ticket["version"] = version
    return client.do_get(flight.Ticket(json.dumps(ticket).encode())).read_all()


def json_sql(daemon, sql, bucket=None):
    """The JSON dialect's `sql` ticket, on a client of its own."""
    c = daemon.client()
    try:
        return c.do_get(flight.Ticket(json.dumps({"sql": sql, "bucket": bucket}).encode())).read_all()
    finally:
        c.close()


def action(client, kind, body=None):
    payload = b"" if body is None else json.dumps(body).encode()
    return [r.body.to_pybytes().decode() for r in client.do_action(flight.Action(kind, payload))]


def sample(n=10, offset=0):
    return pa.table({"id": pa.array(range(offset, offset + n), pa.int64()),
                     "x": pa.array([float(i) / 2 for i in range(offset, offset + n)])})


def cli(daemon, *args, check=True):
    """Runs the real `shoots` client against `daemon`, with no environment or
    config file of the machine's."""
    from conftest import shoots_bin
    run = subprocess.run([shoots_bin(), *args, "--host", "127.0.0.1", "--port", str(daemon.port)],
                         capture_output=True, env={"PATH": "/usr/bin:/bin", "SHOOTS_CONFIG": "/nonexistent"})
    if check:
        assert run.returncode == 0, run.stderr.decode()
    return run


def wait_for(predicate, what, timeout=60):
    """Polls for a state the test needs to reach; not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


SECRET = "correct horse battery staple"


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt(claims: dict, secret: str = SECRET) -> str:
    """An HS256 JWT, written out by hand so the daemon is checked against
    the standard, not against its own encoder."""
    signing = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
    return (signing + b"." + b64(signature)).decode()


def tls_files(tmp_path, *hosts):
    """A CA of the test's own and a certificate for `hosts` signed by it,
    written to `tmp_path` as key.pem, cert.pem and ca.pem: (the CA, the
    certificate, the `serve` flags that use it)."""
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert(*hosts)
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return ca, cert, ["--cert-file", str(tmp_path / "cert.pem"), "--key-file", str(tmp_path / "key.pem")]
