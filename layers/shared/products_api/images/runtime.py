"""What a warm image-function container keeps between requests: settings, one DynamoDB and one S3 client, and the
objects built on them. Apart from `runtime.py`, so the update function never imports any of it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from products_api.api.idempotency import IdempotencyStore
from products_api.api.observability import count_metric, protect_library_logs
from products_api.api.runtime import authenticator_for
from products_api.auth.credentials import Authenticator
from products_api.core.dynamodb import client_config, make_client
from products_api.core.settings import read_settings
from products_api.images.service import DirectUploadService, ImageTarget, IngestService, UploadService
from products_api.images.settings import (
    ImagesSettings,
    IngestSettings,
    S3ClientSettings,
)
from products_api.images.storage import ImageBucket, ProductImages, UploadRecords
from products_api.limits.limiter import WriteLimiter, build_limiter
from products_api.products.store import ProductStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client


def make_s3_client(settings: S3ClientSettings, session: boto3.Session | None = None) -> S3Client:
    config = client_config(
        settings.s3_connect_timeout_seconds, settings.s3_read_timeout_seconds, settings.s3_max_attempts
    ).merge(
        # SigV4 for presigned POSTs in every region
        Config(signature_version="s3v4", s3={"addressing_style": settings.s3_addressing_style})
    )
    return (session or boto3.Session()).client("s3", config=config)


@dataclass(frozen=True)
class ImagesRuntime:
    settings: ImagesSettings
    authenticator: Authenticator
    direct_uploads: DirectUploadService
    uploads: UploadService
    limiter: WriteLimiter

    @classmethod
    def build(cls, settings: ImagesSettings, client: DynamoDBClient, s3: S3Client) -> ImagesRuntime:
        """Wire everything on injected clients (moto, DynamoDB Local, a local S3, or AWS)."""
        protect_library_logs()
        target = ImageTarget(bucket_name=settings.images_bucket_name, base_url=settings.images_base_url)
        bucket = ImageBucket(s3)
        return cls(
            settings=settings,
            authenticator=authenticator_for(settings, client),
            direct_uploads=DirectUploadService(
                ProductImages(client, settings.products_table_name),
                bucket,
                target,
                IdempotencyStore(client, settings.idempotency_table_name, settings.idempotency_expiry_seconds),
            ),
            uploads=UploadService(
                ProductStore(client, settings.products_table_name),
                UploadRecords(client, settings.image_uploads_table_name),
                bucket,
                target,
                settings.upload_expiry_seconds,
                settings.upload_record_days,
            ),
            limiter=build_limiter(settings, client, count_metric),
        )


@functools.cache
def get_images_runtime() -> ImagesRuntime:
    """Built on the first request of a container, then reused."""
    settings = read_settings(ImagesSettings)
    return ImagesRuntime.build(settings, make_client(settings), make_s3_client(settings))


@dataclass(frozen=True)
class IngestRuntime:
    settings: IngestSettings
    ingest: IngestService

    @classmethod
    def build(cls, settings: IngestSettings, client: DynamoDBClient, s3: S3Client) -> IngestRuntime:
        protect_library_logs()
        return cls(
            settings=settings,
            ingest=IngestService(
                ProductImages(client, settings.products_table_name),
                UploadRecords(client, settings.image_uploads_table_name),
                ImageBucket(s3),
            ),
        )


@functools.cache
def get_ingest_runtime() -> IngestRuntime:
    settings = read_settings(IngestSettings)
    return IngestRuntime.build(settings, make_client(settings), make_s3_client(settings))
