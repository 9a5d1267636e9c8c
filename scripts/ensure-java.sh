#!/usr/bin/env bash
# DynamoDB Local is a Java program: make sure a Java runtime (17 or newer) is on PATH.
set -euo pipefail
java_major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'; }
if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ]; then
  exit 0
fi
echo ">> DynamoDB Local needs Java 17 or newer; installing default-jre-headless with apt-get"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no Java 17+ found and cannot install it here (needs root and apt-get)." >&2
  echo "       Install a Java runtime 17 or newer (e.g. 'sudo apt-get install -y default-jre-headless') and re-run." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq default-jre-headless >/dev/null
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  echo "error: installed default-jre-headless but no Java 17+ is on PATH." >&2
  exit 1
fi
