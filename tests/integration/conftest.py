"""Fixtures for the integration tests: the S3 server (moto) lives in s3_fixtures.py."""

from tests.integration.s3_fixtures import moto_server, s3_client, s3_url

__all__ = ["moto_server", "s3_client", "s3_url"]
