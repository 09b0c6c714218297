//! `wasm2o wast`: the spec-script runner.
//!
//! - `script`: one script, directive by directive;
//! - `prepare`: compile + link + load a script's modules up front;
//! - `store`: instances, registrations, imports;
//! - `spectest`: the host module scripts import from;
//! - `values`, `traps`: matching results and trap messages;
//! - `superseded`: 2.0 assertions that multi-memory/memory64 reverse;
//! - `schedule`: running many scripts at once (threads or child processes);
//! - `report`: what gets printed.

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
    if let Some(t) = &a.target {
        if !is_host_target(t) {
            return Err(err!(
                "running .wast scripts for {t} is not supported yet: only the host ({}-linux) can run them",
                std::env::consts::ARCH
            ));
        }
    }
    if let Some(dir) = &a.keep {
        std::fs::create_dir_all(dir).map_err(|e| err!("{}: {e}", dir.display()))?;
    }
    let jobs = a.jobs.filter(|n| *n > 0).unwrap_or_else(crate::cmd::cpus);
    let (passed, failed) = if a.in_process || a.files.len() == 1 {
        schedule::in_process(&a, jobs)
    } else {
        schedule::child_processes(&a, jobs)?
    };
    crate::out(&format!("{}\n", report::total_line(passed, failed)));
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Whether a triple names the machine we run on (wast runs load the code
/// into this process).
fn is_host_target(triple: &str) -> bool {
    let arch = triple.split('-').next().unwrap_or("");
    arch == std::env::consts::ARCH && triple.contains(std::env::consts::OS)
}
