#!/usr/bin/env bash
# Checks that a guest's memory layout matches its memory-control attributes:
# .rodata lies inside the read-only pages and reaches into the last of them
# (so read-only=R is exactly the pages that hold only .rodata), and every
# other segment (.data, .bss, ...) starts in the read-write part.
#
# Usage: check-layout.sh GUEST.map WASM2O OBJECT.o
#   GUEST.map  wasm-ld's map of the guest (-Wl,--Map=GUEST.map)
#   WASM2O     the wasm2o binary, whose `inspect` reports the attributes
#   OBJECT.o   the guest compiled by wasm2o
set -euo pipefail

map=$1 wasm2o=$2 obj=$3

# "  0: 4.. pages, memory-control: no-access=1 read-only=1"
attrs=$("$wasm2o" inspect "$obj" | sed -n 's/^  0: .*memory-control: //p')
no_access=$(sed -n 's/.*no-access=\([0-9]*\).*/\1/p' <<<"$attrs")
read_only=$(sed -n 's/.*read-only=\([0-9]*\).*/\1/p' <<<"$attrs")
: "${no_access:=0}" "${read_only:=0}"

# Output data segments are the map's lines "ADDR OFF SIZE .NAME" (hex).
awk -v a="$no_access" -v r="$read_only" -v map="$map" '
    function hex(s,   i, n) {
        n = 0; s = tolower(s)
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n
    }
    NF == 4 && $1 ~ /^[0-9a-f]+$/ && $4 ~ /^\./ {
        start = hex($1); end = start + hex($3); seen++
        if ($4 == ".rodata") { rodata = 1; ro_start = start; ro_end = end }
        else if (start < rw) { printf "%s: %s starts at 0x%x, below the read-write base 0x%x\n", map, $4, start, rw; bad = 1 }
    }
    BEGIN { page = 65536; ro = a * page; rw = (a + r) * page }
    END {
        if (!seen) { printf "%s: no data segments found in the map\n", map; exit 1 }
        if (rodata && ro_end > ro_start) {
            if (ro_start < ro || ro_end > rw)
                { printf "%s: .rodata 0x%x-0x%x is not inside the read-only pages 0x%x-0x%x\n", map, ro_start, ro_end, ro, rw; bad = 1 }
            else if (ro_end <= rw - page)
                { printf "%s: .rodata ends at 0x%x, the last read-only page (from 0x%x) holds none of it\n", map, ro_end, rw - page; bad = 1 }
        } else if (r > 0) { printf "%s: read-only=%d but there is no .rodata\n", map, r; bad = 1 }
        if (bad) { printf "the memory-control line says no-access=%d read-only=%d; fix the layout or the line\n", a, r; exit 1 }
        printf "layout ok: no-access 0x0-0x%x, .rodata 0x%x-0x%x in read-only 0x%x-0x%x, the rest from 0x%x\n", ro, ro_start, ro_end, ro, rw, rw > "/dev/stderr"
    }' "$map"
