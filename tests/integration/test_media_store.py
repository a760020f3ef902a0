"""Media stores: S3MediaStore through real boto3 against a moto S3 server, LocalMediaStore on disk.

Both run the same contract tests; then each its own: the bucket created when missing, refusals
and outages as the S3 wire format answers them, keys that would escape MEDIA_DIR.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from core.bootstrap import bootstrap
from core.config import Settings
from core.domain.errors import ProviderRefused, ProviderUnavailable
from core.domain.ports import MediaStore
from core.outbound._retry import RetryPolicy
from core.outbound.storage import LocalMediaStore
from core.outbound.storage.s3 import S3MediaStore
from tests.integration.s3_fixtures import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY
from tests.servers._base import LocalServer

BUCKET = "langlearn-media-test"
OGG = b"OggS\x00\x02" + bytes(range(256)) * 4


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def s3_store(url: str, *, bucket: str = BUCKET, sleeps: Sleeps | None = None, **kwargs: Any) -> S3MediaStore:
    return S3MediaStore(
        bucket,
        endpoint_url=url,
        region=kwargs.pop("region", S3_REGION),
        access_key=kwargs.pop("access_key", S3_ACCESS_KEY),
        secret_key=kwargs.pop("secret_key", S3_SECRET_KEY),
        retry=RetryPolicy(sleep=sleeps if sleeps is not None else Sleeps()),
        **kwargs,
    )


def bucket_names(s3_client: Any) -> list[str]:
    return [bucket["Name"] for bucket in s3_client.list_buckets()["Buckets"]]


@pytest_asyncio.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    if request.param == "local":
        yield LocalMediaStore(tmp_path / "media")
        return
    s3 = s3_store(request.getfixturevalue("s3_url"))
    yield s3
    await s3.aclose()


# --- the contract, on both stores -------------------------------------------------------------


async def test_put_then_get_and_exists(store: MediaStore) -> None:
    await store.ensure_ready()
    assert await store.exists("speech/ab/abcd.ogg") is False
    assert await store.get("speech/ab/abcd.ogg") is None

    await store.put("speech/ab/abcd.ogg", OGG, "audio/ogg")

    assert await store.exists("speech/ab/abcd.ogg") is True
    assert await store.get("speech/ab/abcd.ogg") == OGG
    assert await store.exists("speech/ab") is False  # a "directory" is not an object


async def test_put_replaces_and_keys_are_independent(store: MediaStore) -> None:
    await store.put("a.ogg", b"first", "audio/ogg")
    await store.put("b.ogg", b"other", "audio/ogg")
    await store.put("a.ogg", b"second", "audio/ogg")

    assert await store.get("a.ogg") == b"second"
    assert await store.get("b.ogg") == b"other"


async def test_concurrent_puts_of_many_keys(store: MediaStore) -> None:
    keys = [f"speech/{n % 4}/{n}.ogg" for n in range(24)]
    await asyncio.gather(*(store.put(key, key.encode(), "audio/ogg") for key in keys))

    assert await asyncio.gather(*(store.get(key) for key in keys)) == [key.encode() for key in keys]


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../secret", "speech/../../x", "a//b", "./a", "a\\..\\b", "a\x00b"])
async def test_keys_that_are_not_plain_relative_paths_are_refused(store: MediaStore, key: str) -> None:
    with pytest.raises(ValueError, match="media key"):
        await store.put(key, b"x", "audio/ogg")
    with pytest.raises(ValueError, match="media key"):
        await store.get(key)
    with pytest.raises(ValueError, match="media key"):
        store.location(key)


# --- S3 ---------------------------------------------------------------------------------------


async def test_s3_bucket_is_created_when_missing(s3_url: str, s3_client: Any) -> None:
    assert BUCKET not in bucket_names(s3_client)
    store = s3_store(s3_url)
    try:
        await store.ensure_ready()
        await store.ensure_ready()  # idempotent
    finally:
        await store.aclose()

    assert BUCKET in bucket_names(s3_client)


async def test_s3_first_put_creates_the_bucket_and_keeps_the_content_type(s3_url: str, s3_client: Any) -> None:
    store = s3_store(s3_url)
    try:
        await store.put("speech/ab/abcd.ogg", OGG, "audio/ogg")
    finally:
        await store.aclose()

    head = s3_client.head_object(Bucket=BUCKET, Key="speech/ab/abcd.ogg")
    assert head["ContentType"] == "audio/ogg" and head["ContentLength"] == len(OGG)
    assert s3_client.get_object(Bucket=BUCKET, Key="speech/ab/abcd.ogg")["Body"].read() == OGG


async def test_s3_an_existing_bucket_and_its_objects_are_kept(s3_url: str, s3_client: Any) -> None:
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="old.ogg", Body=b"old")
    store = s3_store(s3_url)
    try:
        await store.ensure_ready()
        assert await store.get("old.ogg") == b"old"
    finally:
        await store.aclose()


async def test_s3_bucket_in_another_region(s3_url: str, s3_client: Any) -> None:
    store = s3_store(s3_url, bucket="eu-media", region="eu-west-1")
    try:
        await store.put("x.ogg", b"x", "audio/ogg")
    finally:
        await store.aclose()
    assert s3_client.get_bucket_location(Bucket="eu-media")["LocationConstraint"] == "eu-west-1"


def test_s3_location_names_bucket_and_key(s3_url: str) -> None:
    store = s3_store(s3_url)
    assert store.location("speech/ab/abcd.ogg") == f"s3://{BUCKET}/speech/ab/abcd.ogg"


class S3ErrorServer(LocalServer):
    """Answers every S3 request with one error in S3's XML shape; the message echoes the credentials."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__()
        self.status, self.code = status, code
        self.requests: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._any)

    async def _any(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        auth = request.headers.get("Authorization", "")
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{self.code}</Code>'
            f"<Message>Refused for {auth} {S3_SECRET_KEY}</Message><RequestId>r1</RequestId></Error>"
        )
        body_or_none = None if request.method == "HEAD" else body
        return web.Response(status=self.status, text=body_or_none, content_type="application/xml")


@pytest_asyncio.fixture
async def error_server() -> AsyncIterator[S3ErrorServer]:
    server = S3ErrorServer(403, "InvalidAccessKeyId")
    await server.start()
    yield server
    await server.stop()


async def test_s3_rejected_credentials_are_refused_after_one_call(
    error_server: S3ErrorServer, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps = Sleeps()
    store = s3_store(error_server.url, sleeps=sleeps)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
            await store.get("speech/x.ogg")
    finally:
        await store.aclose()

    assert error_server.requests == [f"GET /{BUCKET}/speech/x.ogg"]  # one call, path-style
    assert sleeps == []
    refusal = caught.value
    assert "refused our account" in refusal.user_text
    assert "STORAGE_ACCESS_KEY" in refusal.operator_hint
    for text in (str(refusal), repr(refusal), refusal.operator_hint):
        assert S3_SECRET_KEY not in text and S3_ACCESS_KEY not in text
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("core.")]
    assert logged and not any("sEcReT" in line for line in logged)


async def test_s3_throttling_and_server_errors_are_retried_then_unavailable(error_server: S3ErrorServer) -> None:
    error_server.status, error_server.code = 503, "SlowDown"
    sleeps = Sleeps()
    store = s3_store(error_server.url, sleeps=sleeps)
    store._ready = True  # straight to the upload: this test counts upload attempts
    try:
        with pytest.raises(ProviderUnavailable, match="SlowDown") as caught:
            await store.put("speech/x.ogg", b"x", "audio/ogg")
    finally:
        await store.aclose()

    assert error_server.requests == [f"PUT /{BUCKET}/speech/x.ogg"] * 4
    assert len(sleeps) == 3
    assert S3_SECRET_KEY not in str(caught.value)


async def test_s3_unreachable_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = s3_store(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ProviderUnavailable, match="could not connect"):
            await store.exists("x.ogg")
    finally:
        await store.aclose()


# --- local directory --------------------------------------------------------------------------


async def test_local_files_live_under_media_dir(tmp_path: Path) -> None:
    root = tmp_path / "media"
    store = LocalMediaStore(root)
    await store.ensure_ready()
    assert root.is_dir()

    await store.put("speech/ab/abcd.ogg", OGG, "audio/ogg")

    path = root / "speech" / "ab" / "abcd.ogg"
    assert path.read_bytes() == OGG
    assert store.location("speech/ab/abcd.ogg") == str(path) and Path(store.location("x")).is_absolute()
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in path.parent.iterdir()) == ["abcd.ogg"]  # no temporary file left


async def test_local_relative_media_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalMediaStore("./data/media")
    await store.put("a.ogg", b"a", "audio/ogg")
    assert store.location("a.ogg") == str(tmp_path / "data" / "media" / "a.ogg")


async def test_local_symbolic_link_out_of_media_dir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "media"
    root.mkdir()
    os.symlink(outside, root / "link")
    store = LocalMediaStore(root)

    with pytest.raises(ValueError, match="outside"):
        await store.put("link/x.ogg", b"x", "audio/ogg")

    assert list(outside.iterdir()) == []


async def test_local_get_of_a_key_below_a_file_is_none(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    await store.put("a.ogg", b"a", "audio/ogg")
    assert await store.get("a.ogg/b.ogg") is None
    assert await store.exists("a.ogg/b.ogg") is False


# --- wiring -----------------------------------------------------------------------------------


async def test_bootstrap_uses_s3_when_an_endpoint_is_set(s3_url: str, s3_client: Any, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        STORAGE_ENDPOINT_URL=s3_url,
        STORAGE_ACCESS_KEY=S3_ACCESS_KEY,
        STORAGE_SECRET_KEY=S3_SECRET_KEY,
        STORAGE_BUCKET="wired-bucket",
        MEDIA_DIR=str(tmp_path / "unused"),
    )
    services = await bootstrap(settings, migrate_sqlite=False)
    try:
        assert services.media is not None
        await services.media.put("speech/a.ogg", OGG, "audio/ogg")
        assert services.media.location("speech/a.ogg") == "s3://wired-bucket/speech/a.ogg"
    finally:
        await services.aclose()

    assert s3_client.get_object(Bucket="wired-bucket", Key="speech/a.ogg")["Body"].read() == OGG
    assert not (tmp_path / "unused").exists()


async def test_bootstrap_uses_media_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        MEDIA_DIR=str(tmp_path / "media"),
    )
    services = await bootstrap(settings, migrate_sqlite=False)
    try:
        assert services.media is not None
        await services.media.put("speech/a.ogg", OGG, "audio/ogg")
    finally:
        await services.aclose()

    assert (tmp_path / "media" / "speech" / "a.ogg").read_bytes() == OGG
