//! Target-specific facts in one place: which triples we support, the ISA
//! flags we compile with, and the object format that follows.

use crate::{Error, OptLevel, Options};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use target_lexicon::Triple;

/// Triples `--target` accepts.
pub const SUPPORTED_TARGETS: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

pub struct Target {
    pub triple: Triple,
    pub isa: OwnedTargetIsa,
}

impl Target {
    pub fn new(triple: Option<&str>, opts: &Options) -> Result<Target, Error> {
        let name = match triple {
            Some(t) => t.to_string(),
            None => host_triple()?,
        };
        if !SUPPORTED_TARGETS.contains(&name.as_str()) {
            return Err(Error::msg(format!(
                "unsupported target {name:?}; supported targets: {}",
                SUPPORTED_TARGETS.join(", ")
            )));
        }
        let triple = Triple::from_str(&name).map_err(|e| Error::msg(format!("bad target {name:?}: {e}")))?;
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v).unwrap_or_else(|e| panic!("cranelift flag {k}={v}: {e}"))
        };
        set(&mut flags, "opt_level", match opts.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed | OptLevel::SpeedAndSize => "speed",
        });
        // Objects are linked into executables and shared libraries alike.
        set(&mut flags, "is_pic", "true");
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" });
        // Wasm NaN results may be any NaN; no canonicalisation needed.
        set(&mut flags, "enable_nan_canonicalization", "false");
        set(&mut flags, "unwind_info", "false");
        let mut builder = isa::lookup(triple.clone()).map_err(|e| Error::msg(format!("target {name}: {e}")))?;
        if name.starts_with("x86_64") {
            // x86-64-v2 baseline: fixed, so output does not depend on the
            // machine that compiles.
            for f in ["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_popcnt"] {
                builder.enable(f).expect("x86 flag exists");
            }
        }
        let isa = builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::msg(format!("target {name}: {e}")))?;
        Ok(Target { triple, isa })
    }
}

fn host_triple() -> Result<String, Error> {
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    match (arch, os) {
        ("x86_64", "linux") => Ok("x86_64-unknown-linux-gnu".into()),
        ("aarch64", "linux") => Ok("aarch64-unknown-linux-gnu".into()),
        _ => Err(Error::msg(format!("no default target for host {arch}-{os}; pass --target"))),
    }
}
