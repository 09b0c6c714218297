//! Globals: 16-byte cells shared (via `Arc`) by the exporter and importers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::desc::GlobalType;
use crate::val::Val;

/// `abi` VMGlobal: the value at offset 0 in its natural little-endian
/// representation (an i32 in the low 4 bytes, refs as `usize`).
#[repr(C, align(16))]
#[derive(Debug, Default)]
pub struct VMGlobal {
    pub lo: AtomicU64,
    pub hi: AtomicU64,
}

#[derive(Clone, Debug)]
pub struct Global {
    inner: Arc<GlobalInner>,
}

#[derive(Debug)]
struct GlobalInner {
    ty: GlobalType,
    cell: VMGlobal,
    /// Instances that import this global (a funcref global may hold their
    /// functions).
    keepalive: crate::instance::KeepAlive,
}

impl Global {
    /// Keeps `instance` alive as long as this global.
    pub(crate) fn keep_alive(&self, instance: std::sync::Arc<crate::instance::InstanceInner>) {
        self.inner.keepalive.push(instance);
    }

    /// A new global holding `val` (converted to `ty.ty` by bits).
    pub fn new(ty: GlobalType, val: Val) -> Global {
        let g = Global {
            inner: Arc::new(GlobalInner {
                ty,
                cell: VMGlobal::default(),
                keepalive: Default::default(),
            }),
        };
        g.set_bits(val.to_bits());
        g
    }

    pub fn ty(&self) -> GlobalType {
        self.inner.ty
    }

    pub fn get(&self) -> Val {
        Val::from_bits(self.inner.ty.ty, self.bits())
    }

    /// Sets the value (also for immutable globals: the host may).
    pub fn set(&self, val: Val) {
        self.set_bits(val.to_bits());
    }

    pub(crate) fn bits(&self) -> u64 {
        self.inner.cell.lo.load(Ordering::Relaxed)
    }

    pub(crate) fn set_bits(&self, bits: u64) {
        self.inner.cell.lo.store(bits, Ordering::Relaxed);
    }

    pub(crate) fn cell_ptr(&self) -> *const VMGlobal {
        &self.inner.cell
    }

    /// Whether both handles denote the same object.
    pub fn same(&self, other: &Global) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;
    use crate::desc::ValType;

    #[test]
    fn layout() {
        assert_eq!(std::mem::size_of::<VMGlobal>() as u32, abi::VMGLOBAL_SIZE);
    }

    #[test]
    fn get_set() {
        let g = Global::new(
            GlobalType {
                ty: ValType::I32,
                mutable: true,
            },
            Val::I32(-7),
        );
        assert_eq!(g.get(), Val::I32(-7));
        // The low four bytes hold the i32, little-endian.
        let p = g.cell_ptr() as *const AtomicU64;
        assert_eq!(g.bits() & 0xffff_ffff, 0xffff_fff9);
        let _ = p;
        g.set(Val::I32(3));
        assert_eq!(g.clone().get(), Val::I32(3));
    }
}
