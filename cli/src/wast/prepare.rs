//! Before a script runs: compile every module it defines, link them all
//! into one shared library and load it; decide `assert_invalid` and
//! `assert_malformed` (which only need the compiler).
//!
//! Linking once per script (not per module) keeps the C compiler off the
//! critical path. If the combined link or load fails, each module is
//! linked on its own so one bad object fails only its own directives.
//!
//! Cross-target runs split this in two: the host compiles and links
//! (`plan`, `link`, `write_manifest`), an emulated build of wasm2o for the
//! target reads the manifest and loads the libraries (`read_manifest`);
//! see `cross.rs`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasm2o_compiler::Options;
use wasm2o_runtime::Module;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

use crate::error::err;
use crate::loader::{link_shared, Library, Linker, WorkDir};

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

/// How modules are compiled: `--target` and `--cpu`.
#[derive(Clone, Copy, Default)]
pub struct Codegen<'a> {
    pub target: Option<&'a str>,
    pub cpu: Option<&'a str>,
}

pub struct Settings<'a> {
    pub codegen: Codegen<'a>,
    pub keep: Option<&'a Path>,
    /// Run modules another process compiled and linked: the directory with
    /// its manifest (`--precompiled`, set by cross-target runs).
    pub precompiled: Option<&'a Path>,
}

/// What the compiler decided for a script, before any linking.
#[derive(Default)]
pub struct Plan {
    /// (directive index, symbol prefix, object).
    objects: Vec<(usize, String, Vec<u8>)>,
    /// Modules that failed before linking, with why.
    failed: Vec<(usize, String)>,
    checks: HashMap<usize, Result<(), String>>,
    superseded_seen: Vec<usize>,
}

/// `text` and `file` only name things in messages.
pub fn prepare(
    directives: &mut [WastDirective<'_>],
    text: &str,
    file: &Path,
    settings: &Settings<'_>,
) -> Prepared {
    if let Some(dir) = settings.precompiled {
        return read_manifest(dir, directives.len()).unwrap_or_else(|e| {
            let mut p = Prepared::default();
            for i in 0..directives.len() {
                p.modules.insert(i, Err(e.to_string()));
                p.checks.insert(i, Err(e.to_string()));
            }
            p
        });
    }
    let plan = plan(directives, text, file, settings.codegen);
    let mut prepared = Prepared {
        modules: plan.failed.into_iter().map(|(i, e)| (i, Err(e))).collect(),
        checks: plan.checks,
        superseded_seen: plan.superseded_seen,
    };
    if !plan.objects.is_empty() {
        for (i, r) in load(&plan.objects, &work_dir_name(file), settings.keep) {
            prepared.modules.insert(i, r);
        }
    }
    prepared
}

/// Compiles every module of a script for `target`; decides
/// `assert_invalid` and `assert_malformed`.
pub fn plan(
    directives: &mut [WastDirective<'_>],
    text: &str,
    file: &Path,
    codegen: Codegen<'_>,
) -> Plan {
    let mut prepared = Plan::default();
    let objects = &mut prepared.objects;
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
                    (Ok(wasm), _) => {
                        match (compile(&wasm, &prefix, &input_name, codegen), superseded) {
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
                        }
                    }
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
            Err(e) => e,
            Ok(wasm) => match compile(&wasm, &prefix, &input_name, codegen) {
                Ok(object) => {
                    objects.push((i, prefix, object));
                    continue;
                }
                Err(CompileFailure::Rejected(e)) => format!("compile failed: {e}"),
                Err(CompileFailure::Panicked(p)) => format!("compiler panicked: {p}"),
            },
        };
        prepared.failed.push((i, result));
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
    codegen: Codegen<'_>,
) -> Result<Vec<u8>, CompileFailure> {
    let opts = Options {
        prefix: prefix.to_string(),
        target: codegen.target.map(str::to_string),
        cpu: codegen.cpu.map(str::to_string),
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
    let linker = Linker::host();
    let combined = link_shared(&linker, &dir.path, "all", &all).and_then(|so| Library::open(&so));
    match combined {
        Ok(lib) => objects
            .iter()
            .map(|(i, p, _)| (*i, lib.module(p).map_err(|e| e.to_string())))
            .collect(),
        Err(_) => objects
            .iter()
            .map(|(i, p, o)| {
                let r = link_shared(&linker, &dir.path, p, &[(p.as_str(), o.as_slice())])
                    .and_then(|so| Library::open(&so))
                    .and_then(|lib| lib.module(p));
                (*i, r.map_err(|e| e.to_string()))
            })
            .collect(),
    }
}

/// Cross-target runs, on the host: compiles (for the plan's target) and
/// links the script's modules with `linker` into `dir`, and writes the
/// manifest the emulated run reads (`read_manifest`). Nothing is loaded:
/// the code is for another machine.
pub fn link_for_target(plan: Plan, dir: &Path, linker: &Linker) -> crate::Result<()> {
    let all: Vec<(&str, &[u8])> = plan
        .objects
        .iter()
        .map(|(_, p, o)| (p.as_str(), o.as_slice()))
        .collect();
    let mut manifest = String::from(MANIFEST_MAGIC);
    manifest.push('\n');
    let mut entries: Vec<(usize, String)> = Vec::new();
    if !all.is_empty() {
        match link_shared(linker, dir, "all", &all) {
            Ok(_) => {
                for (i, p, _) in &plan.objects {
                    entries.push((*i, format!("module {i} all.so {p}")));
                }
            }
            // One bad object fails only its own directives.
            Err(_) => {
                for (i, p, o) in &plan.objects {
                    let line = match link_shared(linker, dir, p, &[(p.as_str(), o.as_slice())]) {
                        Ok(_) => format!("module {i} {p}.so {p}"),
                        Err(e) => format!("error {i} {}", escape(&e.to_string())),
                    };
                    entries.push((*i, line));
                }
            }
        }
    }
    for (i, e) in &plan.failed {
        entries.push((*i, format!("error {i} {}", escape(e))));
    }
    let mut checks: Vec<_> = plan.checks.iter().collect();
    checks.sort_by_key(|(i, _)| **i);
    for (i, verdict) in checks {
        let line = match verdict {
            Ok(()) => format!("check {i} ok"),
            Err(e) => format!("check {i} fail {}", escape(e)),
        };
        entries.push((*i, line));
    }
    entries.sort_by_key(|(i, _)| *i);
    for (_, line) in entries {
        let _ = writeln!(manifest, "{line}");
    }
    for line in &plan.superseded_seen {
        let _ = writeln!(manifest, "superseded {line}");
    }
    crate::error::write_file(&dir.join(MANIFEST), manifest.as_bytes())
}

/// The manifest of a precompiled script, in its directory.
pub const MANIFEST: &str = "prepared.txt";
const MANIFEST_MAGIC: &str = "wasm2o-prepared 1";

/// Loads what `link_for_target` prepared (in the emulated process).
fn read_manifest(dir: &Path, directives: usize) -> crate::Result<Prepared> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| err!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some(MANIFEST_MAGIC) {
        return Err(err!(
            "{}: not a manifest of this wasm2o version",
            path.display()
        ));
    }
    let mut prepared = Prepared::default();
    let mut libraries: HashMap<String, Result<Library, String>> = HashMap::new();
    let bad = |line: &str| err!("{}: bad line {line:?}", path.display());
    for line in lines {
        let mut words = line.splitn(3, ' ');
        let (kind, index, rest) = (words.next(), words.next(), words.next().unwrap_or(""));
        let index: usize = index
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| bad(line))?;
        if kind != Some("superseded") && index >= directives {
            return Err(bad(line));
        }
        match kind {
            Some("module") => {
                let (so, prefix) = rest.split_once(' ').ok_or_else(|| bad(line))?;
                let lib = libraries.entry(so.to_string()).or_insert_with(|| {
                    Library::open(&PathBuf::from(dir).join(so)).map_err(|e| e.to_string())
                });
                let module = match lib {
                    Ok(lib) => lib.module(prefix).map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                prepared.modules.insert(index, module);
            }
            Some("error") => {
                prepared.modules.insert(index, Err(unescape(rest)));
            }
            Some("check") => {
                let verdict = match rest.split_once(' ') {
                    None if rest == "ok" => Ok(()),
                    Some(("fail", e)) => Err(unescape(e)),
                    _ => return Err(bad(line)),
                };
                prepared.checks.insert(index, verdict);
            }
            Some("superseded") => prepared.superseded_seen.push(index),
            _ => return Err(bad(line)),
        }
    }
    Ok(prepared)
}

/// One line per entry: newlines and backslashes escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// `suite-file` (`memory64/address.wast` → `memory64-address`): script
/// names repeat across suites.
pub fn work_dir_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script".into());
    match file.parent().and_then(|p| p.file_name()) {
        Some(parent) => format!("{}-{stem}", parent.to_string_lossy()),
        None => stem,
    }
}

pub fn sanitize(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::{escape, unescape};

    #[test]
    fn manifest_text_roundtrips() {
        for s in [
            "plain",
            "two\nlines",
            "back\\slash\\n",
            "cr\r",
            "trailing\\",
        ] {
            let e = escape(s);
            assert!(!e.contains('\n'), "{e:?}");
            assert_eq!(unescape(&e), s);
        }
    }
}
