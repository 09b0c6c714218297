#!/usr/bin/env bash
# Compiles examples/memctl/guest.c to Wasm with clang: OUT/guest.wasm and
# wasm-ld's map OUT/guest.map. The same module for every target (the
# native demo in examples/run-demo.sh and the aarch64 one in
# testsuite/cross/demo.sh compile it from here).
#
# wasm-ld's layout: --global-base=65536 starts the data at page 1 and
# leaves page 0 unused (no-access); .rodata comes first, and the guest
# gives its first .data object 64 KiB alignment so .data starts on the
# next page boundary. -fno-delete-null-pointer-checks keeps NULL
# dereferences as loads that trap instead of letting clang assume they
# cannot happen.
#
# Usage: examples/memctl/build-guest.sh OUT   Environment: CLANG (default clang-16).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:?usage: examples/memctl/build-guest.sh OUT}
mkdir -p "$out"
"${CLANG:-clang-16}" --target=wasm32 -O2 -ffreestanding -fno-delete-null-pointer-checks \
    -mbulk-memory -nostdlib -Wall -Wextra -Werror \
    -Wl,--no-entry -Wl,--global-base=65536 -Wl,--Map="$out/guest.map" \
    examples/memctl/guest.c -o "$out/guest.wasm"
