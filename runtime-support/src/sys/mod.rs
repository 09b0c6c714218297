//! The operating-system layer: everything that talks to the kernel or the
//! CPU directly. Most of the runtime's `unsafe` lives here.

pub mod anon;
pub mod enter;
pub mod mmap;
pub mod registry;
pub mod remap;
pub mod signals;
pub mod stack;
pub mod tls;
pub mod vmctx;
