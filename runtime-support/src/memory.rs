//! Linear memories: a reservation made once (so `base` never moves), whose
//! accessible part grows with `mprotect`.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::abi::{self, TrapCode, WASM_PAGE_SIZE};
use crate::desc::MemoryType;
use crate::sys::mmap::Mmap;
use crate::sys::registry;
use crate::trap::Trap;

/// `abi` VMMemoryDef, owned by the memory and shared by importers.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDef {
    pub base: AtomicPtr<u8>,
    /// Current size in bytes.
    pub length: AtomicU64,
}

impl VMMemoryDef {
    pub fn new(base: *mut u8, length: u64) -> VMMemoryDef {
        VMMemoryDef {
            base: AtomicPtr::new(base),
            length: AtomicU64::new(length),
        }
    }
}

/// Pages a 32-bit memory can ever have.
const MAX_PAGES32: u64 = 1 << 16;

/// A linear memory.
///
/// ```text
///  base (never moves)
///  |
///  v  no-access      read-only       read-write (the type's min..max)
///  +--------------+---------------+---------------------------+ - - - - - - - - - + ----------+
///  | prefix pages | prefix pages  | committed: PROT_READ|WRITE| reserved PROT_NONE | guard     |
///  +--------------+---------------+---------------------------+ - - - - - - - - - + ----------+
///  0              na*64K          (na+ro)*64K          length = pages*64K     max span   +GUARD_SIZE
///
///  32-bit memory: max span = 4 GiB, reservation = MEMORY32_RESERVATION
///                 (4 GiB + 32 MiB guard), so no access needs a bounds check.
///  memory64:      max span = min(max pages*64K, MEMORY64_MAX_RESERVATION),
///                 reservation = max span + GUARD_SIZE (explicit checks).
/// ```
///
/// `length` (in the shared [`VMMemoryDef`]) counts every page, prefix
/// included; `grow` extends only the read-write part. A fault inside the
/// reservation below `length` is "access denied" (a protected page), above
/// it "out of bounds". The prefix protections are applied by
/// memory-control (not yet: the prefix is read-write for now).
#[derive(Clone, Debug)]
pub struct Memory {
    pub(crate) inner: Arc<MemoryInner>,
}

#[derive(Debug)]
#[doc(hidden)]
pub struct MemoryInner {
    ty: MemoryType,
    /// Dropped after the def is unregistered (see `Drop`).
    map: Mmap,
    def: Box<VMMemoryDef>,
    /// Pages in the no-access and read-only prefix.
    prefix_pages: u64,
    /// Largest total page count `grow` may reach.
    max_pages: u64,
    grow_lock: Mutex<()>,
    slot: usize,
}

impl MemoryInner {
    pub(crate) fn data_ptr(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.def.length.load(Ordering::Acquire)
    }
}

impl Drop for MemoryInner {
    fn drop(&mut self) {
        registry::unregister_memory(self.slot);
    }
}

impl Memory {
    /// Reserves and commits a memory of type `ty` (its `min` pages, plus any
    /// memory-control prefix, accessible and zeroed).
    pub fn new(ty: MemoryType) -> Result<Memory, String> {
        let prefix = ty
            .control
            .no_access_pages
            .checked_add(ty.control.read_only_pages)
            .ok_or("memory: prefix too large")?;
        let min = prefix.checked_add(ty.min).ok_or("memory: size too large")?;
        let (max_pages, reserve) = if ty.memory64 {
            let max_bytes = ty
                .max
                .and_then(|m| m.checked_add(prefix))
                .and_then(|m| m.checked_mul(WASM_PAGE_SIZE))
                .unwrap_or(u64::MAX)
                .min(abi::MEMORY64_MAX_RESERVATION);
            (max_bytes / WASM_PAGE_SIZE, max_bytes + abi::GUARD_SIZE)
        } else {
            let max = ty
                .max
                .map_or(MAX_PAGES32, |m| m.saturating_add(prefix))
                .min(MAX_PAGES32);
            (max, abi::MEMORY32_RESERVATION)
        };
        if min > max_pages {
            return Err(format!("memory: minimum of {min} pages exceeds the reservation"));
        }
        let reserve = usize::try_from(reserve).map_err(|_| "memory: reservation too large for this host")?;
        let map = Mmap::reserve(reserve).map_err(|e| format!("memory: cannot reserve {reserve} bytes: {e}"))?;
        let len = min * WASM_PAGE_SIZE;
        map.make_accessible(0, len as usize)
            .map_err(|e| format!("memory: cannot commit {len} bytes: {e}"))?;
        let def = Box::new(VMMemoryDef::new(map.as_ptr(), len));
        let slot = registry::register_memory(map.as_ptr() as usize, map.len(), &*def)
            .ok_or("memory: too many memories (registry full)")?;
        Ok(Memory {
            inner: Arc::new(MemoryInner {
                ty,
                map,
                def,
                prefix_pages: prefix,
                max_pages,
                grow_lock: Mutex::new(()),
                slot,
            }),
        })
    }

    /// The memory's type with current limits: `min` is the current size of
    /// the read-write part in pages.
    pub fn ty(&self) -> MemoryType {
        MemoryType {
            min: self.pages() - self.inner.prefix_pages,
            ..self.inner.ty
        }
    }

    /// Current size in bytes (all pages).
    pub fn size_bytes(&self) -> u64 {
        self.inner.def.length.load(Ordering::Acquire)
    }

    /// Current size in pages (all pages).
    pub fn pages(&self) -> u64 {
        self.size_bytes() / WASM_PAGE_SIZE
    }

    pub fn data_ptr(&self) -> *mut u8 {
        self.inner.map.as_ptr()
    }

    /// `memory.grow`: returns the old size in pages, or `None` if the
    /// memory cannot grow by `delta_pages`.
    pub fn grow(&self, delta_pages: u64) -> Option<u64> {
        let _g = self.inner.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.pages();
        if delta_pages == 0 {
            return Some(old);
        }
        let c = &self.inner.ty.control;
        if c.immutable || c.is_virtual {
            return None;
        }
        let new = old.checked_add(delta_pages).filter(|&n| n <= self.inner.max_pages)?;
        let start = (old * WASM_PAGE_SIZE) as usize;
        let len = ((new - old) * WASM_PAGE_SIZE) as usize;
        self.inner.map.make_accessible(start, len).ok()?;
        self.inner.def.length.store(new * WASM_PAGE_SIZE, Ordering::Release);
        Some(old)
    }

    /// Checks `[offset, offset+len)` against the current size.
    pub(crate) fn check_range(&self, offset: u64, len: u64) -> Result<usize, TrapCode> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size_bytes() => Ok(offset as usize),
            _ => Err(TrapCode::MemoryOutOfBounds),
        }
    }

    fn oob(&self, offset: u64) -> Trap {
        Trap {
            address: Some(offset),
            ..Trap::new(TrapCode::MemoryOutOfBounds)
        }
    }

    /// Host read; out of bounds is a trap value, never a fault.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let off = self
            .check_range(offset, buf.len() as u64)
            .map_err(|_| self.oob(offset))?;
        self.inner.map.read(off, buf);
        Ok(())
    }

    /// Host write; out of bounds is a trap value and writes nothing.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), Trap> {
        let off = self
            .check_range(offset, data.len() as u64)
            .map_err(|_| self.oob(offset))?;
        self.inner.map.write(off, data);
        Ok(())
    }

    /// The maximum of the type (read-write part), as declared.
    pub(crate) fn inner_max(&self) -> Option<u64> {
        self.inner.ty.max
    }

    pub(crate) fn map(&self) -> &Mmap {
        &self.inner.map
    }

    pub(crate) fn def_ptr(&self) -> *const VMMemoryDef {
        &*self.inner.def
    }

    /// Whether both handles denote the same object.
    pub fn same(&self, other: &Memory) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desc::MemoryControl;
    use std::mem::{offset_of, size_of};

    fn ty(min: u64, max: Option<u64>, memory64: bool) -> MemoryType {
        MemoryType {
            min,
            max,
            memory64,
            shared: false,
            control: MemoryControl::default(),
        }
    }

    #[test]
    fn layout() {
        assert_eq!(size_of::<VMMemoryDef>() as u32, abi::VMMEMORY_DEF_SIZE);
        assert_eq!(offset_of!(VMMemoryDef, base) as u32, abi::VMMEMORY_DEF_BASE);
        assert_eq!(offset_of!(VMMemoryDef, length) as u32, abi::VMMEMORY_DEF_LENGTH);
    }

    #[test]
    fn grow_and_limits() {
        let m = Memory::new(ty(1, Some(3), false)).unwrap();
        assert_eq!(m.size_bytes(), 65536);
        m.write(65530, b"hello!").unwrap();
        assert!(m.write(65531, b"hello!").is_err());
        assert_eq!(m.grow(0), Some(1));
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
        assert_eq!(m.ty().min, 3);
        m.write(3 * 65536 - 1, &[7]).unwrap();
        let mut b = [0u8; 6];
        m.read(65530, &mut b).unwrap();
        assert_eq!(&b, b"hello!");
        let e = m.read(3 * 65536, &mut b).unwrap_err();
        assert_eq!(e.code, TrapCode::MemoryOutOfBounds);
    }

    #[test]
    fn unbounded_32bit_and_64bit() {
        let m = Memory::new(ty(0, None, false)).unwrap();
        assert_eq!(m.grow(65537), None);
        assert_eq!(m.grow(2), Some(0));
        let m64 = Memory::new(ty(1, Some(4), true)).unwrap();
        assert_eq!(m64.grow(3), Some(1));
        assert_eq!(m64.grow(1), None);
        assert!(Memory::new(ty(5, Some(4), true)).is_err());
    }

    #[test]
    fn registered_for_the_signal_handler() {
        let m = Memory::new(ty(1, None, false)).unwrap();
        let base = m.data_ptr() as usize;
        let f = registry::find_memory(base + 100).unwrap();
        assert!(f.within_length);
        let f = registry::find_memory(base + 70000).unwrap();
        assert_eq!((f.wasm_address, f.within_length), (70000, false));
        drop(m);
        assert!(registry::find_memory(base + 100).is_none_or(|f| f.base != base));
    }
}
