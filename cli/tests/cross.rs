//! `wasm2o compile --target` for every supported target: the object and
//! header are byte-identical whatever the working directory, the spelling
//! of the input path and `--jobs`; unknown targets are a one-line error
//! listing the supported ones; scripts for targets that cannot run here
//! are refused clearly.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_wasm2o");

const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

const MODULE: &str = r#"(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "reproducible")
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "hello") (call $log (i32.const 64)))
  (func (export "fill") (param i32) (memory.fill (local.get 0) (i32.const 0) (i32.const 16))))"#;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cross-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs `wasm2o compile` in `cwd`; returns (object, header).
fn compile_in(cwd: &Path, input: &Path, target: &str, jobs: &str) -> (Vec<u8>, Vec<u8>) {
    let out = Command::new(EXE)
        .current_dir(cwd)
        .args([
            "compile", "--prefix", "demo", "--target", target, "--jobs", jobs, "-o", "out.o",
            "--header", "out.h",
        ])
        .arg(input)
        .output()
        .expect("run wasm2o");
    assert!(
        out.status.success(),
        "{target}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let obj = std::fs::read(cwd.join("out.o")).expect("object");
    let header = std::fs::read(cwd.join("out.h")).expect("header");
    (obj, header)
}

#[test]
fn objects_and_headers_do_not_depend_on_directory_path_or_jobs() {
    let root = scratch("reproducible");
    let a = root.join("a");
    let b = root.join("deeper/b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("m.wat"), MODULE).unwrap();
    std::fs::write(b.join("m.wat"), MODULE).unwrap();
    for t in TARGETS {
        let first = compile_in(&a, Path::new("m.wat"), t, "1");
        for (cwd, input, jobs) in [
            (&b, PathBuf::from("m.wat"), "3"),
            (&b, b.join("m.wat"), "1"),
            (&a, PathBuf::from("../a/m.wat"), "0"),
        ] {
            let again = compile_in(cwd, &input, t, jobs);
            assert!(
                again.0 == first.0,
                "{t}: object differs ({} in {}, --jobs {jobs})",
                input.display(),
                cwd.display()
            );
            assert!(
                again.1 == first.1,
                "{t}: header differs ({} in {}, --jobs {jobs})",
                input.display(),
                cwd.display()
            );
        }
        let text = String::from_utf8_lossy(&first.0);
        assert!(
            !text.contains(root.to_str().unwrap()),
            "{t}: the object holds a path"
        );
        assert!(
            !text.contains("m.wat"),
            "{t}: the object holds the input name"
        );
    }
}

#[test]
fn unknown_target_is_one_line_listing_the_supported_ones() {
    let dir = scratch("unknown-target");
    std::fs::write(dir.join("m.wat"), MODULE).unwrap();
    let out = Command::new(EXE)
        .current_dir(&dir)
        .args([
            "compile",
            "m.wat",
            "-o",
            "m.o",
            "--target",
            "riscv64gc-unknown-linux-gnu",
        ])
        .output()
        .expect("run wasm2o");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("wasm2o: error: ") && err.contains("riscv64gc-unknown-linux-gnu"),
        "{err}"
    );
    for t in TARGETS {
        assert!(err.contains(t), "{err} should list {t}");
    }
    assert!(!dir.join("m.o").exists());
}

#[test]
fn wast_refuses_targets_it_cannot_run() {
    let dir = scratch("wast-macho");
    std::fs::write(dir.join("s.wast"), "(module)").unwrap();
    for t in ["x86_64-apple-darwin", "aarch64-apple-darwin"] {
        let out = Command::new(EXE)
            .current_dir(&dir)
            .args(["wast", "--target", t, "s.wast"])
            .output()
            .expect("run wasm2o");
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot run") && err.contains(t), "{err}");
    }
}
