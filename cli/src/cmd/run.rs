//! `wasm2o run`: compile, link, instantiate without imports, call one export.

use wasm2o_compiler::Options;
use wasm2o_runtime::desc::{ExternKind, Import, ImportKind};
use wasm2o_runtime::{CallError, Instance};

use crate::cli::RunArgs;
use crate::error::{err, read_file};
use crate::loader::{link_shared, Library, Linker, WorkDir};
use crate::values::{format_val, parse_arg};
use crate::Result;

/// Imports from this module are operations the compiler lowers itself.
const MEMORY_CONTROL_MODULE: &str = "memory-control";

pub fn main(a: RunArgs) -> Result<()> {
    let name = a.input.display().to_string();
    let bytes = read_file(&a.input)?;
    let wasm = wasm2o_compiler::wat_to_wasm(&bytes, &name)
        .map_err(|e| crate::error::in_input(&name, e))?;
    let prefix = super::default_prefix(&a.input);
    let opts = Options {
        prefix: prefix.clone(),
        input_name: name.clone(),
        jobs: 0,
        ..Options::default()
    };
    let out =
        wasm2o_compiler::compile(&wasm, &opts).map_err(|e| crate::error::in_input(&name, e))?;

    let dir = WorkDir::new(None, "run")?;
    let so = link_shared(
        &Linker::host(),
        &dir.path,
        &prefix,
        &[(prefix.as_str(), out.object.as_slice())],
    )?;
    let lib = Library::open(&so)?;
    let module = lib.module(&prefix)?;
    let info = module.info();

    let needed: Vec<String> = info
        .imports
        .iter()
        .filter(|i| i.module != MEMORY_CONTROL_MODULE)
        .map(|i| describe_import(info, i))
        .collect();
    if !needed.is_empty() {
        return Err(err!(
            "{name}: `run` provides no imports, but the module imports {}",
            needed.join(", ")
        ));
    }

    let funcs: Vec<&str> = info
        .exports
        .iter()
        .filter(|e| e.kind == ExternKind::Func)
        .map(|e| e.name.as_str())
        .collect();
    let export = match &a.invoke {
        Some(n) => n.clone(),
        None => ["_start", "main"]
            .into_iter()
            .find(|n| funcs.contains(n))
            .map(str::to_string)
            .ok_or_else(|| {
                err!(
                    "{name}: no `_start` or `main` export; choose one with --invoke ({})",
                    list(&funcs)
                )
            })?,
    };
    let index = info
        .exports
        .iter()
        .find(|e| e.kind == ExternKind::Func && e.name == export)
        .map(|e| e.index)
        .ok_or_else(|| err!("{name}: no exported function {export:?} ({})", list(&funcs)))?;
    let ty = info.func_type(index).clone();
    if a.args.len() != ty.params.len() {
        return Err(err!(
            "{name}: {export} has type {ty}: expected {} argument(s), got {}",
            ty.params.len(),
            a.args.len()
        ));
    }
    let args = a
        .args
        .iter()
        .zip(&ty.params)
        .map(|(s, t)| parse_arg(s, *t))
        .collect::<Result<Vec<_>>>()?;

    let mut instance = Instance::new(&module, &mut |_| None)
        .map_err(|e| err!("{name}: instantiation failed: {e}"))?;
    match instance.call(&export, &args) {
        Ok(results) => {
            for r in &results {
                crate::out(&format!("{}\n", format_val(r)));
            }
            Ok(())
        }
        Err(CallError::Trap(t)) => {
            let msg = if t.message.is_empty() {
                t.code.message().to_string()
            } else {
                t.message.clone()
            };
            Err(err!("{name}: {export} trapped: {msg}"))
        }
        Err(e) => Err(err!("{name}: {export}: {e}")),
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "the module exports no functions".to_string()
    } else {
        format!("exported functions: {}", names.join(", "))
    }
}

fn describe_import(info: &wasm2o_runtime::desc::ModuleInfo, i: &Import) -> String {
    let what = match &i.kind {
        ImportKind::Func(t) => match info.types.get(*t as usize) {
            Some(ty) => format!("func {ty}"),
            None => "func".to_string(),
        },
        ImportKind::Table(_) => "table".to_string(),
        ImportKind::Memory(_) => "memory".to_string(),
        ImportKind::Global(g) => format!("global {}", g.ty),
    };
    format!("{}.{} ({what})", i.module, i.name)
}
