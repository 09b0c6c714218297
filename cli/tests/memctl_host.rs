//! Memory-control II from a C host: compiles `memctl_host/guest.wat` with
//! `wasm2o compile --header`, links `memctl_host/host.c` against
//! `libwasm2o_runtime.a` with the system C compiler (`CC`, default `cc`)
//! and runs it. The program checks file mappings (shared vs private, read
//! back from the file; pages past the end of the file), shared buffers in
//! two instances and the host, grants (not granted, above grant, protect
//! cannot raise) and the mapping budget; it prints "ok".

use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_wasm2o");

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// The runtime's static library, built for the profile this test runs in
/// (cargo does nothing if it is up to date).
fn runtime_staticlib() -> PathBuf {
    let profile_dir = Path::new(EXE).parent().expect("exe dir");
    let target_dir = profile_dir.parent().expect("target dir");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "wasm2o-runtime"])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    run(&mut cargo);
    profile_dir.join("libwasm2o_runtime.a")
}

#[test]
fn c_host_file_mappings_shared_buffers_grants_budget() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/memctl_host");
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime-support/include");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("memctl-host");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lib = runtime_staticlib();

    run(Command::new(EXE)
        .arg("compile")
        .arg(src.join("guest.wat"))
        .arg("-o")
        .arg(dir.join("guest.o"))
        .arg("--header")
        .arg(dir.join("guest.h"))
        .args(["--prefix", "guest"]));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    run(Command::new(cc)
        .args(["-O1", "-Wall", "-Wextra", "-Werror", "-std=c11"])
        .arg("-I")
        .arg(&include)
        .arg("-I")
        .arg(&dir)
        .arg(src.join("host.c"))
        .arg(dir.join("guest.o"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(dir.join("host")));
    let out = run(Command::new(dir.join("host")).arg(&dir));
    assert_eq!(out.trim(), "ok", "{out}");
}
