//! wasm2o's runtime: instances, linear memories, tables, globals, trap
//! handling and the C API, for objects produced by `wasm2o compile`.
//!
//! `unsafe` lives in `sys/` (mmap, signals, the entry trampoline, the vmctx
//! allocation, the signal-safe registries), `module.rs` (reading the raw
//! descriptor), `builtins.rs` and `builtins_memctl.rs` (entry points called
//! by compiled code) and `capi.rs`, `capi_memctl.rs` (the C API).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod desc;

mod builtins;
mod builtins_memctl;
pub mod capi;
mod capi_memctl;
mod func;
mod global;
mod host_map;
mod image;
mod instance;
mod mapping;
mod memory;
mod module;
mod pagemap;
mod parking;
mod sys;
mod table;
mod trap;
mod types;
mod val;

pub use builtins::builtin_symbols;
pub use func::Func;
pub use global::{Global, VMGlobal};
pub use host_map::{MapFlags, SharedBuffer};
pub use instance::{Extern, Instance, InstanceOptions};
pub use memory::{Memory, VMMemoryDef};
pub use module::Module;
pub use table::{Table, VMTableDef};
pub use trap::{refused, CallError, InstantiateError, Trap};
pub use types::{intern_signature, VMFuncRef};
pub use val::Val;

/// Installs the runtime's signal handlers (idempotent). Instantiation does
/// this itself; call it earlier only to fix the order in which handlers
/// chain (handlers installed before this call are chained to).
pub fn init() {
    sys::signals::init();
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_host_map;
#[cfg(test)]
mod tests_image;
#[cfg(test)]
mod tests_memory_control;
#[cfg(test)]
mod tests_shared_memctl;
