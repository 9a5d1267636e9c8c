#!/usr/bin/env bash
# The browser test of /docs (tests/test_docs_browser.py) drives a headless Chromium through chromedriver: Debian's
# chromium and chromium-driver, which need no download at run time. Installed with apt-get when missing and this is
# root on a Debian-like system; otherwise say so and carry on: the browser test is then skipped, saying why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo ">> no chromium/chromedriver, and no root with apt-get to install them: the browser test will be skipped"
  echo "   (install them with 'sudo apt-get install -y chromium chromium-driver' to run it)"
  exit 0
fi
echo ">> installing Chromium and its driver for the browser test (apt-get install chromium chromium-driver)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || {
  echo "error: installed chromium and chromium-driver but chromium or chromedriver is not on PATH." >&2
  exit 1
}
