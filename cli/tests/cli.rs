//! End-to-end tests of the `wasm2o` command line: errors are one line with
//! exit code 1 (never a panic), output is deterministic, and the
//! subcommands work on small modules.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_wasm2o");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn wasm2o(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    let out = Command::new(EXE)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run wasm2o");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write input");
    p
}

/// Exit code 1, nothing on stdout, exactly one stderr line `wasm2o: error: ...`.
fn assert_user_error(r: &Run, mentions: &str) {
    assert_eq!(r.code, Some(1), "exit code; stderr: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line of error, got: {:?}", r.stderr);
    assert!(
        lines[0].starts_with("wasm2o: error: "),
        "error prefix: {:?}",
        lines[0]
    );
    assert!(!r.stderr.contains("panicked"), "no panic: {:?}", r.stderr);
    assert!(
        lines[0].contains(mentions),
        "{:?} should mention {mentions:?}",
        lines[0]
    );
}

const ADD_WAT: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "pair") (result i64 f64) i64.const -7 f64.const 2.5)
  (memory (export "mem") 1 2)
  (global (export "g") i32 (i32.const 42)))"#;

#[test]
fn truncated_module_is_a_one_line_error() {
    let dir = scratch("truncated");
    // A type section that claims 5 bytes and ends after 1.
    let input = write(&dir, "t.wasm", b"\0asm\x01\0\0\0\x01\x05\x01");
    let r = wasm2o(&[&"compile", &input, &"-o", &dir.join("t.o")]);
    assert_user_error(&r, "t.wasm");
    assert!(!dir.join("t.o").exists());
}

#[test]
fn every_truncation_of_a_module_fails_cleanly() {
    let dir = scratch("truncations");
    let wasm = wat::parse_str(ADD_WAT).expect("valid wat");
    // A spread of prefixes (all would be slow in debug builds).
    for n in (0..wasm.len()).step_by(7) {
        let input = write(&dir, "t.wasm", &wasm[..n]);
        let r = wasm2o(&[&"compile", &input, &"-o", &dir.join("t.o")]);
        assert_user_error(&r, "t.wasm");
    }
}

#[test]
fn bad_opcode_is_a_one_line_error() {
    let dir = scratch("bad-opcode");
    // One function `[] -> []` whose body is the unassigned opcode 0xff.
    let wasm: &[u8] = b"\0asm\x01\0\0\0\
        \x01\x04\x01\x60\x00\x00\
        \x03\x02\x01\x00\
        \x0a\x05\x01\x03\x00\xff\x0b";
    let input = write(&dir, "bad.wasm", wasm);
    let r = wasm2o(&[&"compile", &input, &"-o", &dir.join("bad.o")]);
    assert_user_error(&r, "bad.wasm");
}

#[test]
fn not_a_module_is_a_one_line_error() {
    let dir = scratch("garbage");
    let input = write(&dir, "g.wasm", [0xffu8, 0xfe, 0x00, 0x12]);
    assert_user_error(
        &wasm2o(&[&"compile", &input, &"-o", &dir.join("g.o")]),
        "g.wasm",
    );
    let text = write(&dir, "g.wat", "(module (func (result i32) i32.const))");
    assert_user_error(
        &wasm2o(&[&"compile", &text, &"-o", &dir.join("g.o")]),
        "g.wat",
    );
    assert_user_error(
        &wasm2o(&[
            &"compile",
            &dir.join("missing.wat"),
            &"-o",
            &dir.join("g.o"),
        ]),
        "missing.wat",
    );
    assert_user_error(&wasm2o(&[&"inspect", &input]), "g.wasm");
}

#[test]
fn wrong_memory_control_import_type_is_a_one_line_error() {
    let dir = scratch("wrong-import");
    let input = write(
        &dir,
        "w.wat",
        r#"(module (import "memory-control" "discard" (func (param i32))) (memory 1))"#,
    );
    let r = wasm2o(&[&"compile", &input, &"-o", &dir.join("w.o")]);
    assert_user_error(&r, "discard");
}

#[test]
fn run_refuses_imports_and_lists_them() {
    let dir = scratch("run-imports");
    let input = write(
        &dir,
        "imp.wat",
        r#"(module (import "env" "f" (func (param i32))) (import "env" "m" (memory 1))
                   (func (export "_start")))"#,
    );
    let r = wasm2o(&[&"run", &input]);
    assert_user_error(&r, "env.f");
    assert!(r.stderr.contains("env.m"), "{}", r.stderr);
}

#[test]
fn bad_prefix_and_flags_are_errors() {
    let dir = scratch("flags");
    let input = write(&dir, "add.wat", ADD_WAT);
    assert_user_error(
        &wasm2o(&[
            &"compile",
            &input,
            &"-o",
            &dir.join("a.o"),
            &"--prefix",
            &"1bad",
        ]),
        "prefix",
    );
    let r = wasm2o(&[&"compile", &input, &"-o", &dir.join("a.o"), &"-O7"]);
    assert_eq!(r.code, Some(1));
    assert!(!r.stderr.contains("panicked"));
}

/// A module with `n` functions, each calling the previous one.
fn many_functions(n: usize) -> String {
    let mut s = String::from("(module\n  (func $f0 (param i32) (result i32) local.get 0)\n");
    for i in 1..n {
        s.push_str(&format!(
            "  (func $f{i} (param i32) (result i32) local.get 0 i32.const {} i32.add call $f{})\n",
            i * 7 % 13,
            i - 1
        ));
    }
    s.push_str(&format!(
        "  (export \"last\" (func $f{}))\n  (export \"first\" (func $f0)))\n",
        n - 1
    ));
    s
}

#[test]
fn output_does_not_depend_on_jobs() {
    let dir = scratch("determinism");
    let input = write(&dir, "big.wat", many_functions(10_000));
    let (o1, o2) = (dir.join("j1.o"), dir.join("j2.o"));
    for (jobs, out) in [("1", &o1), ("2", &o2)] {
        let r = wasm2o(&[&"compile", &input, &"-o", out, &"--jobs", &jobs]);
        assert_eq!(r.code, Some(0), "compile --jobs {jobs}: {}", r.stderr);
    }
    let (a, b) = (
        std::fs::read(&o1).expect("j1.o"),
        std::fs::read(&o2).expect("j2.o"),
    );
    assert!(
        a == b,
        "objects differ between --jobs 1 and --jobs 2 ({} vs {} bytes)",
        a.len(),
        b.len()
    );
}

/// A module of `n` functions where those in `bad` store to an immutable
/// memory (a compile error found while translating that function).
fn functions_with_errors(n: usize, bad: &[usize]) -> String {
    let mut s = String::from(
        "(module\n  (memory 1)\n  (@custom \"memory-control\" \"memory 0 immutable\")\n",
    );
    for i in 0..n {
        if bad.contains(&i) {
            s.push_str(&format!(
                "  (func $f{i} (i32.store (i32.const 0) (i32.const {i})))\n"
            ));
        } else {
            s.push_str(&format!(
                "  (func $f{i} (result i32) (i32.load (i32.const {i})))\n"
            ));
        }
    }
    s.push_str(")\n");
    s
}

#[test]
fn the_first_failing_function_is_reported_whatever_the_jobs() {
    let dir = scratch("first-error");
    let input = write(
        &dir,
        "bad.wat",
        functions_with_errors(3_000, &[1_234, 2_900, 2_999]),
    );
    for jobs in ["1", "2", "4"] {
        let r = wasm2o(&[
            &"compile",
            &input,
            &"-o",
            &dir.join("bad.o"),
            &"--jobs",
            &jobs,
        ]);
        assert_eq!(r.code, Some(1), "--jobs {jobs}: {}", r.stderr);
        assert!(
            r.stderr.contains("function 1234") && r.stderr.contains("immutable"),
            "--jobs {jobs} should report function 1234 first: {}",
            r.stderr
        );
    }
}

#[test]
fn compile_writes_object_and_header_and_inspect_reads_it() {
    let dir = scratch("compile-inspect");
    let input = write(&dir, "my-add.wat", ADD_WAT);
    let (obj, hdr) = (dir.join("add.o"), dir.join("add.h"));
    let r = wasm2o(&[&"compile", &input, &"-o", &obj, &"--header", &hdr]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let header = std::fs::read_to_string(&hdr).expect("header written");
    assert!(
        header.contains("my_add_module"),
        "default prefix is the sanitised stem"
    );

    let r = wasm2o(&[&"inspect", &obj]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for needle in [
        "prefix: my_add",
        "\"add\": func",
        "memories: 1",
        "1..2 pages",
        "trap sites:",
    ] {
        assert!(
            r.stdout.contains(needle),
            "inspect output lacks {needle:?}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn inspect_shows_memory_control_attributes() {
    let dir = scratch("inspect-memctl");
    let input = write(&dir, "m.wat", "(module (memory 1 4))");
    let obj = dir.join("m.o");
    let r = wasm2o(&[
        &"compile",
        &input,
        &"-o",
        &obj,
        &"--memory-control",
        &"memory 0 no-access=1 read-only=2",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = wasm2o(&[&"inspect", &obj]);
    assert!(r.stdout.contains("no-access=1 read-only=2"), "{}", r.stdout);
}

#[test]
fn run_calls_an_export_and_prints_typed_results() {
    let dir = scratch("run");
    let input = write(&dir, "add.wat", ADD_WAT);
    let r = wasm2o(&[&"run", &input, &"--invoke", &"add", &"2", &"-5"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "-3 : i32\n");
    let r = wasm2o(&[&"run", &input, &"--invoke", &"pair"]);
    assert_eq!(r.stdout, "-7 : i64\n2.5 : f64\n", "{}", r.stderr);
}

#[test]
fn run_reports_traps_and_bad_arguments() {
    let dir = scratch("run-trap");
    let input = write(&dir, "add.wat", ADD_WAT);
    assert_user_error(
        &wasm2o(&[&"run", &input, &"--invoke", &"div", &"1", &"0"]),
        "integer divide by zero",
    );
    assert_user_error(
        &wasm2o(&[&"run", &input, &"--invoke", &"add", &"1"]),
        "expected 2 argument",
    );
    assert_user_error(
        &wasm2o(&[&"run", &input, &"--invoke", &"add", &"1", &"x"]),
        "\"x\"",
    );
    assert_user_error(&wasm2o(&[&"run", &input]), "_start");
    assert_user_error(&wasm2o(&[&"run", &input, &"--invoke", &"nope"]), "nope");
}

const GOOD_WAST: &str = r#"
(module $m
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "nan") (result f32) f32.const nan)
  (func (export "trap") unreachable)
  (global (export "g") i64 (i64.const 7)))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (get "g") (i64.const 7))
(assert_trap (invoke "trap") "unreachable")
(register "m" $m)
(module (import "m" "add" (func $add (param i32 i32) (result i32)))
  (import "spectest" "print_i32" (func $p (param i32)))
  (func (export "twice") (param i32) (result i32) local.get 0 local.get 0 call $add))
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(assert_unlinkable (module (import "m" "add" (func (param i64)))) "incompatible import type")
"#;

#[test]
fn wast_runs_a_script() {
    let dir = scratch("wast-pass");
    let script = write(&dir, "good.wast", GOOD_WAST);
    let r = wasm2o(&[&"wast", &script]);
    assert_eq!(
        r.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.starts_with("PASS "), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().last(),
        Some("11 passed, 0 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn wast_reports_failures_per_file_and_exits_non_zero() {
    let dir = scratch("wast-fail");
    let good = write(&dir, "good.wast", GOOD_WAST);
    let bad = write(
        &dir,
        "bad.wast",
        "(module (func (export \"one\") (result i32) i32.const 1))\n\
         (assert_return (invoke \"one\") (i32.const 2))\n\
         (assert_trap (invoke \"one\") \"unreachable\")\n",
    );
    let unparsable = write(&dir, "broken.wast", "(module");
    // Several files: each runs in a child process.
    let r = wasm2o(&[&"wast", &"--jobs", &"2", &good, &bad, &unparsable]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("PASS ") && l.contains("good.wast")),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FAIL ") && l.contains("bad.wast: 1 passed, 2 failed")),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("bad.wast:2:") && l.contains("expected [2 : i32], got [1 : i32]")),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FAIL ") && l.contains("broken.wast")),
        "{}",
        r.stdout
    );
    assert_eq!(lines.last(), Some(&"12 passed, 3 failed"), "{}", r.stdout);
}

#[test]
fn help_documents_run_behaviour() {
    let r = wasm2o(&[&"run", &"--help"]);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("_start") && r.stdout.contains(": i32"),
        "{}",
        r.stdout
    );
}

/// `i64.clz` as x86-64 LZCNT: `F3 REX.W 0F BD`.
fn has_lzcnt(object: &[u8]) -> bool {
    object
        .windows(4)
        .any(|w| w[0] == 0xf3 && (0x48..=0x4f).contains(&w[1]) && w[2] == 0x0f && w[3] == 0xbd)
}

#[test]
fn cpu_levels_choose_instructions_and_the_runtime_checks_them() {
    let dir = scratch("cpu-levels");
    let wat = write(
        &dir,
        "bits.wat",
        r#"(module (func (export "clz") (param i64) (result i64) (i64.clz (local.get 0))))"#,
    );
    let base = dir.join("base.o");
    let v3 = dir.join("v3.o");
    assert_eq!(wasm2o(&[&"compile", &wat, &"-o", &base]).code, Some(0));
    let r = wasm2o(&[&"compile", &wat, &"-o", &v3, &"--cpu", &"x86-64-v3"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // `inspect` names the features the object needs.
    let r = wasm2o(&[&"inspect", &v3]);
    assert!(r.stdout.contains("cpu features: sse3, "), "{}", r.stdout);
    assert!(
        r.stdout.contains("avx2") && r.stdout.contains("lzcnt"),
        "{}",
        r.stdout
    );
    let r = wasm2o(&[&"inspect", &base]);
    assert!(!r.stdout.contains("avx2"), "{}", r.stdout);
    let (base, v3) = (std::fs::read(base).unwrap(), std::fs::read(v3).unwrap());
    if cfg!(target_arch = "x86_64") {
        assert!(!has_lzcnt(&base), "the baseline has no LZCNT");
        assert!(has_lzcnt(&v3), "x86-64-v3 has LZCNT");
    }

    // A script at the level: it runs where the CPU has the features, and
    // every module is refused, naming them, where it does not.
    let script = write(
        &dir,
        "bits.wast",
        r#"(module
             (func (export "clz") (param i64) (result i64) (i64.clz (local.get 0)))
             (func (export "ctz") (param i64) (result i64) (i64.ctz (local.get 0)))
             (func (export "andn") (param i32 i32) (result i32)
               (i32.and (i32.xor (local.get 0) (i32.const -1)) (local.get 1))))
           (assert_return (invoke "clz" (i64.const 0)) (i64.const 64))
           (assert_return (invoke "clz" (i64.const 1)) (i64.const 63))
           (assert_return (invoke "ctz" (i64.const 0)) (i64.const 64))
           (assert_return (invoke "ctz" (i64.const 0x100)) (i64.const 8))
           (assert_return (invoke "andn" (i32.const 0xf0) (i32.const 0xff)) (i32.const 0x0f))"#,
    );
    let r = wasm2o(&[&"wast", &"--cpu", &"x86-64-v3", &script]);
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    use wasm2o_runtime::abi;
    let level = abi::CPU_AVX2 | abi::CPU_BMI1 | abi::CPU_BMI2 | abi::CPU_LZCNT | abi::CPU_FMA;
    if abi::host_cpu_features() & level == level {
        assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("6 passed, 0 failed"), "{}", r.stdout);
        // Our code generation scripts at this level too.
        let codegen = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite/codegen");
        let mut scripts: Vec<PathBuf> = std::fs::read_dir(&codegen)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "wast"))
            .collect();
        scripts.sort();
        assert!(scripts.len() >= 10, "{scripts:?}");
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"wast", &"--cpu", &"x86-64-v3"];
        args.extend(scripts.iter().map(|p| p as &dyn AsRef<std::ffi::OsStr>));
        let r = wasm2o(&args);
        let last = r.stdout.lines().last().unwrap_or_default().to_string();
        assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
        assert!(last.ends_with(" passed, 0 failed"), "{last}");
    } else {
        assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("CPU features this CPU lacks"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn unknown_cpu_levels_are_one_error_listing_the_levels() {
    let dir = scratch("cpu-unknown");
    let wat = write(&dir, "m.wat", "(module)");
    let out = dir.join("m.o");
    let r = wasm2o(&[&"compile", &wat, &"-o", &out, &"--cpu", &"pentium"]);
    assert_user_error(&r, "x86-64-v2, x86-64-v3");
    let r = wasm2o(&[
        &"compile",
        &wat,
        &"-o",
        &out,
        &"--target",
        &"aarch64-unknown-linux-gnu",
        &"--cpu",
        &"x86-64-v3",
    ]);
    assert_user_error(&r, "armv8-a, armv8.1-a");
    let r = wasm2o(&[&"wast", &"--cpu", &"pentium", &wat]);
    assert_user_error(&r, "x86-64-v2, x86-64-v3");
}
