#!/usr/bin/env bash
# The pthread tests of testsuite/threads (run natively by cli/tests/threads.rs)
# for aarch64 Linux, cross-built on this machine and run under qemu:
#   host.c   4 instances on one shared memory, atomics, wait/notify and
#            concurrent discards;
#   churn.c  4 instances on one shared virtual memory while another thread
#            maps, protects, unmaps, discards and maps host buffers.
# Each host prints "NAME: ok" on its first line when every check held.
#
# Environment: as testsuite/cross/aarch64-env.sh (CARGO_TARGET_DIR, WASM2O,
# WASM2O_CROSS_CC, WASM2O_CROSS_RUNNER).
set -euo pipefail
cd "$(dirname "$0")/../.."

. testsuite/cross/aarch64-env.sh

out=build/cross/$triple/threads
mkdir -p "$out"

# cross_threads NAME C_FILE MODULE...: compile the modules, link the host,
# run it under qemu (at most 5 minutes) and check its first line.
cross_threads() {
    local name=$1 c_file=$2; shift 2
    local objs=() m
    for m in "$@"; do
        "$wasm2o" compile --target "$triple" "testsuite/threads/$m.wat" \
            -o "$out/$m.o" --header "$out/$m.h" --prefix "$m"
        objs+=("$out/$m.o")
    done
    $cc -O2 -Wall -Werror -pthread -Iruntime-support/include -I"$out" \
        "testsuite/threads/$c_file" "${objs[@]}" "$runtime" -lpthread -ldl -lm -o "$out/$name"
    local first
    if ! timeout 300 "${runner[@]}" "$out/$name" >"$out/$name.txt" 2>"$out/$name.err"; then
        echo "cross threads ($triple): $name failed or timed out:" >&2
        cat "$out/$name.txt" "$out/$name.err" >&2
        return 1
    fi
    first=$(head -n 1 "$out/$name.txt")
    if [ "$first" != "$name: ok" ]; then
        echo "cross threads ($triple): $name printed '$first', not '$name: ok'" >&2
        return 1
    fi
    echo "cross threads ($triple, under ${runner[0]}): $name ok: $(tail -n +2 "$out/$name.txt" | head -n 1; cat "$out/$name.err")"
}

rc=0
cross_threads threads host.c owner worker || rc=1
cross_threads churn churn.c churn_owner churn_worker || rc=1
exit $rc
