#!/usr/bin/env bash
# Headless Chromium for the report test of packages/transllm (report.html opened in a real browser). Idempotent.
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-thai-tlwg >/dev/null
