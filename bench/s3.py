"""moto's S3 server on loopback (one request at a time, so that its
conditional PUT is atomic, as on AWS), for the parts of the benchmark that
run a daemon on S3."""

import contextlib
import subprocess
import sys

from ports import free_port, wait_port

MOTO = """
import sys
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
"""
BUCKET = "shoots-bench"
AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
       "AWS_ALLOW_HTTP": "true"}


@contextlib.contextmanager
def moto_server():
    """Yields the environment a daemon needs to use `s3://shoots-bench/...`."""
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-c", MOTO, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port, moto)
        import boto3
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield {**AWS, "AWS_ENDPOINT_URL": endpoint}
    finally:
        moto.terminate()
        moto.wait(timeout=60)
