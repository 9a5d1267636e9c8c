"""The image functions' settings: the HTTP routes' (`ImagesSettings`) and the S3 notification's (`IngestSettings`).

Beside the other functions' settings rather than in them: each function reads only its own model, once.
The S3 endpoint is not a setting: boto3 honours AWS_ENDPOINT_URL_S3 itself (the local runner sets it).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_settings import SettingsConfigDict

from products_api.core.settings import (
    ApiSettings,
    DynamoDBClientSettings,
    IdempotencySettings,
    TableName,
    WriteLimitSettings,
)

# S3's rules for a bucket name.
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]


def _base_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or value.endswith("/"):
        raise ValueError("must be an absolute http(s) URL without a trailing slash")
    return value


BaseUrl = Annotated[str, AfterValidator(_base_url)]


class S3ClientSettings(DynamoDBClientSettings):
    s3_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    # reads of a 10 MB upload and writes of a 4 MB image take longer than a DynamoDB call
    s3_read_timeout_seconds: float = Field(default=10.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1, le=10)
    # "path" for local S3 servers reached by an IP address; AWS works with either
    s3_addressing_style: Literal["auto", "virtual", "path"] = "auto"
    image_uploads_table_name: TableName


class ImagesSettings(ApiSettings, S3ClientSettings, WriteLimitSettings, IdempotencySettings):
    """The image routes' function: direct uploads, presigned uploads and their status."""

    model_config = SettingsConfigDict(defer_build=True)

    images_bucket_name: BucketName
    # where the served images are: the CloudFront distribution's https URL (locally the S3 server's bucket URL)
    images_base_url: BaseUrl
    # a presigned POST's life, and how long an upload's record (its status) is kept
    upload_expiry_seconds: int = Field(default=300, ge=60, le=3600)
    upload_record_days: int = Field(default=7, ge=1, le=365)


class IngestSettings(S3ClientSettings):
    """The function S3 notifies when an upload lands. The bucket comes with each notification, and the URL base of
    the image with the upload's record: the function's configuration cannot name the bucket or its distribution, which
    would make them depend on each other (the bucket's notification names the function).
    """

    model_config = SettingsConfigDict(defer_build=True)

    products_table_name: TableName
