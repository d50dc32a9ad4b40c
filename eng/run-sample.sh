#!/usr/bin/env bash
# Installs what is missing (ARM toolchain, QEMU), packs MicroTvm.Sdk, then builds and runs a sample on
# its emulated board. Usage: eng/run-sample.sh [sample-folder] [extra dotnet build arguments...]
# Default sample: samples/kws (a TFLite model as a MicroModel item) on mps2-an500 (Cortex-M7).
# Examples: eng/run-sample.sh samples/hello; eng/run-sample.sh samples/kws -p:Board=mps3-an547
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sample="${1:-samples/kws}"
shift || true

"$repo/eng/install-toolchain.sh"
"$repo/eng/pack.sh"

# Samples restore from a repository-local package cache, and the SDK just packed replaces any earlier
# copy of the same version there (NuGet never re-reads a version it has cached).
export NUGET_PACKAGES="$repo/artifacts/nuget-packages"
rm -rf "$NUGET_PACKAGES/microtvm.sdk"

cd "$repo/$sample"
dotnet build -t:Run -nodeReuse:false -tl:off -v:minimal "$@"
