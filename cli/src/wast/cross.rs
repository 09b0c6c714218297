//! Scripts for another target: compiled and linked here, run there.
//!
//! The code of an aarch64 script cannot run in this (x86-64) process, and
//! compiling under an emulator would be slow. So the work is split at the
//! link: for each script this process compiles every module for the
//! target and links them into one shared library with the target's C
//! compiler (`prepare::plan`, `prepare::link_for_target`, which also writes
//! a manifest of what each directive gets). Then a build of wasm2o for the
//! target runs, under the emulator, as
//! `wasm2o wast --in-process --precompiled DIR FILE`: it parses the script
//! again (same parser, same directive numbering), loads the library, runs
//! the directives with the same runtime code a native run uses and prints
//! the usual report, which `schedule::run_child` reads exactly as it reads
//! a native child's (crashes and hangs are pinned to their directive too).
//!
//! The tools, each overridable from the environment:
//! `WASM2O_CROSS_CC` (linker), `WASM2O_CROSS_RUNNER` (emulator command
//! line), `WASM2O_CROSS_EXE` (wasm2o built for the target; default: the
//! same cargo profile directory for the target triple, e.g.
//! `target/aarch64-unknown-linux-gnu/release/wasm2o` next to
//! `target/release/wasm2o`).

use std::path::{Path, PathBuf};
use std::process::Command;

use wast::lexer::Lexer;
use wast::parser::ParseBuffer;
use wast::Wast;

use crate::cli::WastArgs;
use crate::error::err;
use crate::loader::{Linker, WorkDir};
use crate::Result;

use super::prepare::{link_for_target, plan, sanitize, work_dir_name, Codegen, Plan};
use super::schedule::{child_args, fatal, run_child, run_scripts};

/// A target whose scripts run under an emulator on this machine.
pub struct Emulated {
    pub triple: &'static str,
    /// The C compiler that links shared libraries for it.
    pub linker: &'static str,
    /// The emulator command line that runs its executables.
    pub runner: &'static str,
}

/// The Linux targets; on a host of one, the other runs emulated. (Mach-O
/// targets are compiled and linked only: nothing here runs macOS code.)
///
/// The runner pins the guest's C library to the cross toolchain's
/// (`LD_LIBRARY_PATH` inside the emulated process): with `-L` alone, the
/// cross `ld.so` reads the host's `ld.so.cache` and, where Debian's
/// multiarch `libc6:arm64` is installed too (Debian's Rust for aarch64
/// pulls it in), loads that `libc.so.6` — another build of glibc, whose
/// `ld.so` internals do not match: the first `pthread_create` then spins
/// forever in the stack cache.
const EMULATED: &[Emulated] = &[
    Emulated {
        triple: "aarch64-unknown-linux-gnu",
        linker: "aarch64-linux-gnu-gcc",
        runner:
            "qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib",
    },
    Emulated {
        triple: "x86_64-unknown-linux-gnu",
        linker: "x86_64-linux-gnu-gcc",
        runner: "qemu-x86_64 -L /usr/x86_64-linux-gnu -E LD_LIBRARY_PATH=/usr/x86_64-linux-gnu/lib",
    },
];

pub enum Mode {
    /// Load the code into this process.
    Host,
    Emulated(&'static Emulated),
}

/// How scripts for `target` run here, or why they cannot.
pub fn mode(target: Option<&str>) -> Result<Mode> {
    use wasm2o_compiler::target;
    let Some(name) = target else {
        return Ok(Mode::Host);
    };
    if target::info(name).is_none() {
        return Err(err!(
            "unsupported target {name:?}; supported targets: {}",
            target::supported_targets().join(", ")
        ));
    }
    if target::host().is_some_and(|h| h.name == name) {
        return Ok(Mode::Host);
    }
    match EMULATED.iter().find(|e| e.triple == name) {
        Some(e) => Ok(Mode::Emulated(e)),
        None => Err(err!(
            "cannot run {name} scripts on this machine: only Linux targets run (natively or under qemu); \
             compile objects for {name} with `wasm2o compile --target {name}` and link them on the target (see docs/cross.md)"
        )),
    }
}

/// Runs every script for `t`, `jobs` at a time.
pub fn run(a: &WastArgs, t: &'static Emulated, jobs: usize) -> Result<(usize, usize)> {
    let exe = target_exe(t)?;
    let runner: Vec<String> = env_words("WASM2O_CROSS_RUNNER", t.runner);
    let linker = Linker::from_env("WASM2O_CROSS_CC", t.linker);
    let program = format!("{} {}", runner.join(" "), exe.display());
    let work = |i: usize| {
        let file = &a.files[i];
        let dir = match WorkDir::new(a.keep.as_deref(), &sanitize(&work_dir_name(file))) {
            Ok(d) => d,
            Err(e) => return fatal(file, e.to_string(), a.show),
        };
        let codegen = Codegen {
            target: Some(t.triple),
            cpu: a.cpu.as_deref(),
        };
        if let Err(e) = link_for_target(plan_script(file, codegen), &dir.path, &linker) {
            return fatal(file, e.to_string(), a.show);
        }
        let mut cmd = Command::new(&runner[0]);
        cmd.args(&runner[1..])
            .arg(&exe)
            .arg("wast")
            .arg("--precompiled")
            .arg(&dir.path);
        child_args(&mut cmd, a, file);
        run_child(cmd, &program, a, file)
        // `dir` is removed here (unless kept).
    };
    Ok(run_scripts(a.files.len(), jobs, &work))
}

/// Compiles a script's modules for `triple`. A script that cannot be read
/// or parsed gets an empty plan: the emulated run reports why, exactly as
/// a native run would.
fn plan_script(file: &Path, codegen: Codegen<'_>) -> Plan {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Plan::default();
    };
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    ParseBuffer::new_with_lexer(lexer)
        .and_then(|buf| {
            wast::parser::parse::<Wast>(&buf)
                .map(|mut w| plan(&mut w.directives, &text, file, codegen))
        })
        .unwrap_or_default()
}

/// wasm2o built for the target: `$WASM2O_CROSS_EXE`, else the cargo
/// layout's `target/TRIPLE/PROFILE/wasm2o` for this `target/PROFILE/wasm2o`.
fn target_exe(t: &Emulated) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("WASM2O_CROSS_EXE").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(err!("WASM2O_CROSS_EXE: no file {}", p.display()));
        }
        return Ok(p);
    }
    let me = std::env::current_exe().map_err(|e| err!("cannot find the wasm2o executable: {e}"))?;
    let guess = me.parent().and_then(|profile_dir| {
        let profile = profile_dir.file_name()?;
        let target_dir = profile_dir.parent()?;
        Some(target_dir.join(t.triple).join(profile).join("wasm2o"))
    });
    match guess {
        Some(p) if p.is_file() => Ok(p),
        _ => Err(err!(
            "running {} scripts needs wasm2o built for {}: `cargo +debian build --release --target {} -p wasm2o` \
             (or set WASM2O_CROSS_EXE); looked for {}",
            t.triple,
            t.triple,
            t.triple,
            guess.map(|p| p.display().to_string()).unwrap_or_else(|| "it next to this executable".into())
        )),
    }
}

fn env_words(var: &str, default: &str) -> Vec<String> {
    let text = std::env::var(var)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default.to_string());
    text.split_whitespace().map(str::to_string).collect()
}
