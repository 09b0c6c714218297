#!/usr/bin/env bash
# Builds wasm2o and its runtime, compiles examples/demo/demo.wat ahead of time
# to an object and a C header, links it with the C host examples/demo/host.c,
# and runs the result. Progress goes to stderr, the demo's own output to
# stdout (examples/check-demo.sh compares that with expected-output.txt).
#
# Environment: CC (default cc), CARGO (default cargo), CARGO_TARGET_DIR
# (default target).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
wasm2o=$target_dir/release/wasm2o
runtime=$target_dir/release/libwasm2o_runtime.a
out=build/demo

step() { printf '==> %s\n' "$*" >&2; }

# cargo does nothing when everything is up to date, so always asking it keeps
# the binaries fresh without rebuilding needlessly.
step "building wasm2o and libwasm2o_runtime.a (release)"
"${CARGO:-cargo}" build --release --quiet -p wasm2o -p wasm2o-runtime >&2

mkdir -p "$out"
step "compiling examples/demo/demo.wat -> $out/demo.o + $out/demo.h"
"$wasm2o" compile examples/demo/demo.wat -o "$out/demo.o" --header "$out/demo.h" --prefix demo

step "linking examples/demo/host.c -> $out/demo"
"${CC:-cc}" -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
    examples/demo/host.c "$out/demo.o" "$runtime" -lpthread -ldl -lm -o "$out/demo"

step "running $out/demo"
"$out/demo"
