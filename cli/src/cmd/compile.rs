//! `wasm2o compile`: a module in, an object (and a C header) out.

use wasm2o_compiler::{BoundsChecks, OptLevel, Options};

use crate::cli::{BoundsChecksArg, CompileArgs, OptArg};
use crate::error::{read_file, write_file};
use crate::Result;

pub fn main(a: CompileArgs) -> Result<()> {
    let name = a.input.display().to_string();
    let bytes = read_file(&a.input)?;
    let wasm = wasm2o_compiler::wat_to_wasm(&bytes, &name)
        .map_err(|e| crate::error::in_input(&name, e))?;
    let opts = Options {
        prefix: a
            .prefix
            .clone()
            .unwrap_or_else(|| super::default_prefix(&a.input)),
        target: a.target.clone(),
        cpu: a.cpu.clone(),
        opt_level: match a.opt {
            OptArg::O0 => OptLevel::None,
            OptArg::O1 => OptLevel::Speed,
            OptArg::O2 => OptLevel::SpeedAndSize,
        },
        bounds_checks: match a.bounds_checks {
            BoundsChecksArg::Auto => BoundsChecks::Auto,
            BoundsChecksArg::Always => BoundsChecks::Always,
        },
        jobs: a.jobs.unwrap_or(0),
        memory_control: a.memory_control.clone(),
        header: a.header.is_some(),
        input_name: name.clone(),
    };
    let out =
        wasm2o_compiler::compile(&wasm, &opts).map_err(|e| crate::error::in_input(&name, e))?;
    write_file(&a.output, &out.object)?;
    if let (Some(path), Some(text)) = (&a.header, &out.header) {
        write_file(path, text.as_bytes())?;
    }
    Ok(())
}
