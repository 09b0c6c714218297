#!/usr/bin/env bash
# Runs the demo (examples/run-demo.sh) and compares what it prints with
# examples/demo/expected-output.txt; exits non-zero on any difference.
# BLESS=1 rewrites the expected output from this run instead (review the
# diff before committing it).
set -euo pipefail
cd "$(dirname "$0")/.."

expected=examples/demo/expected-output.txt
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT

examples/run-demo.sh >"$actual"

if [[ "${BLESS:-}" == 1 ]]; then
    cp "$actual" "$expected"
    echo "demo: blessed $expected" >&2
    exit 0
fi
if ! diff -u "$expected" "$actual"; then
    echo "demo: output differs from $expected (see the diff above)" >&2
    exit 1
fi
echo "demo: output matches $expected" >&2
