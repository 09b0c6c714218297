"""Wasmtime contender: loads a module precompiled by run.py
(Engine.precompile_module), instantiates it and times only the call of its
export `run`. Prints "CHECKSUM WALL_SECONDS CPU_SECONDS" (CPU: the whole
process, which only runs the call meanwhile).

usage: wasmtime_run.py KERNEL.cwasm
"""
import sys
import time

import wasmtime


def main() -> int:
    engine = wasmtime.Engine()
    module = wasmtime.Module.deserialize_file(engine, sys.argv[1])
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, module, [])
    run = instance.exports(store)["run"]
    c0, t0 = time.process_time(), time.perf_counter()
    result = run(store)
    t1, c1 = time.perf_counter(), time.process_time()
    print(f"{result & 0xFFFFFFFFFFFFFFFF} {t1 - t0:.9f} {c1 - c0:.9f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
