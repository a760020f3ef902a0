"""A real S3-compatible server for tests: `moto_server` (PyPI `moto[server]`) in a subprocess.

- `moto_server` (session): starts `python -m moto.server -H 127.0.0.1 -p <free port>`, waits until
  it answers, yields its URL, stops it at the end. A server that does not come up fails the
  test with its output, never skips it.
- `s3_url`: the same URL, after `POST /moto-api/reset` wiped every bucket of earlier tests.
- `s3_client`: a plain boto3 client on it (path-style, us-east-1), to look at what a store wrote.

Import these names in a conftest.py (tests/integration/conftest.py does).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-sEcReT-storage-key"
S3_REGION = "us-east-1"
_START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The root URL of a moto S3 server that lives for the whole run."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + _START_TIMEOUT_S
            # Polling: a subprocess offers no event to await; each probe is a real request.
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    state = f"exited with {process.returncode}" if process.poll() is not None else "did not answer"
                    pytest.fail(f"moto_server on {url} {state} (is moto[server] installed?):\n{output}", pytrace=False)
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture
def s3_url(moto_server: str) -> str:
    """The moto server, emptied: every bucket and object of earlier tests is gone."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return moto_server


@pytest.fixture
def s3_client(s3_url: str) -> Iterator[Any]:
    """A boto3 S3 client of the test's own, to check what a store did."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(region_name=S3_REGION, s3={"addressing_style": "path"}),
    )
    yield client
    client.close()
