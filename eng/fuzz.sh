#!/usr/bin/env bash
# Long fuzz run of the model frontend (TFLite reader, importer, shape inference, analysis).
# Usage: eng/fuzz.sh [iterations=200000] [seed=random] [out-dir=artifacts/fuzz]
# Two fuzzers, each for that many cases: byte mutations of the shared models (bit flips, truncations, spliced
# offsets) and random single-operator models (structure-aware). Every case must end in success or an MTVM1xxx
# CompilerException (within 10 s for the mutation fuzzer); failing mutated inputs are saved to out-dir.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-200000}"
seed="${2:-$(( (RANDOM << 15) | RANDOM ))}"
out="${3:-artifacts/fuzz}"
mkdir -p "$out"
echo "fuzzing the frontend: $iterations iterations, seed $seed, findings -> $out"
set +e
MICROTVM_FUZZ_ITERATIONS="$iterations" MICROTVM_FUZZ_SEED="$seed" MICROTVM_FUZZ_OUT="$(pwd)/$out" \
  dotnet test tests/MicroTvm.Compiler.Tests -nodeReuse:false \
    --filter "FullyQualifiedName~MicroTvm.Compiler.Tests.Fuzz." \
    --logger "console;verbosity=detailed" > "$out/last-run.log" 2>&1
status=$?
set -e
grep -E "seed|MTVM|FINDING|Passed|Failed|error" "$out/last-run.log" || true
exit $status
