"""The image routes over HTTP on `make serve`'s runner: moto's S3 server, its notifications delivered to the ingest
function, and the image URLs served. The issue's three checks, end to end: a PNG posted as multipart is appended and
its URL serves the same bytes; a text file named .png is refused and changes nothing; a 9 MB JPEG goes through the
presigned flow (a real form POST to the local S3) and is appended.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from image_samples import jpeg, png
from local_runner import running

pytestmark = pytest.mark.dynamodb_local
STATUS_TIMEOUT = 30.0


def test_images_end_to_end_on_the_local_runner() -> None:
    with running("--in-memory") as (runner, banner):
        base, product = banner.base_url, banner.product_id
        auth = {"Authorization": f"Bearer {banner.token}"}
        product_url = f"{base}/api/v1/products/{product}/images"

        data = png(5, 3)
        appended = requests.post(
            product_url, headers=auth, files={"image": ("hero.png", data, "image/png")}, timeout=30
        )
        assert appended.status_code == 200, appended.text
        url = appended.json()["imageUrls"][-1]
        served = requests.get(url, timeout=10)
        assert served.status_code == 200 and served.content == data
        assert served.headers["Content-Type"] == "image/png"
        version = appended.json()["version"]

        refused = requests.post(
            product_url, headers=auth, files={"image": ("photo.png", b"plain text\n", "image/png")}, timeout=30
        )
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_image"

        created = requests.post(f"{product_url}/uploads", headers=auth, timeout=30)
        assert created.status_code == 201, created.text
        form = created.json()["upload"]
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
        big = jpeg(640, 480, padding=9 * 1024 * 1024)
        posted = requests.post(
            form["url"],
            data={**form["fields"], "Content-Type": "image/jpeg"},
            files={"file": ("big.jpg", big, "image/jpeg")},
            timeout=60,
        )
        assert posted.status_code in (200, 201, 204), posted.text
        location = base + created.headers["Location"]
        deadline = time.monotonic() + STATUS_TIMEOUT
        status = requests.get(location, headers=auth, timeout=10).json()
        while status["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)  # the notification poll runs every quarter second
            status = requests.get(location, headers=auth, timeout=10).json()
        assert status["status"] == "appended", f"{status}\n{runner.output[-3000:]}"
        assert status["version"] == version + 1
        assert requests.get(status["imageUrl"], timeout=30).content == big
        # the text file changed nothing: the history holds the two appends' versions, one after the other
        deadline = time.monotonic() + STATUS_TIMEOUT
        while time.monotonic() < deadline:
            items = requests.get(f"{base}/api/v1/products/{product}/history", headers=auth, timeout=10).json()["items"]
            if items and items[0]["version"] == version + 1:
                break
            time.sleep(0.2)
        assert [item["version"] for item in items][:2] == [version + 1, version]
