#!/usr/bin/env bash
# Per shared model: workspace vs lower bounds, constant data, and the size of the generated C compiled for a target
# with arm-none-eabi-gcc -O2 (text = code + const data, as arm-none-eabi-size reports it).
# Usage: eng/codegen-report.sh [target] [--portable-kernels]   (default cortex-m7, with its DSP kernels)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-cortex-m7}"
extra="${2:-}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet build "$root/compiler/MicroTvm.Cli" -nodeReuse:false -v:q -nologo >/dev/null
cli="$root/compiler/MicroTvm.Cli/bin/Debug/net8.0/microtvm.dll"
flags=$(dotnet "$cli" targets | awk -F'\t' -v t="$target" '$1 == t { print $2 }')
printf '%-18s %10s %10s %10s %12s %10s %10s %10s %10s\n' model workspace ws-bound act-bound inputs+outs constants text data code
for dir in "$root"/tests/models/*/; do
  name=$(basename "$dir")
  dotnet "$cli" compile "$dir/model.tflite" --target "$target" $extra --name "$name" -o "$out/$name" >/dev/null
  arm-none-eabi-gcc $flags -std=c99 -O2 -ffunction-sections -fdata-sections -c "$out/$name/$name.c" -o "$out/$name/$name.o"
  read -r text data bss _ < <(arm-none-eabi-size "$out/$name/$name.o" | tail -1)
  python3 - "$out/$name/$name.json" "$text" "$data" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
code = int(sys.argv[2]) - m['weightsBytes']   # text holds the const data too
print(f"{m['name']:<18} {m['workspaceBytes']:>10} {m['workspaceLowerBoundBytes']:>10} {m['activationLowerBoundBytes']:>10} {m['inputOutputBytes']:>12} {m['weightsBytes']:>10} {sys.argv[2]:>10} {sys.argv[3]:>10} {code:>10}")
PY
done
