#!/usr/bin/env bash
# Long fuzz run of the model compiler.
# Usage: eng/fuzz.sh [--seconds N] [iterations=200000] [seed=random] [out-dir=artifacts/fuzz]
# Three fuzzers:
#   - byte mutations of the shared models (bit flips, truncations, spliced offsets) through the importer;
#   - random single-operator models (structure-aware) through the importer and the reference evaluator;
#   - the compile stage: mutants and random models that import must compile (or be rejected with an MTVM code), their
#     generated C must build with the host gcc and run under ASan/UBSan with outputs equal to the evaluator's.
# The first two run `iterations` cases each; the compile stage runs for a time budget. With --seconds N each of the
# three runs N seconds (the first two stop by time, not count); xunit runs them in parallel, one per core, so the
# whole run takes N seconds with three or more cores, 2N with two, plus the build.
# Failing inputs are saved to out-dir (relative to the current folder, or absolute); the log is out-dir/last-run.log.
set -euo pipefail
seconds=""
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- "${positional[@]+"${positional[@]}"}"
root="$(cd "$(dirname "$0")/.." && pwd)"
iterations="${1:-200000}"
seed="${2:-$(( (RANDOM << 15) | RANDOM ))}"
out="${3:-$root/artifacts/fuzz}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"   # absolute, resolved from the caller's folder before anything changes directory
if [ -n "$seconds" ]; then
  case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: --seconds takes a whole number of seconds, not '$seconds'" >&2; exit 2 ;; esac
  budget=(MICROTVM_FUZZ_SECONDS="$seconds")
  iterations=2000000000
  echo "fuzzing the compiler: $seconds s per fuzzer (in parallel, one per core), seed $seed, findings -> $out"
else
  compile_seconds=$(( iterations / 1000 > 60 ? iterations / 1000 : 60 ))
  budget=(MICROTVM_FUZZ_COMPILE_SECONDS="$compile_seconds")
  echo "fuzzing the compiler: $iterations iterations per frontend fuzzer, compile stage $compile_seconds s, seed $seed, findings -> $out"
fi
cd "$root"
set +e
env "${budget[@]}" MICROTVM_FUZZ_ITERATIONS="$iterations" MICROTVM_FUZZ_SEED="$seed" MICROTVM_FUZZ_OUT="$out" \
  dotnet test tests/MicroTvm.Compiler.Tests -nodeReuse:false \
    --filter "FullyQualifiedName~MicroTvm.Compiler.Tests.Fuzz." \
    --logger "console;verbosity=detailed" > "$out/last-run.log" 2>&1
status=$?
set -e
grep -E "seed|MTVM|FINDING|models/s|compiled|Passed|Failed|error" "$out/last-run.log" || true
exit $status
