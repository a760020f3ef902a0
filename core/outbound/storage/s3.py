"""The MediaStore port on S3 or an S3-compatible server (MinIO, moto, R2 …) through boto3.

boto3 is synchronous: every call runs in a worker thread (`asyncio.to_thread`); its client is
thread-safe. Path-style addressing (`http://host/bucket/key`) works with every S3-compatible
server. The bucket is created when missing (`ensure_ready`, also done before the first `put`).

botocore's own retries are off; `core.outbound._retry.with_retries` retries throttling, 5xx,
time-outs and connection errors. Rejected credentials raise `ProviderRefused` after one call.
Messages are ours: botocore's exception text can quote the server's error body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from core.domain.errors import ProviderRefused, ProviderUnavailable
from core.outbound._retry import DEFAULT_POLICY, RetryPolicy, TransientError, with_retries
from core.outbound.storage.keys import check_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

PROVIDER = "Storage"
_USER_ACCOUNT = "Saving audio is unavailable right now: the storage refused our account. The operator has been told."
_USER_SETUP = "Saving audio is unavailable right now because of a set-up problem. The operator has been told."
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_BUCKET = frozenset({"NoSuchBucket"})
_CREDENTIALS = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccountProblem", "AllAccessDisabled"}
)
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed"})


class S3MediaStore:
    """Objects in one bucket; keys are the same relative paths as in the local store."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        timeout_s: float = 30.0,
    ) -> None:
        """Keys of None leave credentials to boto3's usual chain (environment, instance role)."""
        self._bucket = bucket
        self._region = region
        self._retry = retry
        self._ready = False
        self._ready_lock = asyncio.Lock()
        config = Config(
            region_name=region,
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=min(timeout_s, 10.0),
            read_timeout=timeout_s,
            # Plain MD5/Content-Length requests: some S3-compatible servers reject the newer CRC checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    @property
    def bucket(self) -> str:
        return self._bucket

    async def ensure_ready(self) -> None:
        """Create the bucket when it does not exist (once per store)."""
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self._call("bucket check", self._ensure_bucket_sync)
                self._ready = True

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        await self.ensure_ready()

        def put_object() -> None:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

        await self._call("upload", put_object)

    async def get(self, key: str) -> bytes | None:
        check_key(key)

        def get_object() -> bytes | None:
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    return None
                raise
            return response["Body"].read()

        return await self._call("download", get_object)

    async def exists(self, key: str) -> bool:
        check_key(key)

        def head_object() -> bool:
            try:
                self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    return False
                raise
            return True

        return await self._call("lookup", head_object)

    def location(self, key: str) -> str:
        """`s3://bucket/key`."""
        return f"s3://{self._bucket}/{check_key(key)}"

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await asyncio.to_thread(self._client.close)

    def _ensure_bucket_sync(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND | _NO_BUCKET:
                raise
        logger.info("Creating the media bucket %s", self._bucket)
        try:
            if self._region == "us-east-1":
                self._client.create_bucket(Bucket=self._bucket)
            else:
                self._client.create_bucket(
                    Bucket=self._bucket,
                    # any region string: S3-compatible servers have regions of their own
                    CreateBucketConfiguration={"LocationConstraint": self._region},  # type: ignore[typeddict-item]
                )
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    async def _call[T](self, what: str, operation: Callable[[], T]) -> T:
        async def attempt() -> T:
            try:
                return await asyncio.to_thread(operation)
            except ClientError as exc:
                raise self._client_error(exc, what) from None
            except NoCredentialsError:
                hint = "no storage credentials: set STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY"
                raise _refused(_USER_SETUP, hint) from None
            except (ConnectTimeoutError, ReadTimeoutError):
                raise TransientError("timed out") from None
            except EndpointConnectionError:
                raise TransientError("could not connect") from None
            except BotoCoreError as exc:
                raise TransientError(f"request failed ({type(exc).__name__})") from None

        return await with_retries(attempt, provider=PROVIDER, what=what, policy=self._retry)

    def _client_error(self, exc: ClientError, what: str) -> Exception:
        code = _code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _THROTTLED or status == 429 or status >= 500:
            return TransientError(f"server error (HTTP {status} {code})" if status >= 500 else f"throttled ({code})")
        if code in _CREDENTIALS or status in (401, 403):
            return _refused(
                _USER_ACCOUNT,
                f"the storage refused our credentials ({code}) on {what}: "
                "check STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY",
            )
        if code in _NO_BUCKET:
            self._ready = False  # the bucket went away: the next put creates it again
            return ProviderUnavailable(PROVIDER, f"bucket {self._bucket} does not exist")
        return _refused(_USER_SETUP, f"request rejected ({code}, HTTP {status}) on {what} in bucket {self._bucket}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _refused(user_text: str, operator_hint: str) -> ProviderRefused:
    logger.error("Media storage refused a request: %s", operator_hint)
    return ProviderRefused(PROVIDER, user_text, operator_hint)
