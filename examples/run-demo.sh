#!/usr/bin/env bash
# Builds wasm2o and its runtime, then builds and runs the examples:
#
#   demo    examples/demo/demo.wat compiled ahead of time to an object and a C
#           header, linked with the C host examples/demo/host.c;
#   memctl  examples/memctl/guest.c compiled to Wasm with clang-16, then by
#           wasm2o, linked with examples/memctl/host.c (memory-control:
#           no-access and read-only pages, discard);
#   mapping examples/mapping/mapping.wat linked with examples/mapping/host.c
#           (memory-control: a read-only file mapped into the guest, and a
#           virtual memory used as an arena with map/unmap).
#
# Usage: examples/run-demo.sh [demo|memctl|mapping]...   (default: all three,
# in that order)
#
# Progress goes to stderr, the examples' own output to stdout
# (examples/check-demo.sh compares that with each expected-output.txt).
# The memctl example needs clang-16 and wasm-ld (Debian: apt-get install
# clang-16 lld-16); without them this script fails, it never skips.
#
# Environment: CC (default cc), CARGO (default cargo), CARGO_TARGET_DIR
# (default target), CLANG (default clang-16).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
wasm2o=$target_dir/release/wasm2o
runtime=$target_dir/release/libwasm2o_runtime.a

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run-demo: error: %s\n' "$*" >&2; exit 1; }

examples=("$@")
if [ "${#examples[@]}" -eq 0 ]; then examples=(demo memctl mapping); fi
for e in "${examples[@]}"; do
    case "$e" in
        demo | memctl | mapping) ;;
        *) die "unknown example '$e' (known: demo, memctl, mapping)" ;;
    esac
done

# Checked before any build so a missing compiler fails fast and clearly.
clang=${CLANG:-clang-16}
case " ${examples[*]} " in
    *" memctl "*)
        command -v "$clang" >/dev/null 2>&1 ||
            die "examples/memctl needs $clang to compile its C guest to Wasm; install it (Debian: apt-get install clang-16 lld-16) or set CLANG"
        # clang finds wasm-ld beside itself or on PATH; linking an empty
        # module is the one reliable way to ask.
        probe=$(mktemp)
        if ! printf 'int f(void) { return 0; }\n' |
            "$clang" --target=wasm32 -nostdlib -Wl,--no-entry -x c - -o "$probe" >/dev/null 2>&1; then
            rm -f "$probe"
            die "examples/memctl needs $clang to link Wasm, which needs wasm-ld (Debian: apt-get install lld-16)"
        fi
        rm -f "$probe"
        ;;
esac

# cargo does nothing when everything is up to date, so always asking it keeps
# the binaries fresh without rebuilding needlessly.
step "building wasm2o and libwasm2o_runtime.a (release)"
"${CARGO:-cargo}" build --release --quiet -p wasm2o -p wasm2o-runtime >&2

run_demo() {
    local out=build/demo
    mkdir -p "$out"
    step "compiling examples/demo/demo.wat -> $out/demo.o + $out/demo.h"
    "$wasm2o" compile examples/demo/demo.wat -o "$out/demo.o" --header "$out/demo.h" --prefix demo

    step "linking examples/demo/host.c -> $out/demo"
    "${CC:-cc}" -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
        examples/demo/host.c "$out/demo.o" "$runtime" -lpthread -ldl -lm -o "$out/demo"

    step "running $out/demo"
    "$out/demo"
}

run_memctl() {
    local out=build/memctl
    mkdir -p "$out"
    step "compiling examples/memctl/guest.c -> $out/guest.wasm ($clang)"
    CLANG="$clang" bash examples/memctl/build-guest.sh "$out"

    step "compiling $out/guest.wasm -> $out/memctl.o + $out/memctl.h"
    "$wasm2o" compile "$out/guest.wasm" -o "$out/memctl.o" --header "$out/memctl.h" --prefix memctl

    step "checking the layout ($out/guest.map) against the memory-control line"
    bash examples/memctl/check-layout.sh "$out/guest.map" "$wasm2o" "$out/memctl.o"

    step "linking examples/memctl/host.c -> $out/memctl"
    "${CC:-cc}" -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
        examples/memctl/host.c "$out/memctl.o" "$runtime" -lpthread -ldl -lm -o "$out/memctl"

    step "running $out/memctl"
    "$out/memctl"
}

run_mapping() {
    local out=build/mapping
    mkdir -p "$out"
    step "compiling examples/mapping/mapping.wat -> $out/mapping.o + $out/mapping.h"
    "$wasm2o" compile examples/mapping/mapping.wat -o "$out/mapping.o" --header "$out/mapping.h" --prefix mapping

    step "linking examples/mapping/host.c -> $out/mapping"
    "${CC:-cc}" -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
        examples/mapping/host.c "$out/mapping.o" "$runtime" -lpthread -ldl -lm -o "$out/mapping"

    step "running $out/mapping"
    "$out/mapping"
}

for e in "${examples[@]}"; do
    "run_$e"
done
