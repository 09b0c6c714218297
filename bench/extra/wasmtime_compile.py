"""Compile-throughput probe for Wasmtime: compiles a module with the Python
bindings (Module(engine, bytes), then serialize, i.e. what a precompile
step does) and prints "WALL_SECONDS CPU_SECONDS" for that work only; CPU
time is the whole process's (all compiler threads).

usage: wasmtime_compile.py MODULE.wasm
"""
import resource
import sys
import time

import wasmtime


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    data = open(sys.argv[1], "rb").read()
    engine = wasmtime.Engine()
    c0, t0 = cpu(), time.perf_counter()
    module = wasmtime.Module(engine, data)
    module.serialize()
    t1, c1 = time.perf_counter(), cpu()
    # Peak RSS of this whole process (the Python interpreter included), MB.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{t1 - t0:.6f} {c1 - c0:.6f} {rss:.1f}")


if __name__ == "__main__":
    main()
