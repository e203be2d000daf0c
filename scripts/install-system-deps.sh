#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing: redis-server (real Redis, standalone and
# a 3-node cluster on loopback), chromium (the dashboard's browser test drives it headless; Playwright's
# own browser download is not used) and postgresql (`pricing tune`'s shared storage: the test starts its own
# server in a temporary folder, tests/servers.py). Idempotent; run by `make test` and `make run`.
set -euo pipefail
packages=(redis-server chromium postgresql)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the tests start their own servers on free loopback ports; the packaged services are not needed
for service in redis-server postgresql; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        $sudo systemctl stop "$service" || true
    fi
done
