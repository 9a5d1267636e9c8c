"""The local S3 of `make serve`: moto's standalone server (ThreadedMotoServer), the template's buckets in it, their
notifications delivered to the functions that subscribe to them, and the served image URLs.

- Buckets: every AWS::S3::Bucket of template.yaml, under a local name (`!Ref` resolves to it). Nothing checks
  credentials, presigned POST policies included (moto enforces none of their conditions: size, type, expiry).
- Notifications: moto's server sends none to Lambda. For each function's `Type: S3` event, a thread lists the
  subscribed prefix every quarter of a second and invokes the function with the ObjectCreated event S3 would send,
  once per new object (its key and ETag); delivery is at least once in AWS too, and the ingest takes repeats.
- Image URLs: a small HTTP server stands in for CloudFront (moto's server refuses unsigned reads of private objects,
  as S3 does): it serves GET and HEAD of the images/ prefix only, read from the bucket with a signed client, so the
  functions' IMAGES_BASE_URL points at it and a URL an answer prints opens in a browser.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote_plus, unquote, urlsplit

import boto3
from botocore.exceptions import ClientError

from products_api_local.loopback import LoopbackServer, QuietRequestHandler
from products_api_local.polling import PollLoop
from products_api_local.template.document import function_events

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

BUCKET_TYPE = "AWS::S3::Bucket"
DISTRIBUTION_TYPE = "AWS::CloudFront::Distribution"
# Until the server is up: the URL base the runner puts in place of the distribution's domain, then overrides.
PLACEHOLDER_DOMAIN = "images.localhost"
# S3 notifies within about a second: polled every quarter second after an upload, and while nothing arrives, a
# little less often each time up to once a second (a List call to the local S3 costs the runner's process ~5 ms of
# CPU, which a load test of the API would otherwise share four times a second).
_POLL_SECONDS = 0.25
_IDLE_POLL_SECONDS = 1.0


def local_bucket_name(logical_id: str) -> str:
    """A bucket's local name: its logical id in S3's spelling."""
    return f"{logical_id.lower()}-local"


def local_reference(resources: Mapping[str, Any], name: str) -> str | None:
    """The local value of `!Ref Bucket`, or of `${Distribution.DomainName}` in a !Sub; None for anything else."""
    logical_id, _, attribute = name.partition(".")
    resource = resources.get(logical_id)
    kind = resource.get("Type") if isinstance(resource, Mapping) else None
    if kind == BUCKET_TYPE and not attribute:
        return local_bucket_name(logical_id)
    if kind == DISTRIBUTION_TYPE and attribute == "DomainName":
        return PLACEHOLDER_DOMAIN
    return None


@dataclass(frozen=True)
class S3Subscription:
    """One function's `Type: S3` event: which bucket, which events, which key prefix."""

    function: str
    bucket: str  # the local name
    prefix: str
    events: tuple[str, ...]


def subscriptions_from_template(template: Mapping[str, Any]) -> list[S3Subscription]:
    found: list[S3Subscription] = []
    for event in function_events(template, "S3"):
        bucket = event.properties.get("Bucket")
        if not (isinstance(bucket, Mapping) and isinstance(bucket.get("Ref"), str)):
            continue
        events = event.properties.get("Events")
        rules = ((event.properties.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
        prefix = next((str(rule["Value"]) for rule in rules if str(rule.get("Name")).lower() == "prefix"), "")
        found.append(
            S3Subscription(
                function=event.function,
                bucket=local_bucket_name(bucket["Ref"]),
                prefix=prefix,
                events=tuple(events) if isinstance(events, list) else (str(events),),
            )
        )
    return found


def object_created_event(bucket: str, key: str, size: int, etag: str, region: str) -> dict[str, Any]:
    """The event Lambda gets from an S3 notification of one new object (keys URL-encoded as S3 sends them)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "local"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "local"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "local",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "local"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag, "sequencer": "0"},
                },
            }
        ]
    }


@dataclass(eq=False)
class NotificationPoller:
    """S3's notification of one subscription, locally: new objects under the prefix, one invocation each."""

    subscription: S3Subscription
    client: S3Client
    deliver: Callable[[dict[str, Any]], str | None]
    region: str
    log: Callable[[str], None]
    _seen: set[tuple[str, str]] = field(default_factory=set, init=False)
    _interval: float = field(default=_POLL_SECONDS, init=False)
    _loop: PollLoop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = PollLoop(
            self.poll_once,
            thread_name=f"s3-{self.subscription.function}",
            describe="s3 notifications",
            log=self.log,
            interval=lambda: self._interval,
            backoff=lambda: _POLL_SECONDS * 20,
        )

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float) -> bool:
        return self._loop.stop(timeout)

    def poll_once(self) -> int:
        """Deliver every object not delivered yet; how many were."""
        listed = self.client.list_objects_v2(Bucket=self.subscription.bucket, Prefix=self.subscription.prefix)
        delivered = 0
        for item in listed.get("Contents", []):
            marker = (item["Key"], item["ETag"])
            if marker in self._seen:
                continue
            self._seen.add(marker)
            event = object_created_event(
                self.subscription.bucket, item["Key"], int(item["Size"]), item["ETag"].strip('"'), self.region
            )
            started = time.perf_counter()
            error = self.deliver(event)
            name = f"s3://{self.subscription.bucket}/{item['Key']} -> {self.subscription.function}"
            self.log(f"{name}: {(time.perf_counter() - started) * 1000:.1f} ms")
            if error is not None:
                self.log(f"{self.subscription.function} {error}")
            delivered += 1
        self._interval = _POLL_SECONDS if delivered else min(_IDLE_POLL_SECONDS, self._interval * 1.5)
        return delivered


# Served under this prefix only, as the bucket policy lets CloudFront read images/ and nothing else.
SERVED_PREFIX = "images/"


class LocalCdn(LoopbackServer):
    """CloudFront in front of the bucket, locally: GET and HEAD of images/ keys, nothing else."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        super().__init__(_CdnRequestHandler, "local-cdn")
        self.client = client
        self.bucket = bucket


class _CdnRequestHandler(QuietRequestHandler):
    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        cdn = cast(LocalCdn, self.server)
        key = unquote(urlsplit(self.path).path.lstrip("/"))
        if not key.startswith(SERVED_PREFIX):
            self.answer(403, "text/plain", b"Forbidden: only images/ is served\n", body=body)
            return
        try:
            found = cdn.client.get_object(Bucket=cdn.bucket, Key=key)
        except ClientError as exc:
            status = 404 if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"} else 502
            self.answer(status, "text/plain", f"{status}\n".encode(), body=body)
            return
        headers = {"Cache-Control": found.get("CacheControl", "no-cache"), "ETag": found.get("ETag", "")}
        content_type = found.get("ContentType", "application/octet-stream")
        self.answer(200, content_type, found["Body"].read(), body=body, headers=headers)


class LocalS3:
    """moto's S3 server on a free loopback port, holding the template's buckets."""

    def __init__(self, template: Mapping[str, Any], region: str, log: Callable[[str], None]) -> None:
        from moto.server import ThreadedMotoServer

        self._template = template
        self._region = region
        self._log = log
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._pollers: list[NotificationPoller] = []
        self._cdn: LocalCdn | None = None
        self.buckets = [
            local_bucket_name(logical_id)
            for logical_id, resource in (template.get("Resources") or {}).items()
            if isinstance(resource, Mapping) and resource.get("Type") == BUCKET_TYPE
        ]
        self.endpoint_url = ""
        # Where the CDN stand-in serves images/ ("" until started, or when the template has no bucket).
        self.images_base_url = ""
        # What the functions' containers get on top of their template environment (set by start).
        self.environment: dict[str, str] = {}

    def start(self) -> None:
        """Start the server, create the buckets, and point the functions' S3 clients and image URLs at it."""
        # werkzeug (under moto's server) would print a line per request, the notification polls included
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        _host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://127.0.0.1:{port}"
        client = self.client()
        for bucket in self.buckets:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self._region})  # type: ignore[typeddict-item]
        # For the functions' containers, on top of their template environment (IMAGES_BASE_URL replaces the
        # placeholder domain): boto3 reads the endpoint when a function makes its S3 client. Path style: the bucket
        # cannot be a subdomain of an IP address.
        self.environment = {"AWS_ENDPOINT_URL_S3": self.endpoint_url, "S3_ADDRESSING_STYLE": "path"}
        if self.buckets:
            self._cdn = LocalCdn(client, self.buckets[0])
            self._cdn.start()
            self.images_base_url = self._cdn.url
            self.environment["IMAGES_BASE_URL"] = self.images_base_url

    def client(self) -> S3Client:
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self._region)

    def start_notifications(self, deliver: Callable[[str, dict[str, Any]], str | None]) -> list[S3Subscription]:
        """Deliver each subscription's new objects to its function: deliver(function, event) -> error or None."""
        subscriptions = subscriptions_from_template(self._template)
        for subscription in subscriptions:

            def to_function(event: dict[str, Any], function: str = subscription.function) -> str | None:
                return deliver(function, event)

            poller = NotificationPoller(subscription, self.client(), to_function, self._region, self._log)
            self._pollers.append(poller)
            poller.start()
        return subscriptions

    def stop(self, timeout: float = 5.0) -> None:
        for poller in self._pollers:
            poller.stop(timeout)
        if self._cdn is not None:
            self._cdn.stop()
        self._server.stop()
