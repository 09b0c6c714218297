//! Differential test against a reference interpreter.
//!
//! `wasm-smith` generates modules from fixed seeds (no imports, every
//! function exported, NaNs canonicalised so results are deterministic);
//! `wasmi` runs each exported function with numeric parameters on a few
//! arguments, in order, on one instance; the results and traps become a
//! `.wast` script (`assert_return` / `assert_trap`, and the values of the
//! exported globals after each call), which `wasm2o wast` must pass (also
//! for aarch64 under qemu: `make test-cross` sets
//! `WASM2O_DIFFERENTIAL_TARGET`). A module's script stops at the first call
//! whose outcome is implementation-defined (stack exhaustion, a call that
//! runs out of fuel), since the state after it may differ.
//!
//! This exercises the translator and Cranelift settings on code shapes no
//! hand-written script has: nested blocks with values, branches out of
//! loops, returns from any depth, narrow stores of constants, calls through
//! tables, memory and table operations at their limits.
//!
//! A second test does the same with generated counted loops (random
//! counters, steps, comparisons and address sums near the ends of the i32
//! range), the shapes that the loop range analysis
//! (`compiler/src/ranges.rs`) bounds and the address rewrite
//! (`compiler/src/addresses.rs`) changes.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use arbitrary::Unstructured;
use wasmi::{Config as EngineConfig, Engine, Linker, Module, Store, TrapCode, Val};

/// Modules generated per run; each gets up to `CALLS_PER_FUNC` calls per
/// exported function.
const MODULES: u64 = 800;
const CALLS_PER_FUNC: usize = 4;
const FUEL_PER_CALL: u64 = 200_000;

/// A small deterministic generator (xorshift64*) for the seed bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        // What wasm2o implements (MVP, bulk memory, reference types,
        // multi-value, sign extension, saturating conversions).
        exceptions_enabled: false,
        gc_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        extended_const_enabled: false,
        max_memories: 1,
        max_tables: 2,
        max_imports: 0,
        allow_start_export: false,
        export_everything: true,
        canonicalize_nans: true,
        min_funcs: 4,
        max_funcs: 12,
        max_instructions: 200,
        max_memory32_bytes: 4 << 20,
        max_table_elements: 1000,
        max_data_segments: 8,
        max_element_segments: 8,
        ..wasm_smith::Config::default()
    }
}

fn engine() -> Engine {
    let mut c = EngineConfig::default();
    c.consume_fuel(true)
        .wasm_tail_call(false)
        .wasm_memory64(false)
        .wasm_wide_arithmetic(false)
        .wasm_extended_const(false)
        .wasm_custom_page_sizes(false);
    Engine::new(&c)
}

/// The spec's message for a trap, or `None` when the outcome depends on the
/// implementation (stack depth, fuel, host limits).
fn spec_message(code: TrapCode) -> Option<&'static str> {
    Some(match code {
        TrapCode::UnreachableCodeReached => "unreachable",
        TrapCode::MemoryOutOfBounds => "out of bounds memory access",
        TrapCode::TableOutOfBounds => "out of bounds table access",
        TrapCode::IndirectCallToNull => "uninitialized element",
        TrapCode::IntegerDivisionByZero => "integer divide by zero",
        TrapCode::IntegerOverflow => "integer overflow",
        TrapCode::BadConversionToInteger => "invalid conversion to integer",
        TrapCode::BadSignature => "indirect call type mismatch",
        _ => return None,
    })
}

/// A float of `width` bits as wast text: `nan:canonical`, another NaN with
/// its payload, an infinity, or the shortest decimal that reads back to the
/// same value (`decimal`).
fn float_text(bits: u64, width: u32, decimal: String) -> String {
    let mant_bits = if width == 32 { 23 } else { 52 };
    let exp_mask = ((1u64 << (width - 1 - mant_bits)) - 1) << mant_bits;
    let mant = bits & ((1 << mant_bits) - 1);
    let sign = if (bits >> (width - 1)) & 1 == 1 {
        "-"
    } else {
        ""
    };
    if bits & exp_mask != exp_mask {
        decimal
    } else if mant == 0 {
        format!("{sign}inf")
    } else if mant == 1 << (mant_bits - 1) {
        "nan:canonical".into()
    } else {
        format!("{sign}nan:0x{mant:x}")
    }
}

/// A value as a wast constant; `None` for reference values (not compared).
fn val_text(v: &Val) -> Option<String> {
    Some(match v {
        Val::I32(x) => format!("(i32.const {x})"),
        Val::I64(x) => format!("(i64.const {x})"),
        Val::F32(x) => {
            let bits = x.to_bits();
            let text = float_text(bits.into(), 32, format!("{:?}", f32::from_bits(bits)));
            format!("(f32.const {text})")
        }
        Val::F64(x) => {
            let bits = x.to_bits();
            let text = float_text(bits, 64, format!("{:?}", f64::from_bits(bits)));
            format!("(f64.const {text})")
        }
        _ => return None,
    })
}

fn arg(ty: &wasmi::ValType, rng: &mut Rng) -> Option<Val> {
    const INTS: [i64; 8] = [0, 1, -1, 7, 100, 65536, i32::MAX as i64, i64::MIN];
    const FLOATS: [f64; 5] = [0.0, 1.5, -2.25, 1e9, -0.0];
    let i = rng.next() as usize;
    Some(match ty {
        wasmi::ValType::I32 => Val::I32(INTS[i % INTS.len()] as i32),
        wasmi::ValType::I64 => Val::I64(INTS[i % INTS.len()]),
        wasmi::ValType::F32 => Val::F32((FLOATS[i % FLOATS.len()] as f32).into()),
        wasmi::ValType::F64 => Val::F64(FLOATS[i % FLOATS.len()].into()),
        _ => return None,
    })
}

fn wast_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3 + 2);
    s.push('"');
    for b in bytes {
        write!(s, "\\{b:02x}").unwrap();
    }
    s.push('"');
    s
}

/// The script for one module, or `None` if the reference interpreter
/// cannot instantiate it. Returns the number of assertions too.
fn script_for(wasm: &[u8], rng: &mut Rng) -> Option<(String, usize)> {
    let engine = engine();
    let module = Module::new(&engine, wasm).ok()?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(FUEL_PER_CALL).ok()?;
    let instance = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .ok()?;
    let mut out = format!("(module binary {})\n", wast_string(wasm));
    let mut asserts = 0;
    let funcs: Vec<(String, wasmi::Func)> = instance
        .exports(&store)
        .filter_map(|e| {
            let name = e.name().to_string();
            e.into_func().map(|f| (name, f))
        })
        .collect();
    let globals: Vec<(String, wasmi::Global)> = instance
        .exports(&store)
        .filter_map(|e| {
            let name = e.name().to_string();
            e.into_global().map(|g| (name, g))
        })
        .filter(|(name, _)| {
            !name
                .chars()
                .any(|c| c == '"' || c == '\\' || !c.is_ascii_graphic())
        })
        .collect();
    'calls: for _ in 0..CALLS_PER_FUNC {
        for (name, func) in &funcs {
            if name
                .chars()
                .any(|c| c == '"' || c == '\\' || !c.is_ascii_graphic())
            {
                continue;
            }
            let ty = func.ty(&store);
            let Some(args) = ty
                .params()
                .iter()
                .map(|t| arg(t, rng))
                .collect::<Option<Vec<Val>>>()
            else {
                continue;
            };
            let Some(mut results) = ty
                .results()
                .iter()
                .map(|t| match t {
                    wasmi::ValType::I32 => Some(Val::I32(0)),
                    wasmi::ValType::I64 => Some(Val::I64(0)),
                    wasmi::ValType::F32 => Some(Val::F32(0f32.into())),
                    wasmi::ValType::F64 => Some(Val::F64(0f64.into())),
                    _ => None,
                })
                .collect::<Option<Vec<Val>>>()
            else {
                continue;
            };
            store.set_fuel(FUEL_PER_CALL).ok()?;
            let invoke = format!(
                "(invoke \"{name}\" {})",
                args.iter()
                    .map(|a| val_text(a).expect("numeric"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            match func.call(&mut store, &args, &mut results) {
                Ok(()) => {
                    let expected: Vec<String> = results
                        .iter()
                        .map(|r| val_text(r).expect("numeric"))
                        .collect();
                    writeln!(out, "(assert_return {invoke} {})", expected.join(" ")).unwrap();
                }
                Err(e) => match e.as_trap_code().and_then(spec_message) {
                    Some(msg) => writeln!(out, "(assert_trap {invoke} \"{msg}\")").unwrap(),
                    // Stack depth, fuel: the state that follows may differ.
                    None => break 'calls,
                },
            }
            asserts += 1;
            // The call's effect on the exported globals.
            for (gname, global) in &globals {
                if let Some(v) = val_text(&global.get(&store)) {
                    writeln!(out, "(assert_return (get \"{gname}\") {v})").unwrap();
                    asserts += 1;
                }
            }
        }
    }
    Some((out, asserts))
}

#[test]
fn generated_modules_match_the_reference_interpreter() {
    let dir = std::env::temp_dir().join(format!("wasm2o-differential-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let base = smith_config();
    let (mut scripts, mut asserts) = (Vec::new(), 0);
    for seed in 0..MODULES {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (seed + 1).wrapping_mul(0xff51_afd7_ed55_8ccd));
        let data = rng.bytes(16 << 10);
        // Odd seeds: wasm-smith guards memory accesses, divisions and
        // conversions so that code runs to the end and computes; even
        // seeds: traps where they fall.
        let config = wasm_smith::Config {
            disallow_traps: seed % 2 == 1,
            ..base.clone()
        };
        let Ok(module) = wasm_smith::Module::new(config, &mut Unstructured::new(&data)) else {
            continue;
        };
        let wasm = module.to_bytes();
        if let Some((text, n)) = script_for(&wasm, &mut rng) {
            let path = dir.join(format!("seed-{seed}.wast"));
            std::fs::write(&path, text).unwrap();
            scripts.push(path);
            asserts += n;
        }
    }
    assert!(
        scripts.len() as u64 >= MODULES / 2 && asserts >= 500,
        "too few usable modules: {} scripts, {asserts} assertions",
        scripts.len()
    );
    run_scripts(&dir, &scripts, asserts);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

/// Runs the scripts through `wasm2o wast` (for the target of
/// `WASM2O_DIFFERENTIAL_TARGET` if set); every assertion must pass.
fn run_scripts(dir: &Path, scripts: &[std::path::PathBuf], asserts: usize) {
    // `make test-cross` runs this test again with the scripts compiled for
    // aarch64 and run under qemu.
    let target: Vec<String> = match std::env::var("WASM2O_DIFFERENTIAL_TARGET") {
        Ok(t) if !t.is_empty() => vec!["--target".into(), t],
        _ => Vec::new(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_wasm2o"))
        .arg("wast")
        .args(&target)
        .args(scripts)
        .output()
        .expect("run wasm2o wast");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(
        out.status.success(),
        "wasm2o disagrees with wasmi (scripts kept in {}):\n{}\n{}",
        dir.display(),
        failed.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{} generated modules, {asserts} assertions: {}",
        scripts.len(),
        stdout.lines().last().unwrap_or("")
    );
}

/// Modules of the loop test, each with `LOOPS_PER_MODULE` functions.
const LOOP_MODULES: u64 = 150;
const LOOPS_PER_MODULE: usize = 8;

/// One random counted loop reading bytes of memory (compiler/src/ranges.rs,
/// compiler/src/addresses.rs): a counter `q` from `q0` stepping by `kq`
/// (tested before or after the step, against a constant with a random
/// comparison, or against zero), an address variable `p` from `p0`
/// stepping by `kp`, read at `p + c` (and, in a nested loop, at
/// `row + p + c` with `row` the outer loop's), all in i32 arithmetic that
/// may or may not wrap. Values cluster near 0, 2^31 and 2^32 so that
/// the sums sometimes wrap, sometimes leave the memory and sometimes
/// stay inside it. An early exit after 1500 iterations keeps loops that
/// wrap round (which the analysis must not bound) short; it does not
/// change the back edge the analysis reads.
fn loop_function(name: &str, rng: &mut Rng) -> String {
    let near = |rng: &mut Rng| -> i64 {
        let base = [0i64, 0, 0, 1 << 16, 1 << 31, 1 << 32][(rng.next() % 6) as usize];
        let d = (rng.next() % 2048) as i64 - 1024;
        base + d
    };
    let step = |rng: &mut Rng| -> i64 {
        [1i64, -1, 2, -2, 3, 4, -4, 8, 16, 56, 64, 1 << 30][(rng.next() % 12) as usize]
    };
    let c32 = |v: i64| v as i32;
    let q0 = near(rng);
    let kq = step(rng);
    let trips = (rng.next() % 40) as i64;
    // Mostly limits the counter reaches; sometimes any value near it.
    let limit = if rng.one_in(4) {
        q0 + trips * kq + (rng.next() % 7) as i64 - 3
    } else {
        q0 + trips * kq
    };
    let cmps = [
        "i32.ne", "i32.lt_u", "i32.le_u", "i32.gt_u", "i32.ge_u", "i32.lt_s", "i32.le_s",
        "i32.gt_s", "i32.ge_s", "i32.eq",
    ];
    let cmp = cmps[(rng.next() % cmps.len() as u64) as usize];
    let zero_test = rng.one_in(6);
    let after = rng.one_in(2);
    let p0 = if rng.one_in(2) {
        near(rng)
    } else {
        (rng.next() % 4096) as i64
    };
    let kp = step(rng);
    let mut c = if rng.one_in(2) {
        near(rng)
    } else {
        -((rng.next() % 64) as i64)
    };
    let offset = [0u32, 0, 4, 100][(rng.next() % 4) as usize];
    let nested = rng.one_in(3);
    let row0 = near(rng);
    let krow = [0i64, 64, 256, -64][(rng.next() % 4) as usize];
    let rows = 1 + rng.next() % 4;
    if !nested && rng.one_in(2) {
        // Put the lowest address the loop reads (as true values, constants
        // signed) within a few bytes of 0: an analysis that counts one
        // iteration too few would then fold a sum that goes below 0.
        let n = iterations(q0 as u32, kq as u32, limit as u32, cmp, zero_test, after);
        let (p0s, kps) = (i64::from(p0 as i32), i64::from(kp as i32));
        let lowest = if kps > 0 { p0s } else { p0s + (n - 1) * kps };
        c = (rng.next() % 7) as i64 - 3 - lowest;
    }
    let test = |q: &str| {
        if zero_test {
            q.to_string()
        } else {
            format!("({cmp} {q} (i32.const {}))", c32(limit))
        }
    };
    let (step_q, cond) = if after {
        (
            String::new(),
            test(&format!(
                "(local.tee $q (i32.add (local.get $q) (i32.const {})))",
                c32(kq)
            )),
        )
    } else {
        (
            format!(
                "(local.set $t {}) (local.set $q (i32.add (local.get $q) (i32.const {})))",
                test("(local.get $q)"),
                c32(kq)
            ),
            "(local.get $t)".to_string(),
        )
    };
    let read = if nested {
        format!(
            "(i32.load8_u offset={offset} (i32.add (i32.add (local.get $row) (local.get $p)) (i32.const {})))",
            c32(c)
        )
    } else {
        format!(
            "(i32.load8_u offset={offset} (i32.add (local.get $p) (i32.const {})))",
            c32(c)
        )
    };
    let inner = format!(
        "(local.set $q (i32.const {q0})) (local.set $p (i32.const {p0})) (local.set $n (i32.const 0))
      (block $done (loop $l
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) {read}))
        {step_q}
        (local.set $p (i32.add (local.get $p) (i32.const {kp})))
        (br_if $done (i32.eq (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const 1500)))
        (br_if $l {cond})))",
        q0 = c32(q0),
        p0 = c32(p0),
        kp = c32(kp),
    );
    let body = if nested {
        format!(
            "(local.set $row (i32.const {row0})) (local.set $r (i32.const 0))
    (loop $outer
      {inner}
      (local.set $row (i32.add (local.get $row) (i32.const {krow})))
      (br_if $outer (i32.ne (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const {rows}))))",
            row0 = c32(row0),
            krow = c32(krow),
        )
    } else {
        inner
    };
    format!(
        "  (func (export \"{name}\") (result i32)
    (local $q i32) (local $p i32) (local $t i32) (local $acc i32) (local $row i32) (local $r i32) (local $n i32)
    {body}
    (local.get $acc))\n"
    )
}

/// How many times the body of a `loop_function` loop runs (its early exit
/// included), from the same i32 arithmetic.
fn iterations(q0: u32, kq: u32, limit: u32, cmp: &str, zero_test: bool, after: bool) -> i64 {
    let test = |q: u32| {
        let (a, b) = (q, limit);
        if zero_test {
            return q != 0;
        }
        match cmp {
            "i32.ne" => a != b,
            "i32.eq" => a == b,
            "i32.lt_u" => a < b,
            "i32.le_u" => a <= b,
            "i32.gt_u" => a > b,
            "i32.ge_u" => a >= b,
            "i32.lt_s" => (a as i32) < (b as i32),
            "i32.le_s" => (a as i32) <= (b as i32),
            "i32.gt_s" => (a as i32) > (b as i32),
            "i32.ge_s" => (a as i32) >= (b as i32),
            _ => unreachable!("{cmp}"),
        }
    };
    let mut q = q0;
    for n in 1..1500 {
        let before = test(q);
        q = q.wrapping_add(kq);
        if !(if after { test(q) } else { before }) {
            return n;
        }
    }
    1500
}

#[test]
fn counted_loops_match_the_reference_interpreter() {
    let dir = std::env::temp_dir().join(format!("wasm2o-loops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut scripts, mut asserts) = (Vec::new(), 0);
    for seed in 0..LOOP_MODULES {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (seed + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Bytes at both ends of the memory, zeros between.
        let data: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
        let mut text = format!(
            "(module (memory 1)\n  (data (i32.const 0) {})\n  (data (i32.const {}) {})\n",
            wast_string(&data),
            65536 - 4096,
            wast_string(&data)
        );
        for f in 0..LOOPS_PER_MODULE {
            text += &loop_function(&format!("f{f}"), &mut rng);
        }
        text += ")\n";
        let wasm = wat::parse_str(&text).expect("generated loops are valid");
        if let Some((script, n)) = script_for(&wasm, &mut rng) {
            let path = dir.join(format!("loops-{seed}.wast"));
            std::fs::write(&path, script).unwrap();
            scripts.push(path);
            asserts += n;
        }
    }
    assert!(asserts >= 2_000, "too few assertions: {asserts}");
    run_scripts(&dir, &scripts, asserts);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
