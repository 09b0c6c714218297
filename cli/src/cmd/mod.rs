//! One file per subcommand; `dispatch` routes the parsed command line.

mod compile;
mod inspect;
mod run;
mod spec_files;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::Result;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Compile(a) => compile::main(a).map(|()| ExitCode::SUCCESS),
        Command::Wast(a) => crate::wast::main(a),
        Command::Run(a) => run::main(a).map(|()| ExitCode::SUCCESS),
        Command::Inspect(a) => inspect::main(a).map(|()| ExitCode::SUCCESS),
        Command::SpecFiles(a) => spec_files::main(a).map(|()| ExitCode::SUCCESS),
    }
}

/// Number of CPUs (at least 1).
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The default symbol prefix for an input file: its stem made a C
/// identifier (`my-mod.wasm` → `my_mod`, `2d.wat` → `_2d`).
pub fn default_prefix(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut p: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if p.is_empty() {
        p = "module".to_string();
    }
    if p.starts_with(|c: char| c.is_ascii_digit()) {
        p.insert(0, '_');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::default_prefix;
    use std::path::Path;

    #[test]
    fn prefixes_are_c_identifiers() {
        assert_eq!(default_prefix(Path::new("dir/my-mod.wasm")), "my_mod");
        assert_eq!(default_prefix(Path::new("2d.wat")), "_2d");
        assert_eq!(default_prefix(Path::new("héllo.wat")), "h_llo");
        assert_eq!(default_prefix(Path::new("")), "module");
    }
}
