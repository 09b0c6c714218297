//! `wasm2o wast`: the spec-script runner.
//!
//! - `script`: one script, directive by directive;
//! - `prepare`: compile + link + load a script's modules up front;
//! - `store`: instances, registrations, imports;
//! - `spectest`: the host module scripts import from;
//! - `values`, `traps`: matching results and trap messages;
//! - `superseded`: 2.0 assertions that multi-memory/memory64 reverse;
//! - `schedule`: running many scripts at once (threads or child processes);
//! - `cross`: scripts for another target, compiled here and run emulated;
//! - `report`: what gets printed.

mod cross;
mod prepare;
mod report;
mod schedule;
mod script;
mod spectest;
mod store;
mod superseded;
mod traps;
mod values;

use std::process::ExitCode;

use crate::cli::WastArgs;
use crate::error::err;
use crate::Result;

pub fn main(a: WastArgs) -> Result<ExitCode> {
    if let Some(dir) = &a.keep {
        std::fs::create_dir_all(dir).map_err(|e| err!("{}: {e}", dir.display()))?;
    }
    if let Some(cpu) = a.cpu.as_deref() {
        // A bad level is one error, not a failure of every module.
        use wasm2o_compiler::target;
        let info = match a.target.as_deref() {
            Some(name) => target::info(name),
            None => target::host(),
        };
        if let Some(info) = info {
            target::cpu_level(info, Some(cpu)).map_err(|e| err!("{e}"))?;
        }
    }
    let jobs = a.jobs.filter(|n| *n > 0).unwrap_or_else(crate::cmd::cpus);
    let (passed, failed) = if a.precompiled.is_some() {
        // The emulated half of a cross-target run: the code is ours to run.
        if a.files.len() != 1 {
            return Err(err!("--precompiled runs exactly one script"));
        }
        schedule::in_process(&a, 1)
    } else {
        match cross::mode(a.target.as_deref())? {
            cross::Mode::Host if a.in_process || a.files.len() == 1 => schedule::in_process(&a, jobs),
            cross::Mode::Host => schedule::child_processes(&a, jobs)?,
            cross::Mode::Emulated(_) if a.in_process => {
                return Err(err!(
                    "--in-process cannot run {} code on this machine; drop it (scripts run under the emulator)",
                    a.target.as_deref().unwrap_or_default()
                ))
            }
            cross::Mode::Emulated(t) => cross::run(&a, t, jobs)?,
        }
    };
    crate::out(&format!("{}\n", report::total_line(passed, failed)));
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
