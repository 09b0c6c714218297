//! The CLI's error: one line of text for the user.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    pub fn new(msg: impl Into<String>) -> CliError {
        CliError(crate::one_line(&msg.into()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<wasm2o_compiler::Error> for CliError {
    fn from(e: wasm2o_compiler::Error) -> CliError {
        CliError::new(e.to_string())
    }
}

/// `bail!("...")`-style constructor.
macro_rules! err {
    ($($t:tt)*) => { $crate::error::CliError::new(format!($($t)*)) };
}
pub(crate) use err;

/// Reads a file, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| err!("{}: {e}", path.display()))
}

/// Writes a file, naming it in the error.
pub fn write_file(path: &std::path::Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|e| err!("{}: {e}", path.display()))
}

/// A compiler error about `input`, naming the file even when the compiler's
/// message does not (its text-format errors carry no path).
pub fn in_input(input: &str, e: wasm2o_compiler::Error) -> CliError {
    let msg = e.to_string();
    if msg.contains(input) {
        CliError::new(msg)
    } else {
        CliError::new(format!("{input}: {msg}"))
    }
}
