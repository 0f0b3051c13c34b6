#!/usr/bin/env bash
# Debian's Chromium for the docs site's browser test (docs/test/site-browser.test.ts drives it with playwright-core).
# Idempotent: does nothing when /usr/bin/chromium is already there. The test starts and stops its own browser.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-liberation fonts-thai-tlwg >/dev/null
/usr/bin/chromium --version
