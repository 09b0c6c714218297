//! Makes the `wasm2o` executable export the runtime's `#[no_mangle]` symbols.
//!
//! `wast` and `run` link module objects into a shared library and `dlopen`
//! it; the objects' undefined `wasm2o_rt_*` builtins must resolve against
//! the runtime linked into this executable. Two things are needed:
//!
//! - `-rdynamic` puts the executable's global symbols in its dynamic symbol
//!   table (executables export nothing by default);
//! - `--undefined=NAME` for every builtin, because the runtime arrives as an
//!   rlib (an archive): the linker only pulls the archive members that
//!   resolve something, and nothing in the CLI calls the builtins directly.
//!   An undefined-symbol request makes the linker pull them (and keeps them
//!   through `--gc-sections`).
//!
//! The builtin names come from `runtime-support/src/abi.rs`, the single
//! source of truth, read as text here (a build script cannot `use` the crate
//! it is building against without compiling it twice).

use std::path::Path;

fn main() {
    let abi = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime-support/src/abi.rs");
    println!("cargo:rerun-if-changed={}", abi.display());
    println!("cargo:rerun-if-changed=build.rs");

    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" {
        // Mach-O: `-rdynamic` is `-export_dynamic`; dlopen-based runs are
        // only wired for Linux hosts.
        return;
    }
    println!("cargo:rustc-link-arg-bins=-rdynamic");
    let text = std::fs::read_to_string(&abi).unwrap_or_default();
    for name in builtin_names(&text) {
        println!("cargo:rustc-link-arg-bins=-Wl,--undefined={name}");
    }
}

/// Every `"wasm2o_rt_..."` string literal in abi.rs.
fn builtin_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"wasm2o_rt_") {
        let tail = &rest[i + 1..];
        let end = tail.find('"').unwrap_or(tail.len());
        let name = &tail[..end];
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
        rest = &tail[end..];
    }
    names
}
