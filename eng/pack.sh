#!/usr/bin/env bash
# Packs MicroTvm.Sdk into artifacts/packages (the repository's local NuGet feed).
# Usage: eng/pack.sh [version]   (default: MicroTvmVersion from Directory.Build.props)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version_args=()
if [[ $# -ge 1 && -n "$1" ]]; then
  version_args=("-p:MicroTvmVersion=$1")
fi
dotnet pack "$repo/sdk/MicroTvm.Sdk/MicroTvm.Sdk.csproj" -c Release -nodeReuse:false \
  -o "$repo/artifacts/packages" "${version_args[@]}" -v:minimal -clp:NoSummary
