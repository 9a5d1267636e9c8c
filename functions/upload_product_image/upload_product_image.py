"""The image routes of a product: route, parse, call the service, map the result.

- POST /api/v1/products/{id}/images: one image (multipart/form-data, at most 4 MB), appended to imageUrls.
- POST /api/v1/products/{id}/images/uploads: a presigned POST for a file of up to 10 MB, and its status URL.
- GET /api/v1/products/{id}/images/uploads/{uploadId}: that upload's status.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import HttpRequest, HttpRoutes
from products_api.api.observability import IMAGE_APPENDED, UPLOAD_CREATED, UPLOAD_READ, logger, traced
from products_api.api.responses import Outcome
from products_api.auth.credentials import Principal
from products_api.images.requests import parse_create_upload, parse_direct_upload, parse_upload_status
from products_api.images.runtime import get_images_runtime

WRITE = ("products:write",)
READ = ("products:read",)

# the runtime is looked up at each request, through this module's name (a test hands in its own by replacing it)
routes = HttpRoutes(lambda: get_images_runtime())


@routes.route("POST", "/api/v1/products/{id}/images", scopes=WRITE, success_metric=IMAGE_APPENDED)
def upload_product_image(request: HttpRequest, caller: Principal) -> Outcome:
    runtime = get_images_runtime()
    upload = parse_direct_upload(request.event, request.headers, request.path_parameters["id"])
    logger.append_keys(image_format=upload.info.format, image_bytes=len(upload.image.data))
    request.admit_write(runtime.limiter, caller.company_id)
    return runtime.direct_uploads.handle(caller, upload, request.request_id)


@routes.route("POST", "/api/v1/products/{id}/images/uploads", scopes=WRITE, success_metric=UPLOAD_CREATED)
def create_image_upload(request: HttpRequest, caller: Principal) -> Outcome:
    runtime = get_images_runtime()
    upload = parse_create_upload(request.event, request.path_parameters["id"])
    # a presigned upload is a write to come: it is limited here, when the client asks for it
    request.admit_write(runtime.limiter, caller.company_id)
    return runtime.uploads.create(caller, upload)


@routes.route("GET", "/api/v1/products/{id}/images/uploads/{uploadId}", scopes=READ, success_metric=UPLOAD_READ)
def get_image_upload(request: HttpRequest, caller: Principal) -> Outcome:
    upload = parse_upload_status(request.path_parameters["id"], request.path_parameters["uploadId"])
    return get_images_runtime().uploads.status(caller, upload)


# As the other HTTP functions: the event (an image, here) is never logged, the response body stays out of the trace,
# and the request's log line and metric are written even when the handler raises.
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_images_runtime().direct_uploads.register_lambda_context(context)
    return routes.serve(event, context)
