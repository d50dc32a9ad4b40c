#!/usr/bin/env bash
# Runs every test of the repository (unit tests and end-to-end SDK tests with real gcc and QEMU).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
dotnet test MicroTvm.slnx -nodeReuse:false "$@"
