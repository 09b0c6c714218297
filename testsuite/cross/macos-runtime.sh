#!/usr/bin/env bash
# The runtime for macOS, built here without a Mac (docs/cross.md, "The
# runtime on macOS"). For x86_64-apple-darwin and aarch64-apple-darwin:
#
#   1. build libwasm2o_runtime.a with Debian's Rust 1.96 (`cargo +debian`)
#      and -Zbuild-std: Debian has no standard library for Apple targets,
#      but its rust-web-src package has the library's source, so cargo
#      compiles std for the target itself (RUSTC_BOOTSTRAP=1 unlocks the
#      unstable flag on a stable compiler). This type-checks the macOS
#      code paths (cfg(target_os = "macos")), generates code for them and
#      assembles the Mach-O spelling of the entry trampolines;
#   2. link examples/demo/demo.wat (compiled for the triple) with a small
#      C host and the real archive with ld64.lld-16, once with undefined
#      symbols as errors and every C API function of wasm2o.h forced in
#      (`-u`): the only symbols left undefined must be the system's
#      (libSystem: there is no macOS SDK here), never a `wasm2o_` or `demo_`
#      one. So the builtins the compiler's objects call and the C API the
#      header declares are all defined, with Mach-O names, by the archive;
#   3. link it again with the system's symbols left to dynamic lookup, into
#      a Mach-O executable.
#
# Nothing here runs the result: this machine cannot run macOS code.
#
# Environment: CARGO_TARGET_DIR (default target), WASM2O (default
# $CARGO_TARGET_DIR/release/wasm2o), APPLE_CARGO and APPLE_RUSTC (default
# `cargo +debian`, `rustc +debian`: Debian's toolchain, see .ci/run),
# CLANG (default clang-16), LD64 (default ld64.lld-16).
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir=${CARGO_TARGET_DIR:-target}
wasm2o=${WASM2O:-$target_dir/release/wasm2o}
read -r -a cargo <<<"${APPLE_CARGO:-cargo +debian}"
read -r -a rustc <<<"${APPLE_RUSTC:-rustc +debian}"
clang=${CLANG:-clang-16}
ld64=${LD64:-ld64.lld-16}
for tool in "$clang" "$ld64"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "macos-runtime: $tool not found (Debian: apt-get install clang-16 lld-16)" >&2; exit 1; }
done
# -Zbuild-std compiles the standard library from the toolchain's source.
sysroot=$("${rustc[@]}" --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "macos-runtime: no standard library source in $sysroot/lib/rustlib/src (Debian: apt-get install rust-web-src)" >&2
    exit 1
fi

# The C API: every function wasm2o.h declares.
api=$(grep -o 'wasm2o_[a-z0-9_]*(' runtime-support/include/wasm2o.h | tr -d '(' | sort -u)
[ -n "$api" ] || { echo "macos-runtime: no functions found in runtime-support/include/wasm2o.h" >&2; exit 1; }
force=()
for f in $api; do force+=(-u "_$f"); done

for triple in x86_64-apple-darwin aarch64-apple-darwin; do
    case $triple in
        x86_64-*) arch=x86_64 clang_target=x86_64-apple-macos10.12 version=10.12 ;;
        aarch64-*) arch=arm64 clang_target=arm64-apple-macos11 version=11.0 ;;
    esac
    out=build/cross/macos-runtime/$triple
    mkdir -p "$out"
    RUSTC_BOOTSTRAP=1 "${cargo[@]}" build --release -Zbuild-std=std,panic_abort \
        --target "$triple" -p wasm2o-runtime
    runtime=$target_dir/$triple/release/libwasm2o_runtime.a
    [ -f "$runtime" ] || { echo "macos-runtime: $runtime was not built" >&2; exit 1; }

    "$wasm2o" compile --target "$triple" examples/demo/demo.wat -o "$out/demo.o" --header "$out/demo.h" --prefix demo
    "$clang" -target "$clang_target" -O2 -Wall -Werror -ffreestanding -c testsuite/cross/macho-host.c -o "$out/host.o"
    link=("$ld64" -arch "$arch" -platform_version macos "$version" "$version" -e _main
          "$out/host.o" "$out/demo.o" "$runtime")
    # Undefined symbols are errors here: list them all (this link fails).
    "${link[@]}" --error-limit=0 "${force[@]}" -o "$out/demo-strict" >"$out/undefined.log" 2>&1 || true
    sed -n 's/.*undefined symbol: //p' "$out/undefined.log" | sort -u >"$out/undefined.txt"
    if grep -E '^_(wasm2o|demo)_' "$out/undefined.txt"; then
        echo "macos-runtime: $triple: the symbols above are not defined by $runtime" >&2
        exit 1
    fi
    if ! grep -qx '_mmap' "$out/undefined.txt"; then
        echo "macos-runtime: $triple: the strict link did not report the system's symbols as expected (see $out/undefined.log)" >&2
        exit 1
    fi
    "${link[@]}" -undefined dynamic_lookup -o "$out/demo"
    magic=$(od -An -tx1 -N4 "$out/demo" | tr -d ' \n')
    [ "$magic" = cffaedfe ] || { echo "macos-runtime: $out/demo is not a 64-bit Mach-O file ($magic)" >&2; exit 1; }
    echo "macos-runtime: $triple: runtime built ($runtime); builtins and $(wc -w <<<"$api") C API functions defined; linked $out/demo (not run)"
done
