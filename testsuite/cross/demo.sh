#!/usr/bin/env bash
# The bundled C embedding examples for aarch64 Linux, cross-built on this
# machine and run under qemu: each example's module compiled with
# `--target aarch64-unknown-linux-gnu`, its examples/NAME/host.c and the
# aarch64 runtime (libwasm2o_runtime.a from `cargo +debian build --target
# ...`) linked with aarch64-linux-gnu-gcc, and the program's output
# compared with examples/NAME/expected-output.txt (the same files the
# native examples are checked against, examples/check-demo.sh):
#
#   demo     examples/demo/demo.wat
#   memctl   examples/memctl/guest.c, compiled to Wasm with clang-16
#            (examples/memctl/build-guest.sh; its layout is checked by the
#            native run)
#   mapping  examples/mapping/mapping.wat
#
# Usage: testsuite/cross/demo.sh [demo|memctl|mapping]...  (default: all
# three). Every example runs even if an earlier one failed; the exit code
# says whether all matched.
#
# Environment: as testsuite/cross/aarch64-env.sh (CARGO_TARGET_DIR, WASM2O,
# WASM2O_CROSS_CC, WASM2O_CROSS_RUNNER), and CLANG (default clang-16).
set -euo pipefail
cd "$(dirname "$0")/../.."

. testsuite/cross/aarch64-env.sh

# cross_example NAME MODULE: compiles MODULE (.wat or .wasm) for $triple
# with prefix NAME, links examples/NAME/host.c, runs the program under
# qemu and compares its output with examples/NAME/expected-output.txt.
cross_example() {
    local name=$1 module=$2
    local out=build/cross/$triple/$name
    local expected=examples/$name/expected-output.txt
    # `|| return`: set -e does not apply inside a function called as an
    # `if` condition.
    mkdir -p "$out" || return
    "$wasm2o" compile --target "$triple" "$module" -o "$out/$name.o" --header "$out/$name.h" --prefix "$name" || return
    $cc -O2 -Wall -Wextra -Iruntime-support/include -I"$out" \
        "examples/$name/host.c" "$out/$name.o" "$runtime" -lpthread -ldl -lm -o "$out/$name" || return
    "${runner[@]}" "$out/$name" >"$out/output.txt" || { echo "cross demo $name: the program failed (exit $?)" >&2; return 1; }
    if diff -u "$expected" "$out/output.txt"; then
        echo "cross demo $name ($triple, under ${runner[0]}): output matches $expected"
    else
        echo "cross demo $name ($triple): output differs from $expected (see the diff above)" >&2
        return 1
    fi
}

examples=("$@")
if [ "${#examples[@]}" -eq 0 ]; then examples=(demo memctl mapping); fi
failed=()
for name in "${examples[@]}"; do
    case $name in
        demo) module=examples/demo/demo.wat ;;
        mapping) module=examples/mapping/mapping.wat ;;
        memctl)
            module=build/cross/$triple/memctl/guest.wasm
            if ! bash examples/memctl/build-guest.sh "$(dirname "$module")"; then
                echo "cross demo memctl: cannot build the guest (needs clang-16 and lld-16)" >&2
                failed+=("$name")
                continue
            fi
            ;;
        *) echo "cross demo: unknown example '$name' (known: demo, memctl, mapping)" >&2; exit 2 ;;
    esac
    if ! cross_example "$name" "$module"; then
        echo "cross demo $name: FAILED" >&2
        failed+=("$name")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "cross demo: failed: ${failed[*]}" >&2
    exit 1
fi
echo "cross demo: ${examples[*]} match their expected output ($triple)"
