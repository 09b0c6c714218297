//! Runs one `.wast` script: parse, prepare (compile + link + load every
//! module), then execute the directives in order, one verdict each.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use wasm2o_runtime::abi::TrapCode;
use wasm2o_runtime::desc::ExternKind;
use wasm2o_runtime::{CallError, Extern, InstantiateError, Val};
use wast::lexer::Lexer;
use wast::parser::ParseBuffer;
use wast::{Wast, WastDirective, WastExecute, WastInvoke};

use super::prepare::{prepare, Prepared, Settings};
use super::report::FileReport;
use super::store::Store;
use super::traps::trap_matches;
use super::values::{arg, describe_expected, describe_got, results_match};

/// Starts each line of the directive trace (`WASM2O_WAST_TRACE`):
/// `PASSED FAILED FILE:LINE:COL DIRECTIVE`, the counts before the directive.
pub const TRACE_PREFIX: &str = "wasm2o: trace: ";

pub fn run_file(path: &Path, settings: &Settings<'_>) -> FileReport {
    let display = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return FileReport::fatal(&display, format!("cannot read: {e}")),
    };
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let parsed = ParseBuffer::new_with_lexer(lexer).and_then(|buf| {
        // `Wast` borrows the buffer; keep both alive in this closure's caller.
        wast::parser::parse::<Wast>(&buf)
            .map(|w| run_directives(w.directives, &text, path, settings))
    });
    match parsed {
        Ok(report) => report,
        Err(e) => {
            let (line, col) = e.span().linecol_in(&text);
            FileReport::fatal(
                &display,
                format!(
                    "{}:{}:{}: cannot parse script: {}",
                    display,
                    line + 1,
                    col + 1,
                    e.message()
                ),
            )
        }
    }
}

fn run_directives(
    mut directives: Vec<WastDirective<'_>>,
    text: &str,
    path: &Path,
    settings: &Settings<'_>,
) -> FileReport {
    let mut report = FileReport::new(&path.display().to_string());
    let prepared = prepare(&mut directives, text, path, settings);
    let mut store = Store::default();
    // Debugging aid: name each directive on stderr before running it, so a
    // crash can be pinned to its directive.
    let trace = std::env::var_os("WASM2O_WAST_TRACE").is_some();
    for (i, d) in directives.iter().enumerate() {
        let (line, col) = d.span().linecol_in(text);
        if trace {
            // Format parsed by `schedule::last_trace`.
            eprintln!(
                "{TRACE_PREFIX}{} {} {}:{}:{} {}",
                report.passed,
                report.failed,
                path.display(),
                line + 1,
                col + 1,
                directive_name(d)
            );
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| execute(i, d, &prepared, &mut store)));
        if let (WastDirective::Module(qw), Ok(Err(_)) | Err(_)) = (d, &outcome) {
            let why = format!("its module (line {}) failed", line + 1);
            store.failed(qw.name().map(|id| id.name()), why);
        }
        match outcome {
            Ok(Ok(())) => report.pass(),
            Ok(Err(msg)) => report.fail(line + 1, col + 1, directive_name(d), msg),
            Err(payload) => {
                let text = crate::LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| crate::panic_text(&*payload));
                report.fail(
                    line + 1,
                    col + 1,
                    directive_name(d),
                    format!("panic: {text}"),
                )
            }
        }
    }
    let script = super::superseded::script_key(path);
    for (line, message) in super::superseded::entries(&script) {
        if !prepared.superseded_seen.contains(&line) {
            report.fail(line, 1, "superseded list", format!("no assert_invalid/assert_malformed {message:?} here: update cli/src/wast/superseded.rs"));
        }
    }
    report
}

fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// Why an execution did not produce values.
enum ExecError {
    Trap(wasm2o_runtime::Trap),
    Other(String),
}

fn execute(
    i: usize,
    d: &WastDirective<'_>,
    prepared: &Prepared,
    store: &mut Store,
) -> Result<(), String> {
    match d {
        WastDirective::Module(qw) => {
            let module = prepared.module(i)?;
            let id = qw.name().map(|id| id.name());
            store
                .instantiate(&module, id)
                .map_err(|e| format!("instantiation failed: {e}"))
        }
        WastDirective::ModuleDefinition(qw) => {
            let module = prepared.module(i)?;
            if let Some(id) = qw.name() {
                store.define(id.name(), module);
            }
            Ok(())
        }
        WastDirective::ModuleInstance {
            instance, module, ..
        } => {
            let id = module
                .map(|m| m.name())
                .ok_or("module instance without a module id")?;
            let def = store
                .definition(id)
                .ok_or_else(|| format!("no module definition ${id}"))?;
            store
                .instantiate(&def, instance.map(|i| i.name()))
                .map_err(|e| format!("instantiation failed: {e}"))
        }
        WastDirective::Register { name, module, .. } => {
            store.register(name, module.map(|m| m.name()))
        }
        WastDirective::Invoke(inv) => match invoke(store, inv) {
            Ok(_) => Ok(()),
            Err(ExecError::Trap(t)) => Err(format!("unexpected trap: {}", trap_text(&t))),
            Err(ExecError::Other(e)) => Err(e),
        },
        WastDirective::AssertReturn { exec, results, .. } => {
            let got = match exec {
                WastExecute::Invoke(inv) => invoke(store, inv),
                WastExecute::Get { module, global, .. } => {
                    get(store, module.map(|m| m.name()), global)
                }
                WastExecute::Wat(_) => Err(ExecError::Other(
                    "assert_return on a module is not supported".into(),
                )),
            };
            match got {
                Ok(vals) if results_match(results, &vals) => Ok(()),
                Ok(vals) => Err(format!(
                    "expected {}, got {}",
                    describe_expected(results),
                    describe_got(&vals)
                )),
                Err(ExecError::Trap(t)) => Err(format!(
                    "expected {}, got trap: {}",
                    describe_expected(results),
                    trap_text(&t)
                )),
                Err(ExecError::Other(e)) => Err(e),
            }
        }
        WastDirective::AssertTrap { exec, message, .. } => match exec {
            WastExecute::Invoke(inv) => match invoke(store, inv) {
                Err(ExecError::Trap(t)) if trap_matches(&t, message) => Ok(()),
                Err(ExecError::Trap(t)) => Err(format!(
                    "expected trap {message:?}, got trap: {}",
                    trap_text(&t)
                )),
                Err(ExecError::Other(e)) => Err(e),
                Ok(vals) => Err(format!(
                    "expected trap {message:?}, got {}",
                    describe_got(&vals)
                )),
            },
            WastExecute::Wat(_) => {
                let module = prepared.module(i)?;
                match store.new_instance(&module) {
                    Err(InstantiateError::Trap(t)) if trap_matches(&t, message) => Ok(()),
                    Err(e) => Err(format!(
                        "expected trap {message:?} while instantiating, got: {e}"
                    )),
                    Ok(_) => Err(format!(
                        "expected trap {message:?} while instantiating, but it succeeded"
                    )),
                }
            }
            WastExecute::Get { .. } => Err("assert_trap on get is not meaningful".into()),
        },
        WastDirective::AssertExhaustion { call, message, .. } => match invoke(store, call) {
            Err(ExecError::Trap(t))
                if t.code == TrapCode::StackOverflow || trap_matches(&t, message) =>
            {
                Ok(())
            }
            Err(ExecError::Trap(t)) => {
                Err(format!("expected {message:?}, got trap: {}", trap_text(&t)))
            }
            Err(ExecError::Other(e)) => Err(e),
            Ok(vals) => Err(format!("expected {message:?}, got {}", describe_got(&vals))),
        },
        WastDirective::AssertUnlinkable { message, .. } => {
            let module = prepared.module(i)?;
            match store.new_instance(&module) {
                Err(InstantiateError::Link(_)) => Ok(()),
                Err(e) => Err(format!("expected link error {message:?}, got: {e}")),
                Ok(_) => Err(format!(
                    "expected link error {message:?}, but instantiation succeeded"
                )),
            }
        }
        WastDirective::AssertInvalid { .. } | WastDirective::AssertMalformed { .. } => {
            prepared.check(i)
        }
        other => Err(format!("{} is not supported", directive_name(other))),
    }
}

fn trap_text(t: &wasm2o_runtime::Trap) -> String {
    if t.message.is_empty() {
        t.code.message().to_string()
    } else {
        t.message.clone()
    }
}

fn invoke(store: &mut Store, inv: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
    let args = inv
        .args
        .iter()
        .map(arg)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ExecError::Other)?;
    let instance = store
        .instance(inv.module.map(|m| m.name()))
        .map_err(ExecError::Other)?;
    instance.call(inv.name, &args).map_err(|e| match e {
        CallError::Trap(t) => ExecError::Trap(t),
        other => ExecError::Other(other.to_string()),
    })
}

fn get(store: &mut Store, module: Option<&str>, name: &str) -> Result<Vec<Val>, ExecError> {
    let instance = store.instance(module).map_err(ExecError::Other)?;
    match instance.export(name) {
        Some(Extern::Global(g)) => Ok(vec![g.get()]),
        Some(_) => Err(ExecError::Other(format!("export {name:?} is not a global"))),
        None => {
            let known = instance
                .module()
                .info()
                .exports
                .iter()
                .any(|e| e.kind == ExternKind::Global && e.name == name);
            Err(ExecError::Other(format!(
                "no global export {name:?}{}",
                if known { " (listed in the module)" } else { "" }
            )))
        }
    }
}
