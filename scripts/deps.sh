#!/usr/bin/env bash
# Installs what Roster needs on Debian 12 when it is missing: the C toolchain and libraries,
# PostgreSQL, Node.js for the conformance tests, and Chromium for the browser test of the
# hosted connect pages (playwright-core drives Debian's chromium; no browser is downloaded).
# Safe to re-run; installs nothing twice.
set -euo pipefail

packages=(build-essential cmake pkg-config git curl jq ca-certificates
          libevent-dev libcurl4-openssl-dev libjansson-dev libssl-dev libpq-dev libsodium-dev
          libcmocka-dev postgresql postgresql-client clang-format wrk chromium)
# Node.js: a machine may already carry one (from another repository); only add Debian's if not.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package may start a system cluster; Roster never uses it (it runs its own).
