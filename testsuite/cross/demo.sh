#!/usr/bin/env bash
# The C embedding demo for aarch64 Linux, cross-built on this machine and
# run under qemu: examples/demo/demo.wat compiled with
# `--target aarch64-unknown-linux-gnu`, examples/demo/host.c and the aarch64
# runtime (libwasm2o_runtime.a from `cargo +debian build --target ...`)
# linked with aarch64-linux-gnu-gcc, and the program's output compared with
# examples/demo/expected-output.txt (the same file the native demo checks).
#
# Environment: CARGO_TARGET_DIR (default target), WASM2O (default
# $CARGO_TARGET_DIR/release/wasm2o), WASM2O_CROSS_CC
# (default aarch64-linux-gnu-gcc), WASM2O_CROSS_RUNNER (default
# qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:
# the cross toolchain's C library, see cli/src/wast/cross.rs for why).
set -euo pipefail
cd "$(dirname "$0")/../.."

triple=aarch64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-target}
wasm2o=${WASM2O:-$target_dir/release/wasm2o}
runtime=$target_dir/$triple/release/libwasm2o_runtime.a
cc=${WASM2O_CROSS_CC:-aarch64-linux-gnu-gcc}
read -r -a runner <<<"${WASM2O_CROSS_RUNNER:-qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib}"
out=build/cross/$triple/demo
mkdir -p "$out"

[ -f "$runtime" ] || { echo "cross demo: $runtime is missing (make test-cross builds it)" >&2; exit 1; }
"$wasm2o" compile --target "$triple" examples/demo/demo.wat -o "$out/demo.o" --header "$out/demo.h" --prefix demo
$cc -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
    examples/demo/host.c "$out/demo.o" "$runtime" -lpthread -ldl -lm -o "$out/demo"
"${runner[@]}" "$out/demo" >"$out/output.txt"
if diff -u examples/demo/expected-output.txt "$out/output.txt"; then
    echo "cross demo ($triple, under ${runner[0]}): output matches examples/demo/expected-output.txt"
else
    echo "cross demo ($triple): output differs from examples/demo/expected-output.txt (see the diff above)" >&2
    exit 1
fi
