//! The test loader: links module objects into a shared library with the
//! system C compiler, loads it into this process and finds the modules.
//!
//! The objects' undefined `wasm2o_rt_*` builtins resolve against this
//! executable, which exports the runtime's symbols (see `cli/build.rs`).
//! This is one of the few places allowed to use `unsafe` (dlopen/dlsym and
//! calling the object's `PREFIX_module` function).

#![allow(unsafe_code)]

use std::ffi::{c_void, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wasm2o_runtime::{abi, Module};

use crate::error::{err, write_file};
use crate::Result;

/// A scratch directory, removed on drop unless it is kept (`--keep`).
pub struct WorkDir {
    pub path: PathBuf,
    keep: bool,
}

impl WorkDir {
    /// `keep`: put the files in `keep/name` and leave them there; otherwise
    /// a fresh directory under the system temp dir.
    pub fn new(keep: Option<&Path>, name: &str) -> Result<WorkDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (path, keep) = match keep {
            Some(dir) => (dir.join(name), true),
            None => {
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let dir =
                    std::env::temp_dir().join(format!("wasm2o-{}-{n}-{name}", std::process::id()));
                (dir, false)
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| err!("{}: {e}", path.display()))?;
        Ok(WorkDir { path, keep })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The C compiler used as linker, as a command line (program and flags).
pub struct Linker {
    words: Vec<String>,
}

impl Linker {
    /// For the host: `$CC` (may carry flags) or `cc`.
    pub fn host() -> Linker {
        Linker::from_env("CC", "cc")
    }

    /// `$VAR` if set and not blank, else `default`; split on white space.
    pub fn from_env(var: &str, default: &str) -> Linker {
        let text = std::env::var(var)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| default.to_string());
        Linker {
            words: text.split_whitespace().map(str::to_string).collect(),
        }
    }

    fn command(&self) -> Command {
        let mut words = self.words.iter();
        let mut cmd = Command::new(words.next().map_or("cc", String::as_str));
        cmd.args(words);
        cmd
    }
}

/// Writes the objects to `dir` and links them into `dir/NAME.so`.
/// `objects` are (prefix, object bytes); each is written as `PREFIX.o`.
pub fn link_shared(
    linker: &Linker,
    dir: &Path,
    name: &str,
    objects: &[(&str, &[u8])],
) -> Result<PathBuf> {
    let mut cmd = linker.command();
    let so = dir.join(format!("{name}.so"));
    cmd.arg("-shared").arg("-o").arg(&so);
    for (prefix, bytes) in objects {
        let path = dir.join(format!("{prefix}.o"));
        write_file(&path, bytes)?;
        cmd.arg(&path);
    }
    let out = cmd.output().map_err(|e| {
        err!(
            "cannot run the C compiler to link ({:?}): {e}",
            cmd.get_program()
        )
    })?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let first: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        return Err(err!(
            "linking {} failed ({}): {}",
            so.display(),
            out.status,
            first.join(" | ")
        ));
    }
    Ok(so)
}

/// A loaded shared library of module objects.
///
/// It is never unloaded: instances, function references and the runtime's
/// trap tables point into its code, and a `dlclose` racing with any of them
/// would turn a bug into a crash far from its cause. A test run loads one
/// library per script, so the leak is bounded.
pub struct Library {
    handle: *mut c_void,
    path: PathBuf,
}

impl Library {
    pub fn open(path: &Path) -> Result<Library> {
        let abs = std::fs::canonicalize(path).map_err(|e| err!("{}: {e}", path.display()))?;
        let c = CString::new(abs.as_os_str().as_encoded_bytes())
            .map_err(|_| err!("{}: NUL in path", abs.display()))?;
        // SAFETY: `c` is a valid NUL-terminated path. Loading runs the
        // library's initialisers; ours (Cranelift objects) have none.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(err!("cannot load {}: {}", abs.display(), dlerror_text()));
        }
        Ok(Library { handle, path: abs })
    }

    /// The module descriptor `PREFIX_module()` returns, decoded by the runtime.
    pub fn module(&self, prefix: &str) -> Result<Arc<Module>> {
        let sym = abi::module_symbol(prefix);
        let c = CString::new(sym.clone()).map_err(|_| err!("bad prefix {prefix:?}"))?;
        // SAFETY: `handle` is a live handle from dlopen (never closed) and `c`
        // a valid C string.
        let f = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        if f.is_null() {
            return Err(err!(
                "{}: no symbol {sym}: {}",
                self.path.display(),
                dlerror_text()
            ));
        }
        // SAFETY: the symbol is the `const wasm2o_module *PREFIX_module(void)`
        // function every object from `wasm2o compile` defines (abi.rs), with
        // the C calling convention.
        let module_fn: extern "C" fn() -> *const abi::RawModule = unsafe { std::mem::transmute(f) };
        let raw = module_fn();
        if raw.is_null() {
            return Err(err!("{sym} returned null"));
        }
        // SAFETY: `raw` points at the descriptor in the loaded library, which
        // stays mapped for the life of the process (never dlclosed); the
        // runtime validates the magic, version and metadata.
        unsafe { Module::from_raw(raw) }.map_err(|e| err!("{sym}: {e}"))
    }
}

fn dlerror_text() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by libc,
    // valid until the next dl* call on this thread; we copy it at once.
    unsafe {
        let p = libc::dlerror();
        if p.is_null() {
            "unknown error".to_string()
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}
