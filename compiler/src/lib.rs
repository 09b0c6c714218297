//! wasm2o's compiler: WebAssembly bytes in, a native object (and a C header) out.
//!
//! The pipeline runs in stages with a plain value between each:
//! parse + validate (`module`) → translate each function to CLIF
//! (`translate`) → compile and emit the object (`emit`) → C header
//! (`header`).

mod addresses;
mod clif;
pub mod emit;
pub mod error;
pub mod header;
mod hoist;
mod latch;
pub mod memctl;
pub mod module;
mod ranges;
pub mod target;
pub mod translate;
mod zext;

pub use error::Error;
pub use wasm2o_runtime::{abi, desc};

/// How much Cranelift optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// `-O0`: no optimisation (fast compiles).
    None,
    /// `-O1`: speed (same as `-O2` today).
    Speed,
    /// `-O2` (default): speed.
    #[default]
    SpeedAndSize,
}

/// Whether memory accesses get explicit bounds checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BoundsChecks {
    /// 32-bit memories rely on the 4 GiB reservation + guard; memory64 is checked.
    #[default]
    Auto,
    /// Every access is checked explicitly (hosts with little address space).
    Always,
}

/// Compilation options (the `wasm2o compile` flags).
#[derive(Clone, Debug)]
pub struct Options {
    /// Symbol prefix; every global symbol of the object starts with it.
    pub prefix: String,
    /// Target triple; `None` means the host.
    pub target: Option<String>,
    pub opt_level: OptLevel,
    /// `--cpu`: the instruction-set level (`target::cpu_levels`); `None`
    /// is the architecture's baseline.
    pub cpu: Option<String>,
    pub bounds_checks: BoundsChecks,
    /// Threads used to compile functions (0 = number of CPUs). Output does
    /// not depend on it.
    pub jobs: usize,
    /// `--memory-control` lines; each replaces the custom section's line for
    /// its memory.
    pub memory_control: Vec<String>,
    /// Also produce the C header.
    pub header: bool,
    /// Name of the input, used in error messages.
    pub input_name: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            prefix: "module".to_string(),
            target: None,
            opt_level: OptLevel::default(),
            cpu: None,
            bounds_checks: BoundsChecks::default(),
            jobs: 0,
            memory_control: Vec::new(),
            header: false,
            input_name: "<input>".to_string(),
        }
    }
}

/// What `compile` produces.
#[derive(Clone, Debug)]
pub struct Output {
    pub object: Vec<u8>,
    pub header: Option<String>,
}

/// Turns `.wat` text into binary; binary input (starting with `\0asm`) is
/// returned as is.
pub fn wat_to_wasm(bytes: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::msg(format!(
            "{name}: not a WebAssembly binary and not UTF-8 text"
        ))
    })?;
    wat::parse_str(text).map_err(|mut e| {
        e.set_path(name);
        // wat renders `message\n --> file:line:col\n | source...`; keep
        // it to one line: `file:line:col: message`.
        let full = e.to_string();
        let message = full.lines().next().unwrap_or("parse error").trim();
        match full.lines().find_map(|l| l.trim().strip_prefix("--> ")) {
            Some(location) => Error::msg(format!("{location}: {message}")),
            None => Error::msg(format!("{name}: {message}")),
        }
    })
}

/// Compiles a WebAssembly binary to an object file.
pub fn compile(wasm: &[u8], opts: &Options) -> Result<Output, Error> {
    if !is_c_identifier(&opts.prefix) {
        return Err(Error::msg(format!(
            "--prefix {:?} is not a valid C identifier",
            opts.prefix
        )));
    }
    let target = target::Target::new(opts.target.as_deref(), opts)?;
    let mut module = module::parse(wasm, opts).map_err(|e| e.in_file(&opts.input_name))?;
    memctl::apply(&mut module, &opts.memory_control).map_err(|e| e.in_file(&opts.input_name))?;
    let object = emit::emit(&module, &target, opts).map_err(|e| e.in_file(&opts.input_name))?;
    let header = if opts.header {
        Some(header::generate(&module, &opts.prefix))
    } else {
        None
    };
    Ok(Output { object, header })
}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
