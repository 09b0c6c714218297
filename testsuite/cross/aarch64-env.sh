# Sourced by the aarch64 Linux cross scripts (demo.sh, threads.sh), from the
# repository root: the target, the tools and the runtime they use.
#
# Environment: CARGO_TARGET_DIR (default target), WASM2O (default
# $CARGO_TARGET_DIR/release/wasm2o), WASM2O_CROSS_CC
# (default aarch64-linux-gnu-gcc), WASM2O_CROSS_RUNNER (default
# qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:
# the cross toolchain's C library, see cli/src/wast/cross.rs for why).
#
# Sets: triple, target_dir, wasm2o, runtime (the aarch64
# libwasm2o_runtime.a, which must exist), cc, runner (an array).
triple=aarch64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-target}
wasm2o=${WASM2O:-$target_dir/release/wasm2o}
runtime=$target_dir/$triple/release/libwasm2o_runtime.a
cc=${WASM2O_CROSS_CC:-aarch64-linux-gnu-gcc}
read -r -a runner <<<"${WASM2O_CROSS_RUNNER:-qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib}"
[ -f "$runtime" ] || { echo "$0: $runtime is missing (make test-cross builds it)" >&2; exit 1; }
