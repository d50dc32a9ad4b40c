#!/usr/bin/env bash
# Long fuzz run of the model frontend (TFLite reader, importer, shape inference, analysis).
# Usage: eng/fuzz.sh [iterations=200000] [seed=random] [out-dir=artifacts/fuzz]
# Every case must end in success or an MTVM1xxx CompilerException within 10 s; failing inputs are saved to out-dir.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-200000}"
seed="${2:-$(( (RANDOM << 15) | RANDOM ))}"
out="${3:-artifacts/fuzz}"
mkdir -p "$out"
echo "fuzzing the frontend: $iterations iterations, seed $seed, findings -> $out"
MICROTVM_FUZZ_ITERATIONS="$iterations" MICROTVM_FUZZ_SEED="$seed" MICROTVM_FUZZ_OUT="$(pwd)/$out" \
  dotnet test tests/MicroTvm.Compiler.Tests -nodeReuse:false \
    --filter "FullyQualifiedName~MicroTvm.Compiler.Tests.Fuzz.FrontendFuzzTests" \
    --logger "console;verbosity=detailed" -- RunConfiguration.TestSessionTimeout=86400000 \
  | grep -E "seed|MTVM|FINDING|Passed|Failed|error" || true
test "$(find "$out" -name "finding-$seed-*" | wc -l)" -eq 0
