#!/usr/bin/env bash
# Runs every test of the repository (unit tests and end-to-end SDK tests with real gcc and QEMU).
#   eng/test.sh --fast   only the fast layer: tests without gcc, QEMU or dotnet build (classes tagged
#                        [Trait("Speed", "Slow")] are left out); under a minute on an idle 2-core machine.
# Further arguments go to dotnet test.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [[ "${1:-}" == "--fast" ]]; then
  shift
  exec dotnet test MicroTvm.slnx -nodeReuse:false --filter "Speed!=Slow" "$@"
fi
dotnet test MicroTvm.slnx -nodeReuse:false "$@"
