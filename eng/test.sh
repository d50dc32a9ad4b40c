#!/usr/bin/env bash
# Runs every test of the repository (unit tests and end-to-end SDK tests with real gcc and QEMU).
#   eng/test.sh --fast   only the fast layer: tests without gcc, QEMU or dotnet build (classes tagged
#                        [Trait("Speed", "Slow")] are left out); under a minute on an idle 2-core machine.
# Further arguments go to dotnet test.
# The full run builds once, then runs the two test projects side by side: the end-to-end tests spend most of their
# time in one process at a time (a dotnet build, gcc or QEMU), which leaves a core for the compiler tests. The
# compiler tests' output is printed after theirs finish.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [[ "${1:-}" == "--fast" ]]; then
  shift
  exec dotnet test MicroTvm.slnx -nodeReuse:false --filter "Speed!=Slow" "$@"
fi
dotnet build MicroTvm.slnx -nodeReuse:false
compiler_log="$(mktemp)"
trap 'rm -f "$compiler_log"' EXIT
dotnet test tests/MicroTvm.Compiler.Tests --no-build -nodeReuse:false "$@" > "$compiler_log" 2>&1 &
compiler_tests=$!
sdk_status=0
dotnet test tests/MicroTvm.Sdk.Tests --no-build -nodeReuse:false "$@" || sdk_status=$?
compiler_status=0
wait "$compiler_tests" || compiler_status=$?
echo "--- MicroTvm.Compiler.Tests ---"
cat "$compiler_log"
if (( sdk_status != 0 || compiler_status != 0 )); then
  echo "tests failed: MicroTvm.Sdk.Tests exit $sdk_status, MicroTvm.Compiler.Tests exit $compiler_status" >&2
  exit 1
fi
