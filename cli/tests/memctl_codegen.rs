//! What memory-control does to generated code: static protection (no-access
//! and read-only prefixes) adds nothing to the access path, because page
//! protections do the checking; an `immutable` memory's loads compile and
//! its stores are compile errors naming the function and the offset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use object::{Object, ObjectSection, ObjectSymbol};

const EXE: &str = env!("CARGO_BIN_EXE_wasm2o");

/// Loads and stores of every width on memory 0, with static offsets, in a
/// loop and through a call, plus the size (which counts the prefix, so it
/// reads the same field either way).
const ACCESSES_WAT: &str = r#"(module
  (memory (export "mem") 1 8)
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8s") (param i32) (result i32) (i32.load8_s offset=3 (local.get 0)))
  (func (export "load16u") (param i32) (result i64) (i64.load16_u offset=0x10000 (local.get 0)))
  (func (export "loadf64") (param i32) (result f64) (f64.load offset=8 align=4 (local.get 0)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "store8") (param i32 i32) (i32.store8 offset=1 (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.store offset=0x20000 (local.get 0) (local.get 1)))
  (func (export "storef32") (param i32 f32) (f32.store (local.get 0) (local.get 1)))
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call 0 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func (export "copy_word") (param $dst i32) (param $src i32)
    (i32.store (local.get $dst) (i32.load (local.get $src))))
  (func (export "size") (result i32) (memory.size))
)"#;

const PROTECTION: &str = "memory 0 no-access=1 read-only=2";

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("memctl-codegen")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(EXE)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run wasm2o")
}

/// Compiles `input` with `extra` flags and prefix `m`; returns the object's bytes.
fn compile(input: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"compile",
        &input,
        &"-o",
        &out,
        &"--prefix",
        &"m",
        &"--jobs",
        &"1",
    ];
    for e in extra {
        args.push(e);
    }
    let r = run(&args);
    assert!(
        r.status.success(),
        "wasm2o compile {extra:?} failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    std::fs::read(out).expect("read object")
}

/// The machine code of every compiled Wasm function (`m_f<N>`), by name.
fn function_bytes(obj: &[u8]) -> Vec<(String, Vec<u8>)> {
    let file = object::File::parse(obj).expect("parse object");
    let mut funcs = Vec::new();
    for sym in file.symbols() {
        let Ok(name) = sym.name() else { continue };
        let Some(n) = name.strip_prefix("m_f") else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let index = sym
            .section_index()
            .expect("a function symbol is in a section");
        let section = file.section_by_index(index).expect("symbol's section");
        let data = section.data().expect("section data");
        let start = (sym.address() - section.address()) as usize;
        let size = sym.size() as usize;
        assert!(size > 0, "{name} has a size");
        funcs.push((name.to_string(), data[start..start + size].to_vec()));
    }
    funcs.sort();
    funcs
}

fn assert_same_code(dir: &Path, extra: &[&str]) {
    let input = dir.join("m.wasm");
    std::fs::write(&input, wat::parse_str(ACCESSES_WAT).expect("valid wat")).expect("write input");
    let plain = compile(&input, &dir.join("plain.o"), extra);
    let mut flags = extra.to_vec();
    flags.extend(["--memory-control", PROTECTION]);
    let protected = compile(&input, &dir.join("protected.o"), &flags);

    // The flag did take effect: the objects differ (in the descriptor), and
    // inspect shows the attributes.
    assert_ne!(
        plain, protected,
        "the memory-control flag changed nothing at all"
    );
    let r = run(&[&"inspect", &dir.join("protected.o")]);
    let shown = String::from_utf8_lossy(&r.stdout);
    assert!(
        shown.contains("no-access=1 read-only=2"),
        "inspect: {shown}"
    );

    let a = function_bytes(&plain);
    let b = function_bytes(&protected);
    assert_eq!(
        a.len(),
        11,
        "one symbol per function: {:?}",
        a.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "same functions"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(
            x, y,
            "{name}: machine code differs with `{PROTECTION}` ({extra:?})"
        );
    }
}

#[test]
fn static_protection_adds_no_code() {
    assert_same_code(&scratch("guard-pages"), &[]);
}

#[test]
fn static_protection_adds_no_code_with_explicit_bounds_checks() {
    assert_same_code(&scratch("bounds-checks"), &["--bounds-checks", "always"]);
}

#[test]
fn immutable_memory_compiles_loads_and_rejects_stores() {
    let dir = scratch("immutable");
    let reads = dir.join("reads.wat");
    std::fs::write(
        &reads,
        r#"(module
  (memory 1)
  (@custom "memory-control" "memory 0 immutable")
  (data (i32.const 0) "\01\02\03\04")
  (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "get8") (param i32) (result i32) (i32.load8_u offset=2 (local.get 0))))"#,
    )
    .expect("write input");
    compile(&reads, &dir.join("reads.o"), &[]);

    // The store is function 1, named `poke`; find its byte offset in the
    // binary by its unique encoding: i32.const 8, i32.const 42,
    // i32.store align=4 offset=0x1234.
    let wasm = wat::parse_str(
        r#"(module
  (memory 1)
  (@custom "memory-control" "memory 0 immutable")
  (func $peek (export "peek") (result i32) (i32.load (i32.const 8)))
  (func $poke (export "poke") (i32.store offset=0x1234 (i32.const 8) (i32.const 42))))"#,
    )
    .expect("valid wat");
    let pattern = [0x41, 0x08, 0x41, 0x2a, 0x36, 0x02, 0xb4, 0x24];
    let at = wasm
        .windows(pattern.len())
        .position(|w| w == pattern)
        .expect("the store's encoding is in the binary")
        + 4;
    let input = dir.join("writes.wasm");
    std::fs::write(&input, &wasm).expect("write input");
    let out = dir.join("writes.o");
    let r = run(&[&"compile", &input, &"-o", &out]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(
        r.status.code(),
        Some(1),
        "a store to an immutable memory must not compile: {stderr}"
    );
    assert!(!out.exists(), "no object on error");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in [
        "writes.wasm",
        "function 1 (poke)",
        &format!("at offset {at:#x}"),
        "immutable",
    ] {
        assert!(
            stderr.contains(needle),
            "{stderr:?} should mention {needle:?}"
        );
    }

    // The same module compiles when the flag takes `immutable` away, which
    // shows it is the attribute, not the code, that is rejected.
    compile(&input, &out, &["--memory-control", "memory 0"]);
}
