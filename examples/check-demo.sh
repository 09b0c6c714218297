#!/usr/bin/env bash
# Runs each example (examples/run-demo.sh demo, memctl, then mapping) and compares
# what it prints with its expected output:
#
#   demo    examples/demo/expected-output.txt
#   memctl  examples/memctl/expected-output.txt
#   mapping examples/mapping/expected-output.txt
#
# Exits non-zero on any difference, or if an example fails to build or run
# (the memctl example needs clang-16; it is never skipped). BLESS=1
# rewrites the expected outputs from this run instead (review the diff
# before committing them).
set -euo pipefail
cd "$(dirname "$0")/.."

actual=$(mktemp)
trap 'rm -f "$actual"' EXIT

failed=0
for example in demo memctl mapping; do
    expected=examples/$example/expected-output.txt
    if ! examples/run-demo.sh "$example" >"$actual"; then
        echo "$example: the example failed to build or run (see above)" >&2
        failed=1
        continue
    fi
    if [[ "${BLESS:-}" == 1 ]]; then
        cp "$actual" "$expected"
        echo "$example: blessed $expected" >&2
    elif diff -u "$expected" "$actual"; then
        echo "$example: output matches $expected" >&2
    else
        echo "$example: output differs from $expected (see the diff above)" >&2
        failed=1
    fi
done
exit "$failed"
