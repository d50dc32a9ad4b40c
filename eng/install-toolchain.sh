#!/usr/bin/env bash
# Installs the Arm GNU toolchain (arm-none-eabi-gcc + newlib), QEMU, gdb-multiarch, socat and cmake/make from Debian/Ubuntu packages
# when they are missing. Uses sudo only when not root.
set -euo pipefail
missing=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-none-eabi)
# newlib (libc for the target) is a separate package; check for its nano variant's specs.
if ! arm-none-eabi-gcc -print-file-name=nano.specs 2>/dev/null | grep -q /; then
  missing+=(libnewlib-arm-none-eabi)
fi
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
# -t:Debug's gdb (and its test's batch session); socat's pseudo-terminal pair stands in for a serial cable in -t:Monitor's test.
command -v gdb-multiarch >/dev/null 2>&1 || missing+=(gdb-multiarch)
command -v socat >/dev/null 2>&1 || missing+=(socat)
# cmake and make: the test that builds a plain CMake firmware against a model's C library (microtvm compile --format library).
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v make >/dev/null 2>&1 || missing+=(make)
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "Toolchain present: $(arm-none-eabi-gcc -dumpversion) (arm-none-eabi-gcc), $(qemu-system-arm --version | head -1)"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "Installing: ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
