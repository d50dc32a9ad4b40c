#!/usr/bin/env bash
# The benchmark: every model in tests/models on every emulated board (QEMU), built through the packed SDK like a
# user project, against TensorFlow Lite Micro's figures (eng/benchmark/baselines).
# Prints a table and writes eng/benchmark/results.json. Needs only eng/install-toolchain.sh.
# Options: eng/benchmark.sh --help.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MSBUILDDISABLENODEREUSE=1 dotnet run --project "$repo/eng/benchmark/MicroTvm.Benchmark.csproj" -c Release -- --repo "$repo" "$@"
