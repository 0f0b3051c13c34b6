#!/usr/bin/env bash
# tmux for the pseudo-terminal test of `transllm chat` (packages/recovery-kd/test/chat-tty.test.ts). Idempotent.
set -euo pipefail
if command -v tmux >/dev/null; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends tmux >/dev/null
