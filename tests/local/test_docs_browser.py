"""The interactive API reference in a real browser: headless Chromium opens /docs/ on the local runner, authorises
with the demo API key, sends a PATCH from Swagger UI's "Try it out", and reads the answer the page shows.

Chromium and chromedriver are Debian's (`make install` installs them as root; scripts/ensure-chromium.sh), driven by
Selenium with the driver's path given, so Selenium Manager never downloads anything. Without them the test is skipped
and says why. A screenshot of the page after the PATCH is saved as test-artifacts/docs-patch.png (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from local_runner import Banner, running
from support import ROOT

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (make install)")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "docs-patch.png"
# Swagger UI's deep-link id of an operation: operations-<tag>-<operationId>.
PATCH_OPERATION = "operations-products-updateProduct"
UI_TIMEOUT = 30.0
NEW_NAME = "Changed from the API reference"
# Without the background-networking flags Chromium keeps calling Google's services, which a closed network refuses.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)


def _system_chromium() -> tuple[str, str]:
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
        pytest.skip(
            f"no {missing} on PATH: install Debian's chromium and chromium-driver (`make install` as root does) "
            "to run the browser test"
        )
    return browser, driver


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    chromium, chromedriver = _system_chromium()
    # Selenium Manager must not look for (or download) a driver or a browser: both are given.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def api() -> Iterator[Banner]:
    with running("--in-memory") as (_, banner):
        yield banner


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, UI_TIMEOUT)


def _visible(driver: WebDriver, css: str, within: WebElement | None = None) -> WebElement:
    scope = within or driver
    _wait(driver).until(lambda _: any(element.is_displayed() for element in scope.find_elements(By.CSS_SELECTOR, css)))
    return next(element for element in scope.find_elements(By.CSS_SELECTOR, css) if element.is_displayed())


def _click(driver: WebDriver, css: str, within: WebElement | None = None) -> None:
    element = _visible(driver, css, within)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    _wait(driver).until(expected_conditions.element_to_be_clickable(element))
    element.click()


def _replace_text(element: WebElement, text: str) -> None:
    """Select all and type over: Swagger UI's React inputs only see keystrokes, not a programmatic clear()."""
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text)


def test_the_page_is_served_from_this_server_only(api: Banner) -> None:
    """Everything the page loads comes from /docs/ itself: no CDN, no validator badge."""
    page = requests.get(f"{api.base_url}/docs/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(":" not in url or url.startswith("data:") for url in loaded), loaded
    for url in loaded:
        if not url.startswith("data:"):
            assert requests.get(f"{api.base_url}/docs/{url}", timeout=10).status_code == 200, url
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(f"{api.base_url}/docs/openapi.json", timeout=10).json() == json.loads(
        (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    )


def test_a_patch_sent_from_the_page_answers_200_with_the_new_etag(api: Banner, browser: WebDriver) -> None:
    browser.get(f"{api.base_url}/docs")  # redirected to /docs/
    _wait(browser).until(lambda driver: "Products API" in driver.find_element(By.CSS_SELECTOR, "body").text)
    assert browser.current_url == f"{api.base_url}/docs/"
    # The page calls the server it came from first (not the document's port 3000).
    selected_server = _visible(browser, ".servers select")
    assert selected_server.get_attribute("value") == api.base_url

    # Authorize: paste the demo key into the Bearer scheme.
    _click(browser, "button.authorize")
    dialog = _visible(browser, ".modal-ux")
    _visible(browser, "input", dialog).send_keys(api.token)
    _click(browser, "button.modal-btn.authorize", dialog)
    _click(browser, "button.btn-done", dialog)
    _wait(browser).until(expected_conditions.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))

    # Try it out: the product's id and a body of our own, then Execute.
    operation = browser.find_element(By.ID, PATCH_OPERATION)
    _click(browser, ".opblock-summary", operation)
    _click(browser, "button.try-out__btn", operation)
    _replace_text(_visible(browser, 'tr[data-param-name="id"] input', operation), api.product_id)
    _replace_text(_visible(browser, "textarea.body-param__text", operation), json.dumps({"name": NEW_NAME}))
    _click(browser, "button.execute", operation)

    live = _visible(browser, ".live-responses-table", operation)
    status = _visible(browser, "tr.response .response-col_status", live)
    _wait(browser).until(lambda _: status.text.strip().isdigit())
    body_text = _visible(browser, "tr.response .response-col_description pre.microlight", live).text
    headers_text = live.find_element(By.XPATH, ".//h5[text()='Response headers']/following-sibling::pre").text
    ARTIFACTS.mkdir(exist_ok=True)
    # The request (curl, URL) and the answer (status, body, headers) in one picture.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", live)
    browser.save_screenshot(str(SCREENSHOT))

    assert status.text.strip() == "200", f"{status.text}: {body_text}"
    product = json.loads(body_text)
    assert product["_id"] == api.product_id and product["name"] == NEW_NAME
    etag = re.search(r"^\s*etag:\s*(\S+)\s*$", headers_text, re.IGNORECASE | re.MULTILINE)
    assert etag, f"no ETag among the headers the page shows:\n{headers_text}"
    # The demo product is seeded at version 1: the page's PATCH wrote version 2, and shows its tag.
    assert product["version"] == 2
    assert etag.group(1) == '"2"'
    # The API agrees: the write is there for a client that was not the page.
    history = requests.get(
        f"{api.base_url}/api/v1/products/{api.product_id}/history",
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=10,
    )
    assert history.status_code == 200
    assert os.path.getsize(SCREENSHOT) > 10_000
