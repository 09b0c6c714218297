//! Tables: arrays of pointer-sized references (0 = null; a funcref points
//! at a `VMFuncRef`), reallocated on growth (compiled code reloads the
//! elements pointer from the `VMTableDef` on every access).

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::TrapCode;
use crate::desc::TableType;
use crate::val::Val;

/// Largest number of elements a table may have, whatever its type says.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// `abi` VMTableDef.
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDef {
    pub elements: AtomicPtr<AtomicUsize>,
    pub length: AtomicU64,
}

#[derive(Clone, Debug)]
pub struct Table {
    inner: Arc<TableInner>,
}

#[derive(Debug)]
struct TableInner {
    ty: TableType,
    max: u64,
    def: Box<VMTableDef>,
    /// The element storage `def.elements` points at. Compiled code reads
    /// and writes it directly; the runtime goes through this lock.
    elems: Mutex<Box<[AtomicUsize]>>,
    /// Instances that import this table: their funcrefs may be stored in
    /// it, so they live as long as the table (see `KeepAlive`).
    keepalive: crate::instance::KeepAlive,
}

fn alloc(n: usize, init: usize) -> Box<[AtomicUsize]> {
    (0..n).map(|_| AtomicUsize::new(init)).collect()
}

impl Table {
    /// A table of `ty.min` elements set to `init` (a reference value).
    pub fn new(ty: TableType, init: Val) -> Result<Table, String> {
        let max = ty.max.unwrap_or(u64::MAX).min(MAX_TABLE_ELEMENTS);
        if ty.min > max {
            return Err(format!(
                "table: minimum of {} elements is too large",
                ty.min
            ));
        }
        let elems = alloc(ty.min as usize, init.to_bits() as usize);
        let def = Box::new(VMTableDef {
            elements: AtomicPtr::new(elems.as_ptr() as *mut AtomicUsize),
            length: AtomicU64::new(ty.min),
        });
        Ok(Table {
            inner: Arc::new(TableInner {
                ty,
                max,
                def,
                elems: Mutex::new(elems),
                keepalive: Default::default(),
            }),
        })
    }

    /// Keeps `instance` alive as long as this table.
    pub(crate) fn keep_alive(&self, instance: std::sync::Arc<crate::instance::InstanceInner>) {
        self.inner.keepalive.push(instance);
    }

    /// The table's type with current limits: `min` is the current size.
    pub fn ty(&self) -> TableType {
        TableType {
            min: self.size(),
            ..self.inner.ty
        }
    }

    pub fn size(&self) -> u64 {
        self.inner.def.length.load(Ordering::Acquire)
    }

    pub fn get(&self, index: u64) -> Option<Val> {
        let e = self.lock();
        let v = e.get(usize::try_from(index).ok()?)?.load(Ordering::Relaxed);
        Some(Val::from_bits(self.inner.ty.elem, v as u64))
    }

    /// Sets element `index`; `false` if out of bounds.
    pub fn set(&self, index: u64, val: Val) -> bool {
        let e = self.lock();
        match usize::try_from(index).ok().and_then(|i| e.get(i)) {
            Some(slot) => {
                slot.store(val.to_bits() as usize, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// `table.grow`: returns the old size, or `None` past the limit.
    pub fn grow(&self, delta: u64, init: Val) -> Option<u64> {
        self.grow_raw(delta, init.to_bits() as usize)
    }

    pub(crate) fn grow_raw(&self, delta: u64, init: usize) -> Option<u64> {
        let mut e = self.lock();
        let old = e.len() as u64;
        let new = old.checked_add(delta).filter(|&n| n <= self.inner.max)?;
        if delta == 0 {
            return Some(old);
        }
        let mut v: Vec<AtomicUsize> = Vec::new();
        v.try_reserve_exact(new as usize).ok()?;
        v.extend(
            e.iter()
                .map(|a| AtomicUsize::new(a.load(Ordering::Relaxed))),
        );
        v.extend((old..new).map(|_| AtomicUsize::new(init)));
        let b = v.into_boxed_slice();
        self.inner
            .def
            .elements
            .store(b.as_ptr() as *mut AtomicUsize, Ordering::Release);
        self.inner.def.length.store(new, Ordering::Release);
        *e = b;
        Some(old)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Box<[AtomicUsize]>> {
        self.inner.elems.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `table.fill`, bounds-checked before any write.
    pub(crate) fn fill(&self, dst: u64, val: usize, len: u64) -> Result<(), TrapCode> {
        let e = self.lock();
        let r = range(dst, len, e.len())?;
        e[r].iter().for_each(|a| a.store(val, Ordering::Relaxed));
        Ok(())
    }

    /// Writes `vals` at `dst`, bounds-checked before any write.
    pub(crate) fn init(&self, dst: u64, vals: &[usize]) -> Result<(), TrapCode> {
        let e = self.lock();
        let r = range(dst, vals.len() as u64, e.len())?;
        e[r].iter()
            .zip(vals)
            .for_each(|(a, v)| a.store(*v, Ordering::Relaxed));
        Ok(())
    }

    /// `table.copy` (overlap-safe), bounds-checked before any write.
    pub(crate) fn copy(
        dst_t: &Table,
        src_t: &Table,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let vals: Vec<usize> = {
            let s = src_t.lock();
            let r = range(src, len, s.len())?;
            s[r].iter().map(|a| a.load(Ordering::Relaxed)).collect()
        };
        dst_t.init(dst, &vals)
    }

    pub(crate) fn def_ptr(&self) -> *const VMTableDef {
        &*self.inner.def
    }

    /// Whether both handles denote the same object.
    pub fn same(&self, other: &Table) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

fn range(start: u64, len: u64, size: usize) -> Result<std::ops::Range<usize>, TrapCode> {
    match start.checked_add(len) {
        Some(end) if end <= size as u64 => Ok(start as usize..end as usize),
        _ => Err(TrapCode::TableOutOfBounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;
    use crate::desc::ValType;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout() {
        assert_eq!(size_of::<VMTableDef>() as u32, abi::VMTABLE_DEF_SIZE);
        assert_eq!(
            offset_of!(VMTableDef, elements) as u32,
            abi::VMTABLE_DEF_ELEMENTS
        );
        assert_eq!(
            offset_of!(VMTableDef, length) as u32,
            abi::VMTABLE_DEF_LENGTH
        );
    }

    #[test]
    fn grow_fill_copy() {
        let ty = TableType {
            elem: ValType::ExternRef,
            min: 2,
            max: Some(5),
            table64: false,
        };
        let t = Table::new(ty, Val::ExternRef(0)).unwrap();
        assert_eq!(t.get(1), Some(Val::ExternRef(0)));
        assert_eq!(t.get(2), None);
        assert_eq!(t.grow(2, Val::ExternRef(9)), Some(2));
        assert_eq!(t.size(), 4);
        assert_eq!(t.get(3), Some(Val::ExternRef(9)));
        assert_eq!(t.grow(2, Val::ExternRef(9)), None);
        assert_eq!(
            t.inner.def.elements.load(Ordering::Relaxed) as usize,
            t.lock().as_ptr() as usize
        );
        t.fill(0, 5, 2).unwrap();
        assert_eq!(t.fill(3, 5, 2), Err(TrapCode::TableOutOfBounds));
        assert_eq!(t.get(3), Some(Val::ExternRef(9)));
        Table::copy(&t, &t, 1, 0, 3).unwrap();
        let all: Vec<_> = (0..4).map(|i| t.get(i).unwrap()).collect();
        assert_eq!(
            all,
            [
                Val::ExternRef(5),
                Val::ExternRef(5),
                Val::ExternRef(5),
                Val::ExternRef(9)
            ]
        );
        assert!(t.fill(4, 1, 0).is_ok());
        assert!(Table::new(
            TableType {
                min: 20_000_000,
                max: None,
                ..ty
            },
            Val::ExternRef(0)
        )
        .is_err());
    }
}
