"""The one S3 client factory: the bundle store and the batch job's reads and writes share its settings.

boto3 reads AWS_ENDPOINT_URL (moto, MinIO) and the credentials from the environment itself. Retries use
botocore's `standard` mode (exponential back-off with jitter on throttling, 5xx and connection errors, 5 attempts);
the timeouts bound a call on a network that drops packets instead of refusing them: 5 s to connect, 30 s per read,
well inside a Lambda invocation's time and long enough for a bundle file of tens of MB per read chunk.
"""

from __future__ import annotations

S3_RETRIES = {"max_attempts": 5, "mode": "standard"}
S3_CONNECT_TIMEOUT_S = 5
S3_READ_TIMEOUT_S = 30


def s3_client():
    """A new boto3 S3 client with the project's retry and timeout settings."""
    import boto3
    from botocore.config import Config

    config = Config(retries=S3_RETRIES, connect_timeout=S3_CONNECT_TIMEOUT_S, read_timeout=S3_READ_TIMEOUT_S)
    return boto3.client("s3", config=config)
