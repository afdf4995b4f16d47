"""TLS and tokens: roles and bucket scopes, by Handshake and as a bearer."""

from pathlib import Path

import pandas as pd
import pytest
import trustme
from pyarrow import flight

import shoots

SECRET = "a test secret that is long enough"


@pytest.fixture
def secure(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "chain.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    with shoots.serve(tmp_path / "b", host="localhost", cert_file=tmp_path / "cert.pem",
                      key_file=tmp_path / "key.pem", secret=SECRET, log=open(tmp_path / "log", "w")) as d:
        d.root = ca.cert_pem.bytes().decode()
        yield d


def connect(d, token, bearer=False):
    return shoots.ShootsClient("localhost", d.port, tls=True, root_cert=d.root, token=token, bearer=bearer)


@pytest.mark.parametrize("bearer", [False, True])
def test_roles_and_bucket_scopes(secure, bearer):
    assert secure.tls
    admin = connect(secure, shoots.create_token(SECRET, "admin"), bearer)
    df = pd.DataFrame({"a": [1, 2]})
    admin.put("t", df)
    admin.put("t", df, bucket="lab")
    admin.put("t", df, bucket="other")

    reader = connect(secure, shoots.create_token(SECRET, "read"), bearer)
    assert reader.get("t")["a"].tolist() == [1, 2]
    with pytest.raises(shoots.PermissionDeniedError) as e:
        reader.put("t", df, mode="append")
    assert isinstance(e.value, flight.FlightUnauthorizedError)

    scoped = connect(secure, shoots.create_token(SECRET, "write", buckets=["lab"]), bearer)
    assert scoped.buckets() == ["lab"]
    scoped.put("t", df, bucket="lab", mode="append")
    assert len(admin.get("t", bucket="lab")) == 4
    with pytest.raises(shoots.PermissionDeniedError):
        scoped.get("t", bucket="other")
    with pytest.raises(shoots.PermissionDeniedError):
        scoped.shutdown()

    expired = shoots.create_token(SECRET, "admin", expires_in=-10)
    with pytest.raises(flight.FlightError):
        connect(secure, expired, bearer).ping()


def test_missing_or_forged_tokens(secure):
    with pytest.raises(shoots.AuthenticationError) as e:
        shoots.ShootsClient("localhost", secure.port, tls=True, root_cert=secure.root).ping()
    assert isinstance(e.value, flight.FlightUnauthenticatedError)
    forged = shoots.create_token("another secret", "admin")
    with pytest.raises(shoots.AuthenticationError):
        connect(secure, forged, bearer=True).ping()
    with pytest.raises(flight.FlightServerError):  # at Handshake, as the original
        connect(secure, forged)


def test_a_token_needs_tls_off_this_machine():
    with pytest.raises(ValueError, match="needs TLS"):
        shoots.ShootsClient("db.example.com", 8081, token="t")


def test_original_server_class_with_tls_and_secret(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    certs = (cert.cert_chain_pems[0].bytes().decode(), cert.private_key_pem.bytes().decode())
    location = flight.Location.for_grpc_tls("localhost", 0)
    server = shoots.ShootsServer(location, bucket_dir=str(tmp_path / "b"), certs=certs, secret="s3cret")
    token = server.generate_admin_jwt()
    client = shoots.ShootsClient("localhost", server.port, True, ca.cert_pem.bytes().decode(), token=token)
    client.put("x", pd.DataFrame({"a": [1]}))
    assert client.get("x")["a"].tolist() == [1]
    args = server._daemon.process.args
    key = Path(args[args.index("--key-file") + 1])
    assert key.stat().st_mode & 0o077 == 0  # the key is the owner's only
    server.shutdown()
    assert not key.parent.exists()  # nor left behind
    with shoots.ShootsServer(flight.Location.for_grpc_tcp("localhost", 0), str(tmp_path / "c")) as plain:
        with pytest.raises(ValueError, match="secret"):
            plain.generate_admin_jwt()
