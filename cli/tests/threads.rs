//! Threads from C: testsuite/threads/host.c drives several instances that
//! share one memory from several pthreads (atomic increments, wait/notify)
//! while another thread discards pages; it must print "threads: ok".
//! testsuite/threads/churn.c does the same on a shared virtual memory while
//! another thread maps, protects, unmaps and discards pages and maps a host
//! buffer over them; it must print "churn: ok".
//!
//! The modules are compiled by the `wasm2o` built with this test; the host is
//! linked with `cc` against the runtime staticlib of the same build. Without
//! `cc` the test fails (it never skips).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_wasm2o");

/// The runtime staticlib of this build. Cargo builds it beside the rlib as
/// `deps/libwasm2o_runtime-HASH.a` (it only copies it to the profile
/// directory when the runtime package itself is built), so take the newest of
/// those and the copy.
fn runtime_staticlib() -> PathBuf {
    let profile = Path::new(EXE).parent().expect("wasm2o has a directory");
    let mut candidates = vec![profile.join("libwasm2o_runtime.a")];
    if let Ok(rd) = std::fs::read_dir(profile.join("deps")) {
        candidates.extend(rd.flatten().map(|e| e.path()).filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libwasm2o_runtime-") && n.ends_with(".a"))
        }));
    }
    candidates
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("libwasm2o_runtime.a of this build")
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles `modules` (`testsuite/threads/<m>.wat`, prefix `<m>`), links
/// `testsuite/threads/<c_file>` against them and the runtime, runs it
/// with a deadline and expects `<name>: ok` on stdout.
fn build_and_run(name: &str, modules: &[&str], c_file: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let src = root.join("testsuite/threads");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("threads-c-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");

    for m in modules {
        run(
            Command::new(EXE)
                .arg("compile")
                .arg(src.join(format!("{m}.wat")))
                .arg("-o")
                .arg(dir.join(format!("{m}.o")))
                .arg("--header")
                .arg(dir.join(format!("{m}.h")))
                .args(["--prefix", m]),
            &format!("wasm2o compile {m}.wat"),
        );
    }
    let exe = dir.join(format!("{name}-host"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    run(
        Command::new(&cc)
            .args(["-O2", "-Wall", "-Werror", "-pthread"])
            .arg("-I")
            .arg(root.join("runtime-support/include"))
            .arg("-I")
            .arg(&dir)
            .arg(src.join(c_file))
            .args(modules.iter().map(|m| dir.join(format!("{m}.o"))))
            .arg(runtime_staticlib())
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&exe),
        &format!("cc {c_file}"),
    );

    // A lost wake-up would hang the host: give it a deadline.
    let mut child = Command::new(&exe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the host");
    let start = Instant::now();
    while child.try_wait().expect("wait for the host").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the {name} host hung (lost wake-up?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("host output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout == format!("{name}: ok\n"),
        "{c_file} failed ({}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn shared_memory_across_pthreads_with_concurrent_discard() {
    build_and_run("threads", &["owner", "worker"], "host.c");
}

/// testsuite/threads/churn.c: instances on several threads access a shared
/// virtual memory while another thread maps, protects, unmaps, discards
/// and maps a host buffer over part of it.
#[test]
fn shared_virtual_memory_with_concurrent_map_protect_unmap_discard() {
    build_and_run("churn", &["churn_owner", "churn_worker"], "churn.c");
}
