#!/usr/bin/env bash
# Runs every test: unit, integration, e2e and conformance on the regular build, then unit and
# integration again under AddressSanitizer + UBSan, plus the formatting and generated-docs
# checks. Installs what it needs; starts (and stops) its own PostgreSQL through CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/deps.sh"

echo "==> build" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null

echo "==> format and generated docs" >&2
"$root/scripts/check-format.sh"
if ! build/rosterd config-doc | diff -u docs/CONFIG.md - >/dev/null; then
    echo "docs/CONFIG.md is stale: run build/rosterd config-doc > docs/CONFIG.md" >&2
    exit 1
fi

echo "==> tests (all labels)" >&2
(cd build && ctest --output-on-failure -j"$jobs" --timeout 900)

echo "==> sanitizer build: unit and integration" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DROSTER_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j"$jobs" -L 'unit|integration' --timeout 900)
echo "==> all tests passed" >&2
