"""Instantiation probe for Wasmtime (reference for instantiate.c): loads a
precompiled module and prints the median microseconds of
Instance(store, module, []) with a fresh Store each time (Python binding
overhead included, a few microseconds).

usage: wasmtime_instantiate.py MODULE.cwasm ITERATIONS
"""
import statistics
import sys
import time

import wasmtime


def main() -> None:
    engine = wasmtime.Engine()
    module = wasmtime.Module.deserialize_file(engine, sys.argv[1])
    times = []
    for _ in range(int(sys.argv[2])):
        store = wasmtime.Store(engine)
        t0 = time.perf_counter()
        wasmtime.Instance(store, module, [])
        times.append((time.perf_counter() - t0) * 1e6)
        del store
    print(f"{statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
