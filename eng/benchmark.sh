#!/usr/bin/env bash
# The benchmark: every model in tests/models on every emulated board (QEMU), built through the packed SDK like a
# user project, against TensorFlow Lite Micro's figures (eng/benchmark/baselines).
# Prints a table and writes eng/benchmark/results.json. Needs only eng/install-toolchain.sh.
# Usage: eng/benchmark.sh [--boards mps2-an500,mps2-an386,mps3-an547] [--models kws_dscnn,...] [--output file.json]
#        [--per-op-boards mps2-an500] [--portable-kernels (no DSP/Helium kernels)] [--keep (keep the projects)]
#        [--caller-io (inputs and outputs in caller buffers beside the workspace instead of IoInWorkspace="true")]
#        [--weight-layout speed|size|auto (MicroTvmWeightLayout of every project; default auto)]
#        [--tuned [--tune-budget N] (also dotnet build -t:Tune each project, N trials per operator signature, default 16,
#         and build and run it again with its tuning log: tuned vs default instructions and tuning wall time)]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet run --project "$repo/eng/benchmark/MicroTvm.Benchmark.csproj" -c Release -nodeReuse:false -- --repo "$repo" "$@"
