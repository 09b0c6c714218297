//! The command-line grammar (clap derive). Behaviour lives in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "wasm2o",
    version,
    about = "Ahead-of-time WebAssembly compiler: .wasm/.wat to a native .o (with memory-control)",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile a module to a native object file (and optionally a C header).
    Compile(CompileArgs),
    /// Compile, link and run .wast spec scripts.
    ///
    /// Every module a script defines is compiled first and all are linked
    /// into one shared library, loaded into this process; then the
    /// directives run in order. Prints one line per script
    /// (`PASS|FAIL FILE: N passed, N failed`, with the first failures) and
    /// a final `N passed, N failed` line; exits 1 if anything failed.
    /// With several scripts, each runs in its own child process so that a
    /// crash or a hang in one script is reported as that script's failure.
    Wast(WastArgs),
    /// Compile a module, instantiate it without imports and call an export.
    ///
    /// The export is `--invoke NAME`, or else `_start`, or else `main`.
    /// ARGS are parsed by the export's parameter types: integers in decimal
    /// or 0x-hex (i32 accepts -2147483648..4294967295), floats as decimal,
    /// `inf`, `-inf`, `nan`, or `0x...` bit patterns with a `bits:` prefix
    /// (`bits:0x7fc00000`); references only as `null`. Each result is
    /// printed on its own line as `VALUE : TYPE` (e.g. `42 : i32`). A trap
    /// is reported as an error (`wasm2o: error: ... trapped: MESSAGE`) with
    /// exit code 1. Modules with imports (other than the compiler's own
    /// `memory-control` operations) are refused, listing the imports.
    Run(RunArgs),
    /// Show what an object produced by `wasm2o compile` holds.
    Inspect(InspectArgs),
    /// Write the official spec test scripts wasm2o runs to a directory.
    #[command(hide = true)]
    SpecFiles(SpecFilesArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoundsChecksArg {
    /// Guard pages for 32-bit memories, explicit checks for memory64.
    Auto,
    /// Explicit checks on every access.
    Always,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptArg {
    #[value(name = "0")]
    O0,
    #[value(name = "1")]
    O1,
    #[value(name = "2")]
    O2,
}

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Input module: binary .wasm or text .wat.
    pub input: PathBuf,
    /// Output object file.
    #[arg(short = 'o', long = "output", value_name = "OUT.o")]
    pub output: PathBuf,
    /// Also write a C header with typed wrappers.
    #[arg(long, value_name = "OUT.h")]
    pub header: Option<PathBuf>,
    /// Symbol prefix (default: the input file's stem made a C identifier).
    #[arg(long, value_name = "NAME")]
    pub prefix: Option<String>,
    /// Target triple (default: the host).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Instruction-set level: x86-64-v2 (default) or x86-64-v3 for x86-64
    /// targets, armv8-a (default) or armv8.1-a for aarch64. The runtime
    /// refuses a module on a CPU without the level's features.
    #[arg(long, value_name = "LEVEL")]
    pub cpu: Option<String>,
    /// Optimisation level: -O0, -O1 or -O2.
    #[arg(short = 'O', value_enum, default_value = "2", value_name = "LEVEL")]
    pub opt: OptArg,
    /// A memory-control line (`memory <index> [no-access=N] [read-only=N]
    /// [virtual] [immutable]`); replaces the module's line for that memory.
    #[arg(long = "memory-control", value_name = "SPEC")]
    pub memory_control: Vec<String>,
    /// Bounds-checking strategy.
    #[arg(long = "bounds-checks", value_enum, default_value = "auto")]
    pub bounds_checks: BoundsChecksArg,
    /// Threads used to compile functions (default: all CPUs). The object is
    /// byte-identical whatever this is.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Args, Debug)]
pub struct WastArgs {
    /// The scripts.
    #[arg(required = true, value_name = "FILE.wast")]
    pub files: Vec<PathBuf>,
    /// Target triple (default: the host). A Linux target other than the
    /// host runs under an emulator: modules are compiled and linked here,
    /// and a build of wasm2o for that target runs the script under qemu
    /// (see docs/cross.md for the tools and the WASM2O_CROSS_* variables).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Instruction-set level: x86-64-v2 (default) or x86-64-v3 for x86-64
    /// targets, armv8-a (default) or armv8.1-a for aarch64. The runtime
    /// refuses a module on a CPU without the level's features.
    #[arg(long, value_name = "LEVEL")]
    pub cpu: Option<String>,
    /// Scripts run at once (default: all CPUs).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Keep the objects and shared libraries in DIR (one subdirectory per script).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Failures shown per script.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub show: usize,
    /// Seconds a script may run before it counts as failed (child processes only).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
    /// Run every script in this process, on threads, instead of child processes.
    #[arg(long)]
    pub in_process: bool,
    /// Internal (cross-target runs): run one script whose modules another
    /// wasm2o compiled and linked into DIR (with its manifest).
    #[arg(long, value_name = "DIR", hide = true)]
    pub precompiled: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Input module: binary .wasm or text .wat.
    pub input: PathBuf,
    /// The export to call (default: `_start`, else `main`).
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Arguments of the export, parsed by its parameter types.
    #[arg(allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// An object produced by `wasm2o compile`.
    pub object: PathBuf,
}

#[derive(Args, Debug)]
pub struct SpecFilesArgs {
    /// Directory to write into (created; one subdirectory per suite).
    pub out_dir: PathBuf,
}
