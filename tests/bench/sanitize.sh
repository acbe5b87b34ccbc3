#!/usr/bin/env bash
# sanitize.sh: builds the sanitizer micro-benchmark in Release (build-bench-san/) and runs it over
# the realistic emails in tests/bench/data/. Prints Markdown for docs/benchmarks.md ("Sanitizer").
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build-bench-san -DCMAKE_BUILD_TYPE=Release -DHDF_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench-san --target sanitize_bench -j"$(nproc)" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
exec build-bench-san/sanitize_bench tests/bench/data/*.html
