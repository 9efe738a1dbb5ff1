#!/usr/bin/env bash
# System packages and services the full test suite uses beyond `make test`'s Python packages:
# Debian's chromium + chromium-driver (dashboard browser tests), fonts-wqy-microhei (Chinese text in
# PNG previews) and PostgreSQL (store tests; started here). Needs root (apt-get). Idempotent.
# stdout carries only export lines, so use it as:   eval "$(bash .ci/services.sh)"
set -euo pipefail
log() { echo "services.sh: $*" >&2; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing+=(fonts-wqy-microhei)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
bash "$(dirname "$0")/postgres.sh"
