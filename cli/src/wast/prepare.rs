//! Before a script runs: compile every module it defines, link them all
//! into one shared library and load it; decide `assert_invalid` and
//! `assert_malformed` (which only need the compiler).
//!
//! Linking once per script (not per module) keeps the C compiler off the
//! critical path. If the combined link or load fails, each module is
//! linked on its own so one bad object fails only its own directives.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use wasm2o_compiler::Options;
use wasm2o_runtime::Module;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

use crate::loader::{link_shared, Library, WorkDir};

/// What the preparation decided for each directive (by index).
#[derive(Default)]
pub struct Prepared {
    modules: HashMap<usize, Result<Arc<Module>, String>>,
    /// `Ok`: the module was rejected, as the directive expects.
    checks: HashMap<usize, Result<(), String>>,
    /// Lines of the directives found in the superseded list.
    pub superseded_seen: Vec<usize>,
}

impl Prepared {
    pub fn module(&self, directive: usize) -> Result<Arc<Module>, String> {
        match self.modules.get(&directive) {
            Some(r) => r.clone(),
            None => Err("internal: module was not prepared".to_string()),
        }
    }

    pub fn check(&self, directive: usize) -> Result<(), String> {
        self.checks
            .get(&directive)
            .cloned()
            .unwrap_or_else(|| Err("internal: not checked".to_string()))
    }
}

pub struct Settings<'a> {
    pub target: Option<&'a str>,
    pub keep: Option<&'a Path>,
}

/// `text` and `file` only name things in messages.
pub fn prepare(
    directives: &mut [WastDirective<'_>],
    text: &str,
    file: &Path,
    settings: &Settings<'_>,
) -> Prepared {
    let mut prepared = Prepared::default();
    let mut objects: Vec<(usize, String, Vec<u8>)> = Vec::new();
    let stem = work_dir_name(file);
    let script = super::superseded::script_key(file);

    for (i, d) in directives.iter_mut().enumerate() {
        let (line, col) = d.span().linecol_in(text);
        let input_name = format!("{}:{}:{}", file.display(), line + 1, col + 1);
        let prefix = format!("m{i}");
        let wasm = match d {
            WastDirective::Module(qw) | WastDirective::ModuleDefinition(qw) => encode_quote(qw),
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(w),
                ..
            } => encode_wat(w),
            WastDirective::AssertUnlinkable { module, .. } => encode_wat(module),
            WastDirective::AssertInvalid {
                module, message, ..
            }
            | WastDirective::AssertMalformed {
                module, message, ..
            } => {
                let superseded = super::superseded::lookup(&script, line + 1, message);
                let verdict = match (encode_quote(module), superseded) {
                    // Text that does not even parse is malformed enough.
                    (Err(_), None) => Ok(()),
                    (Err(e), Some(why)) => Err(format!(
                        "superseded ({why}): the module must be accepted, but {e}"
                    )),
                    (Ok(wasm), _) => match (
                        compile(&wasm, &prefix, &input_name, settings.target),
                        superseded,
                    ) {
                        (Err(CompileFailure::Panicked(p)), _) => {
                            Err(format!("compiler panicked: {p}"))
                        }
                        (Err(CompileFailure::Rejected(_)), None) => Ok(()),
                        (Err(CompileFailure::Rejected(e)), Some(why)) => Err(format!(
                            "superseded ({why}): the module must be accepted, but: {e}"
                        )),
                        (Ok(_), None) => Err(format!(
                            "module compiled, expected it to be rejected: {message:?}"
                        )),
                        (Ok(_), Some(_)) => Ok(()),
                    },
                };
                if superseded.is_some() {
                    prepared.superseded_seen.push(line + 1);
                }
                prepared.checks.insert(i, verdict);
                continue;
            }
            _ => continue,
        };
        let result = match wasm {
            Err(e) => Err(e),
            Ok(wasm) => match compile(&wasm, &prefix, &input_name, settings.target) {
                Ok(object) => {
                    objects.push((i, prefix, object));
                    continue;
                }
                Err(CompileFailure::Rejected(e)) => Err(format!("compile failed: {e}")),
                Err(CompileFailure::Panicked(p)) => Err(format!("compiler panicked: {p}")),
            },
        };
        prepared.modules.insert(i, result);
    }

    if !objects.is_empty() {
        for (i, r) in load(&objects, &stem, settings.keep) {
            prepared.modules.insert(i, r);
        }
    }
    prepared
}

fn encode_quote(qw: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    if matches!(
        qw,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return Err("components are not supported".to_string());
    }
    qw.encode()
        .map_err(|e| format!("text does not encode: {}", e.message()))
}

fn encode_wat(w: &mut Wat<'_>) -> Result<Vec<u8>, String> {
    if matches!(w, Wat::Component(_)) {
        return Err("components are not supported".to_string());
    }
    w.encode()
        .map_err(|e| format!("text does not encode: {}", e.message()))
}

enum CompileFailure {
    Rejected(String),
    Panicked(String),
}

fn compile(
    wasm: &[u8],
    prefix: &str,
    input_name: &str,
    target: Option<&str>,
) -> Result<Vec<u8>, CompileFailure> {
    let opts = Options {
        prefix: prefix.to_string(),
        target: target.map(str::to_string),
        // Scripts already run in parallel; one thread per compile.
        jobs: 1,
        input_name: input_name.to_string(),
        ..Options::default()
    };
    match catch_unwind(AssertUnwindSafe(|| wasm2o_compiler::compile(wasm, &opts))) {
        Ok(Ok(out)) => Ok(out.object),
        Ok(Err(e)) => Err(CompileFailure::Rejected(e.to_string())),
        Err(payload) => {
            let text = crate::LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| crate::panic_text(&*payload));
            Err(CompileFailure::Panicked(text))
        }
    }
}

type Loaded = Vec<(usize, Result<Arc<Module>, String>)>;

/// Links and loads the objects: all in one library, or else one by one.
fn load(objects: &[(usize, String, Vec<u8>)], stem: &str, keep: Option<&Path>) -> Loaded {
    let dir = match WorkDir::new(keep, &sanitize(stem)) {
        Ok(d) => d,
        Err(e) => {
            return objects
                .iter()
                .map(|(i, ..)| (*i, Err(e.to_string())))
                .collect()
        }
    };
    let all: Vec<(&str, &[u8])> = objects
        .iter()
        .map(|(_, p, o)| (p.as_str(), o.as_slice()))
        .collect();
    let combined = link_shared(&dir.path, "all", &all).and_then(|so| Library::open(&so));
    match combined {
        Ok(lib) => objects
            .iter()
            .map(|(i, p, _)| (*i, lib.module(p).map_err(|e| e.to_string())))
            .collect(),
        Err(_) => objects
            .iter()
            .map(|(i, p, o)| {
                let r = link_shared(&dir.path, p, &[(p.as_str(), o.as_slice())])
                    .and_then(|so| Library::open(&so))
                    .and_then(|lib| lib.module(p));
                (*i, r.map_err(|e| e.to_string()))
            })
            .collect(),
    }
}

/// `suite-file` (`memory64/address.wast` → `memory64-address`): script
/// names repeat across suites.
fn work_dir_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script".into());
    match file.parent().and_then(|p| p.file_name()) {
        Some(parent) => format!("{}-{stem}", parent.to_string_lossy()),
        None => stem,
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
