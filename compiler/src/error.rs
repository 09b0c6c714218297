//! The compiler's error type: one line for users, naming file, function and offset.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The input file, when known.
    pub file: Option<String>,
    /// Function index and name, when the error is inside a function body.
    pub func: Option<(u32, Option<String>)>,
    /// Byte offset in the module.
    pub offset: Option<u64>,
    pub message: String,
}

impl Error {
    pub fn msg(message: impl Into<String>) -> Error {
        Error {
            file: None,
            func: None,
            offset: None,
            message: message.into(),
        }
    }

    pub fn at(offset: u64, message: impl Into<String>) -> Error {
        Error {
            offset: Some(offset),
            ..Error::msg(message)
        }
    }

    /// An unsupported feature, named.
    pub fn unsupported(offset: u64, feature: &str) -> Error {
        Error::at(offset, format!("unsupported feature: {feature}"))
    }

    pub fn in_func(mut self, index: u32, name: Option<String>) -> Error {
        if self.func.is_none() {
            self.func = Some((index, name));
        }
        self
    }

    pub fn in_file(mut self, file: &str) -> Error {
        if self.file.is_none() {
            self.file = Some(file.to_string());
        }
        self
    }
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::at(e.offset(), e.message().to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some((index, name)) = &self.func {
            match name {
                Some(n) => write!(f, "function {index} ({n}): ")?,
                None => write!(f, "function {index}: ")?,
            }
        }
        if let Some(off) = self.offset {
            write!(f, "at offset {off:#x}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
