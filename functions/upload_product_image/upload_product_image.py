"""The image routes of a product: route, parse, call the service, map the result.

- POST /api/v1/products/{id}/images: one image (multipart/form-data, at most 4 MB), appended to imageUrls.
- POST /api/v1/products/{id}/images/uploads: a presigned POST for a file of up to 10 MB, and its status URL.
- GET /api/v1/products/{id}/images/uploads/{uploadId}: that upload's status.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.entrypoint import caller, http_app, http_entrypoint, resolve_observed
from products_api.api.handler import admit_write, request_id, respond
from products_api.api.observability import IMAGE_APPENDED, UPLOAD_CREATED, UPLOAD_READ, logger
from products_api.images.requests import parse_create_upload, parse_direct_upload, parse_upload_status
from products_api.images.runtime import get_images_runtime

REQUIRED_SCOPE = "products:write"
READ_SCOPE = "products:read"
# What a 2xx of each route did, for its outcome metric.
SUCCESS_METRICS = {
    "POST /api/v1/products/{id}/images": IMAGE_APPENDED,
    "POST /api/v1/products/{id}/images/uploads": UPLOAD_CREATED,
    "GET /api/v1/products/{id}/images/uploads/{uploadId}": UPLOAD_READ,
}

app = http_app()


@app.post("/api/v1/products/<product_id>/images")
def upload_product_image(product_id: str) -> Response[str]:
    runtime = get_images_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE)
    event = app.current_event
    request = parse_direct_upload(event.raw_event, event.headers, product_id)
    logger.append_keys(image_format=request.info.format, image_bytes=len(request.image.data))
    admit_write(app, runtime.limiter, principal.company_id)
    outcome = runtime.direct_uploads.handle(principal, request, request_id(app))
    return respond(app, outcome)


@app.post("/api/v1/products/<product_id>/images/uploads")
def create_image_upload(product_id: str) -> Response[str]:
    runtime = get_images_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE)
    request = parse_create_upload(app.current_event.raw_event, product_id)
    # a presigned upload is a write to come: it is limited here, when the client asks for it
    admit_write(app, runtime.limiter, principal.company_id)
    return respond(app, runtime.uploads.create(principal, request))


@app.get("/api/v1/products/<product_id>/images/uploads/<upload_id>")
def get_image_upload(product_id: str, upload_id: str) -> Response[str]:
    runtime = get_images_runtime()
    principal = caller(app, runtime.authenticator, READ_SCOPE)
    request = parse_upload_status(product_id, upload_id)
    return respond(app, runtime.uploads.status(principal, request))


# The event (an image, here) is never logged: see http_entrypoint.
@http_entrypoint
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_images_runtime()
    runtime.direct_uploads.register_lambda_context(context)
    success = SUCCESS_METRICS.get(str(event.get("routeKey")), IMAGE_APPENDED)
    return resolve_observed(app, event, context, runtime.settings, success)
