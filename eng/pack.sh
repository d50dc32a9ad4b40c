#!/usr/bin/env bash
# Packs MicroTvm.Sdk, MicroTvm.Templates and MicroTvm.Cli (the microtvm dotnet tool) into artifacts/packages (the
# repository's local NuGet feed).
# Usage: eng/pack.sh [version]   (default: MicroTvmVersion from Directory.Build.props)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version_args=()
if [[ $# -ge 1 && -n "$1" ]]; then
  version_args=("-p:MicroTvmVersion=$1")
fi
for project in sdk/MicroTvm.Sdk/MicroTvm.Sdk.csproj templates/MicroTvm.Templates/MicroTvm.Templates.csproj compiler/MicroTvm.Cli/MicroTvm.Cli.csproj; do
  dotnet pack "$repo/$project" -c Release -nodeReuse:false \
    -o "$repo/artifacts/packages" "${version_args[@]}" -v:minimal -clp:NoSummary
done
