//! Linear memories: a reservation made once (so `base` never moves), whose
//! accessible part grows with `mprotect`.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::abi::{self, TrapCode, WASM_PAGE_SIZE};
use crate::desc::MemoryType;
use crate::sys::mmap::Mmap;
use crate::sys::registry;
use crate::trap::{refused, RuntimeTrap, Trap};

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
///  | PROT_NONE    | PROT_READ     | committed: PROT_READ|WRITE| reserved PROT_NONE | guard     |
///  +--------------+---------------+---------------------------+ - - - - - - - - - + ----------+
///  0              ro_base         rw_base              length = pages*64K     max span   +GUARD_SIZE
///                 = na*64K        = (na+ro)*64K
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
/// it "out of bounds". Page protections do all the checking for compiled
/// loads and stores; the runtime's own accesses (bulk operations, host
/// reads and writes, discard) check `ro_base`/`rw_base` first.
///
/// Pages holding a large data segment may be private (copy-on-write)
/// mappings of the module's data image rather than anonymous pages (see
/// `image`); they take the same protections, and discard replaces them
/// (`mapping::discard_mapped`).
///
/// A memory is created with its read-only prefix writable; it is *sealed*
/// (prefix made `PROT_READ`, or for an `immutable` memory everything) by
/// [`Memory::new`] at once, or by instantiation once the defining module's
/// active data segments ran and before its start function.
#[derive(Clone, Debug)]
pub struct Memory {
    pub(crate) inner: Arc<MemoryInner>,
}

#[derive(Debug)]
#[doc(hidden)]
pub struct MemoryInner {
    pub(crate) ty: MemoryType,
    /// Dropped after the def is unregistered (see `Drop`).
    pub(crate) map: Mmap,
    def: Box<VMMemoryDef>,
    /// Pages in the no-access and read-only prefix.
    prefix_pages: u64,
    /// Bytes below this are no-access.
    ro_base: u64,
    /// Bytes below this are read-only (or no-access) once sealed.
    pub(crate) rw_base: u64,
    /// Largest total page count `grow` may reach.
    max_pages: u64,
    /// Whether the protections of the prefix (or, if immutable, of the
    /// whole memory) are applied.
    sealed: AtomicBool,
    /// Serialises `grow` and `seal`.
    grow_lock: Mutex<()>,
    slot: usize,
    /// Page states beyond the static layout (virtual memories, host file
    /// mappings) and the lock of map/unmap/protect: see `mapping`.
    pub(crate) ctl: crate::mapping::Control,
}

impl MemoryInner {
    pub(crate) fn data_ptr(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.def.length.load(Ordering::Acquire)
    }

    /// The common case of a bulk operation, without the page map: in a
    /// memory with no static prefix, no page ever mapped or protected
    /// beyond the default, (for a write) not immutable, and
    /// `[offset, offset+len)` in bounds, every byte of the range is
    /// accessible. Returns its address; `None` sends the caller down the
    /// full checks (which also report the trap).
    #[inline]
    pub(crate) fn fast_range(&self, offset: u64, len: u64, write: bool) -> Option<*mut u8> {
        if self.rw_base != 0 || (write && self.ty.control.immutable) || self.ctl.is_active() {
            return None;
        }
        let end = offset.checked_add(len)?;
        if end > self.size_bytes() {
            return None;
        }
        // In bounds of the committed size, which lies inside the mapping.
        Some(self.map.as_ptr().wrapping_add(offset as usize))
    }

    fn trap_at(&self, code: TrapCode, address: u64) -> RuntimeTrap {
        RuntimeTrap {
            code,
            address: Some(address),
            memory_base: self.data_ptr() as usize,
            reason: None,
        }
    }

    /// `[offset, offset+len)` lies within the current size (computed
    /// without wrap-around; an empty range at the end is fine). Returns the
    /// offset as a `usize`; out of bounds is reported at `offset`.
    pub(crate) fn in_bounds(&self, offset: u64, len: u64) -> Result<usize, RuntimeTrap> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size_bytes() => Ok(offset as usize),
            _ => Err(self.trap_at(TrapCode::MemoryOutOfBounds, offset)),
        }
    }

    /// Write permission for `[offset, offset+len)` (bounds already
    /// checked). `init`: a write by the defining module's active data
    /// segments, which may also write the read-only part until the memory
    /// is sealed. Empty ranges are always allowed.
    pub(crate) fn check_write(&self, offset: u64, len: u64, init: bool) -> Result<(), RuntimeTrap> {
        self.check_static_write(offset, len, init)?;
        self.ctl
            .check_access(self.data_ptr() as usize, offset, len, true)
    }

    /// The static part of [`MemoryInner::check_write`]: the prefix and
    /// immutability, not the page states.
    fn check_static_write(&self, offset: u64, len: u64, init: bool) -> Result<(), RuntimeTrap> {
        if len == 0 {
            return Ok(());
        }
        let floor = if init && !self.sealed.load(Ordering::Acquire) {
            self.ro_base
        } else if self.ty.control.immutable {
            return Err(self.trap_at(TrapCode::MemoryAccessDenied, offset));
        } else {
            self.rw_base
        };
        if offset < floor {
            return Err(self.trap_at(TrapCode::MemoryAccessDenied, offset));
        }
        Ok(())
    }

    /// Read permission for `[offset, offset+len)` (bounds already checked).
    pub(crate) fn check_read(&self, offset: u64, len: u64) -> Result<(), RuntimeTrap> {
        if len != 0 && offset < self.ro_base {
            return Err(self.trap_at(TrapCode::MemoryAccessDenied, offset));
        }
        self.ctl
            .check_access(self.data_ptr() as usize, offset, len, false)
    }

    /// Bounds, then write permission.
    pub(crate) fn writable(&self, offset: u64, len: u64) -> Result<usize, RuntimeTrap> {
        let off = self.in_bounds(offset, len)?;
        self.check_write(offset, len, false)?;
        Ok(off)
    }

    /// Bounds, then read permission.
    pub(crate) fn readable(&self, offset: u64, len: u64) -> Result<usize, RuntimeTrap> {
        let off = self.in_bounds(offset, len)?;
        self.check_read(offset, len)?;
        Ok(off)
    }

    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), RuntimeTrap> {
        let (len, base) = (buf.len() as u64, self.data_ptr() as usize);
        let off = self.in_bounds(offset, len)?;
        if len != 0 && offset < self.ro_base {
            return Err(self.trap_at(TrapCode::MemoryAccessDenied, offset));
        }
        self.ctl
            .checked_copy(base, offset, len, false, || self.map.read(off, buf))
    }

    pub(crate) fn write(&self, offset: u64, data: &[u8], init: bool) -> Result<(), RuntimeTrap> {
        let (len, base) = (data.len() as u64, self.data_ptr() as usize);
        let off = self.in_bounds(offset, len)?;
        self.check_static_write(offset, len, init)?;
        self.ctl
            .checked_copy(base, offset, len, true, || self.map.write(off, data))
    }

    /// `memory.discard`: checks in the design's order — (1) `addr`/`size`
    /// not multiples of 64 KiB: refused "unaligned"; (2) past the size:
    /// out of bounds; (3) a non-empty range touching the no-access or
    /// read-only part, or any in an immutable memory: access denied — then
    /// zeroes the range and gives its pages back. Never fails for resource
    /// reasons (falls back to writing zeros).
    pub(crate) fn discard(&self, addr: u64, size: u64) -> Result<(), RuntimeTrap> {
        if !addr.is_multiple_of(WASM_PAGE_SIZE) || !size.is_multiple_of(WASM_PAGE_SIZE) {
            return Err(RuntimeTrap {
                memory_base: self.data_ptr() as usize,
                reason: Some(refused::UNALIGNED),
                ..RuntimeTrap::from(TrapCode::MemoryControlRefused)
            });
        }
        let off = self.in_bounds(addr, size)?;
        if size == 0 {
            return Ok(());
        }
        if self.ty.control.immutable || addr < self.rw_base {
            return Err(self.trap_at(TrapCode::MemoryAccessDenied, addr));
        }
        let len = size as usize;
        // Virtual memories, host mappings, data images: every page must be
        // writable, and file and data-image pages need more than
        // MADV_DONTNEED; checked and done under the lock of map/unmap/
        // protect (see `mapping::discard_mapped`).
        if self.ctl.has_page_states() {
            return crate::mapping::discard_mapped(self, addr, size);
        }
        if self.map.discard(off, len).is_err() {
            self.map.fill(off, 0, len);
        }
        Ok(())
    }

    /// Applies the static protections (idempotent): the read-only prefix
    /// becomes `PROT_READ`; an immutable memory becomes read-only whole.
    pub(crate) fn seal(&self) -> Result<(), String> {
        let _g = self.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.sealed.load(Ordering::Acquire) {
            return Ok(());
        }
        let end = if self.ty.control.immutable {
            self.size_bytes()
        } else {
            self.rw_base
        };
        let (start, len) = (self.ro_base as usize, (end - self.ro_base) as usize);
        self.map
            .protect(start, len, libc::PROT_READ)
            .map_err(|e| format!("memory: cannot protect the read-only part: {e}"))?;
        self.sealed.store(true, Ordering::Release);
        Ok(())
    }
}

impl Drop for MemoryInner {
    fn drop(&mut self) {
        registry::unregister_memory(self.slot);
    }
}

impl Memory {
    /// Reserves and commits a memory of type `ty` (its `min` pages, plus any
    /// memory-control prefix), zeroed, with its static protections applied
    /// (pages `[0, no_access)` inaccessible, `[no_access, no_access +
    /// read_only)` read-only, or the whole memory read-only if immutable).
    /// A `virtual` memory (min == max) is reserved whole with every page
    /// unmapped (see `mapping`).
    pub fn new(ty: MemoryType) -> Result<Memory, String> {
        let m = Memory::new_unsealed(ty)?;
        m.inner.seal()?;
        Ok(m)
    }

    /// [`Memory::new`] with the read-only part (or the immutable memory)
    /// still writable, for the defining module's data segments; instantiation
    /// seals it before the start function.
    pub(crate) fn new_unsealed(ty: MemoryType) -> Result<Memory, String> {
        let na = ty.control.no_access_pages;
        let prefix = na
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
            return Err(format!(
                "memory: minimum of {min} pages exceeds the reservation"
            ));
        }
        let reserve =
            usize::try_from(reserve).map_err(|_| "memory: reservation too large for this host")?;
        // A shared memory's pages are a memfd's (see `Mmap::reserve_shared`),
        // so discard can really zero them for every thread.
        let map = if ty.shared {
            Mmap::reserve_shared(reserve, (max_pages * WASM_PAGE_SIZE) as usize)
        } else {
            Mmap::reserve(reserve)
        };
        let map = map.map_err(|e| format!("memory: cannot reserve {reserve} bytes: {e}"))?;
        let len = min * WASM_PAGE_SIZE;
        let ro_base = na * WASM_PAGE_SIZE;
        // The no-access pages stay as reserved (PROT_NONE), and so does a
        // virtual memory: its pages start unmapped.
        if !ty.control.is_virtual {
            map.make_accessible(ro_base as usize, (len - ro_base) as usize)
                .map_err(|e| format!("memory: cannot commit {len} bytes: {e}"))?;
        }
        let def = Box::new(VMMemoryDef::new(map.as_ptr(), len));
        let slot = registry::register_memory(map.as_ptr() as usize, map.len(), &*def)
            .ok_or("memory: too many memories (registry full)")?;
        Ok(Memory {
            inner: Arc::new(MemoryInner {
                ty,
                map,
                def,
                prefix_pages: prefix,
                ro_base,
                rw_base: prefix * WASM_PAGE_SIZE,
                max_pages,
                sealed: AtomicBool::new(false),
                grow_lock: Mutex::new(()),
                slot,
                ctl: crate::mapping::Control::new(ty.control.is_virtual, ty.shared, max_pages),
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

    /// First readable byte: `no_access_pages * 64 KiB`.
    pub fn read_only_base(&self) -> u64 {
        self.inner.ro_base
    }

    /// First writable byte: `(no_access_pages + read_only_pages) * 64 KiB`
    /// (an immutable memory has no writable byte after instantiation).
    pub fn read_write_base(&self) -> u64 {
        self.inner.rw_base
    }

    /// `memory.grow`: extends the read-write part by `delta_pages` and
    /// returns the old size in pages (all pages), or `None` if the memory
    /// cannot grow by `delta_pages` (beyond `no_access + read_only + max`,
    /// beyond 65536 pages for a 32-bit memory; an immutable memory always
    /// fails, even for 0 pages).
    pub fn grow(&self, delta_pages: u64) -> Option<u64> {
        let _g = self
            .inner
            .grow_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let c = &self.inner.ty.control;
        if c.immutable {
            // Cannot grow at all: even `memory.grow 0` returns -1.
            return None;
        }
        let old = self.pages();
        if delta_pages == 0 {
            return Some(old);
        }
        if c.is_virtual {
            return None;
        }
        let new = old
            .checked_add(delta_pages)
            .filter(|&n| n <= self.inner.max_pages)?;
        let start = (old * WASM_PAGE_SIZE) as usize;
        let len = ((new - old) * WASM_PAGE_SIZE) as usize;
        self.inner.map.make_accessible(start, len).ok()?;
        self.inner
            .def
            .length
            .store(new * WASM_PAGE_SIZE, Ordering::Release);
        Some(old)
    }

    /// Host read: out of bounds, or reading the no-access part, is a trap
    /// value (never a fault).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Trap> {
        self.inner.read(offset, buf).map_err(|t| t.into_trap(None))
    }

    /// Host write: out of bounds, or writing below the read-write part (or
    /// anything in an immutable memory), is a trap value and writes nothing.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), Trap> {
        self.inner
            .write(offset, data, false)
            .map_err(|t| t.into_trap(None))
    }

    /// The host's `memory.discard`: zeroes `[addr, addr+size)` and gives
    /// its pages back, with the checks of `memory.discard` ("memory-control
    /// request refused: unaligned", out of bounds, access denied).
    pub fn discard(&self, addr: u64, size: u64) -> Result<(), Trap> {
        self.inner
            .discard(addr, size)
            .map_err(|t| t.into_trap(None))
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
pub(crate) mod tests {
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
        assert_eq!(
            offset_of!(VMMemoryDef, length) as u32,
            abi::VMMEMORY_DEF_LENGTH
        );
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

    const P: u64 = WASM_PAGE_SIZE;

    fn ctl(min: u64, max: Option<u64>, na: u64, ro: u64) -> MemoryType {
        MemoryType {
            control: MemoryControl {
                no_access_pages: na,
                read_only_pages: ro,
                ..Default::default()
            },
            ..ty(min, max, false)
        }
    }

    /// The `/proc/self/maps` line of the mapping holding `addr`.
    pub(crate) fn maps_line(addr: usize) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let range = line.split_whitespace().next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            let (a, b) = (
                usize::from_str_radix(a, 16).unwrap(),
                usize::from_str_radix(b, 16).unwrap(),
            );
            if (a..b).contains(&addr) {
                return line.to_string();
            }
        }
        panic!("{addr:#x} not mapped")
    }

    /// The protection of the page holding `addr`, from /proc/self/maps
    /// (e.g. "r--p").
    pub(crate) fn prot_at(addr: usize) -> String {
        maps_line(addr)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    fn code(r: Result<(), Trap>) -> Option<(TrapCode, Option<u64>)> {
        r.err().map(|t| (t.code, t.address))
    }

    #[test]
    fn protection_layout() {
        // 1 no-access page, 2 read-only pages, 1 read-write page.
        let m = Memory::new(ctl(1, Some(3), 1, 2)).unwrap();
        assert_eq!((m.pages(), m.size_bytes(), m.ty().min), (4, 4 * P, 1));
        assert_eq!((m.read_only_base(), m.read_write_base()), (P, 3 * P));
        let base = m.data_ptr() as usize;
        assert_eq!(prot_at(base), "---p");
        assert_eq!(prot_at(base + P as usize - 1), "---p");
        assert_eq!(prot_at(base + P as usize), "r--p");
        assert_eq!(prot_at(base + 3 * P as usize - 1), "r--p");
        assert_eq!(prot_at(base + 3 * P as usize), "rw-p");
        assert_eq!(prot_at(base + 4 * P as usize - 1), "rw-p");
        assert_eq!(prot_at(base + 4 * P as usize), "---p");

        let denied = |a| Some((TrapCode::MemoryAccessDenied, Some(a)));
        let mut b = [0u8; 1];
        // No-access part: no reads, no writes.
        for a in [0, P - 1] {
            assert_eq!(code(m.read(a, &mut b)), denied(a));
            assert_eq!(code(m.write(a, &[1])), denied(a));
        }
        // Read-only part: reads only.
        for a in [P, 3 * P - 1] {
            assert_eq!(code(m.read(a, &mut b)), None);
            assert_eq!(code(m.write(a, &[1])), denied(a));
        }
        // Read-write part.
        for a in [3 * P, 4 * P - 1] {
            assert_eq!(code(m.write(a, &[9])), None);
            assert_eq!(code(m.read(a, &mut b)), None);
            assert_eq!(b[0], 9);
        }
        // Past the end: out of bounds, checked before protection.
        assert_eq!(
            code(m.read(4 * P, &mut b)),
            Some((TrapCode::MemoryOutOfBounds, Some(4 * P)))
        );
        assert_eq!(
            code(m.write(3 * P - 1, &vec![0; P as usize + 2]))
                .unwrap()
                .0,
            TrapCode::MemoryOutOfBounds
        );
        // A write straddling into the read-write part writes nothing.
        m.write(3 * P, &[5]).unwrap();
        assert_eq!(code(m.write(3 * P - 1, &[7, 7])), denied(3 * P - 1));
        m.read(3 * P, &mut b).unwrap();
        assert_eq!(b[0], 5);
        // A read straddling out of the no-access part is denied at its start.
        assert_eq!(code(m.read(P - 2, &mut [0; 4])), denied(P - 2));
        // Empty ranges never trap for protection (only for bounds).
        assert_eq!(code(m.read(0, &mut [])), None);
        assert_eq!(code(m.write(P, &[])), None);
        assert_eq!(code(m.write(4 * P, &[])), None);
        assert_eq!(
            code(m.write(4 * P + 1, &[])).unwrap().0,
            TrapCode::MemoryOutOfBounds
        );
        // Host traps carry the message (and no memory index).
        let t = m.write(0, &[1]).unwrap_err();
        assert_eq!((t.memory, t.message.as_str()), (None, "access denied"));
    }

    #[test]
    fn grow_protected() {
        let m = Memory::new(ctl(1, Some(3), 1, 2)).unwrap();
        let base = m.data_ptr() as usize;
        assert_eq!(m.grow(1), Some(4), "old total page count");
        assert_eq!(m.grow(0), Some(5));
        assert_eq!(m.grow(2), None, "rw max is 3");
        assert_eq!(m.grow(1), Some(5));
        assert_eq!(m.grow(1), None);
        assert_eq!((m.pages(), m.ty().min, m.ty().max), (6, 3, Some(3)));
        assert_eq!(prot_at(base), "---p");
        assert_eq!(prot_at(base + 2 * P as usize), "r--p");
        assert_eq!(prot_at(base + 6 * P as usize - 1), "rw-p");
        m.write(6 * P - 1, &[1]).unwrap();
        assert_eq!(
            m.write(P, &[1]).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
        // 32-bit: the total never exceeds 65536 pages.
        let m = Memory::new(ctl(0, None, 1, 0)).unwrap();
        assert_eq!(m.grow(65536), None);
        assert!(Memory::new(ctl(1, None, 65535, 1)).is_err());
        assert!(Memory::new(ctl(0, None, 65535, 1)).is_ok());
        // memory64 counts the prefix the same way.
        let m = Memory::new(MemoryType {
            memory64: true,
            ..ctl(1, Some(2), 1, 1)
        })
        .unwrap();
        assert_eq!(m.grow(1), Some(3));
        assert_eq!(m.grow(1), None);
    }

    #[test]
    fn immutable_and_virtual() {
        let imm = MemoryType {
            control: MemoryControl {
                immutable: true,
                ..Default::default()
            },
            ..ty(2, Some(4), false)
        };
        // The defining module's segments write it before it is sealed.
        let m = Memory::new_unsealed(imm).unwrap();
        m.inner.write(10, b"abc", true).unwrap();
        assert_eq!(
            m.inner.write(10, b"abc", false).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
        m.inner.seal().unwrap();
        m.inner.seal().unwrap();
        assert_eq!(
            m.inner.write(10, b"abc", true).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
        assert_eq!(prot_at(m.data_ptr() as usize), "r--p");
        assert_eq!(prot_at(m.data_ptr() as usize + 2 * P as usize - 1), "r--p");
        let mut b = [0u8; 3];
        m.read(10, &mut b).unwrap();
        assert_eq!(&b, b"abc");
        assert_eq!(
            code(m.write(2 * P - 1, &[1])),
            Some((TrapCode::MemoryAccessDenied, Some(2 * P - 1)))
        );
        assert_eq!(code(m.write(0, &[])), None);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.grow(0), None);
        assert_eq!(
            code(m.discard(0, P)),
            Some((TrapCode::MemoryAccessDenied, Some(0)))
        );
        assert_eq!(code(m.discard(0, 0)), None);

        let virt = MemoryType {
            control: MemoryControl {
                is_virtual: true,
                ..Default::default()
            },
            ..ty(2, Some(2), false)
        };
        let v = Memory::new(virt).unwrap();
        assert_eq!((v.pages(), v.grow(0), v.grow(1)), (2, Some(2), None));
        assert_eq!(
            prot_at(v.data_ptr() as usize),
            "---p",
            "pages start unmapped"
        );
        assert_eq!(
            v.read(0, &mut b).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
    }

    #[test]
    fn unsealed_prefix_is_writable_by_init_only() {
        let m = Memory::new_unsealed(ctl(1, None, 1, 1)).unwrap();
        m.inner.write(P, b"ro", true).unwrap();
        assert_eq!(
            m.inner.write(P, b"ro", false).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
        let t = m.inner.write(P - 1, b"ro", true).unwrap_err();
        assert_eq!(
            (t.code, t.address),
            (TrapCode::MemoryAccessDenied, Some(P - 1))
        );
        m.inner.seal().unwrap();
        assert_eq!(prot_at(m.data_ptr() as usize + P as usize), "r--p");
        assert_eq!(
            m.inner.write(P, b"ro", true).unwrap_err().code,
            TrapCode::MemoryAccessDenied
        );
        let mut b = [0u8; 2];
        m.read(P, &mut b).unwrap();
        assert_eq!(&b, b"ro");
    }

    #[test]
    fn discard_order_of_checks() {
        let m = Memory::new(ctl(2, None, 1, 1)).unwrap(); // 4 pages
        let refused = m.discard(1, 0).unwrap_err();
        assert_eq!(refused.code, TrapCode::MemoryControlRefused);
        assert_eq!(refused.message, "memory-control request refused: unaligned");
        // (1) unaligned comes before everything.
        assert_eq!(
            m.discard(2 * P, 1).unwrap_err().code,
            TrapCode::MemoryControlRefused
        );
        assert_eq!(
            m.discard(100 * P + 1, P).unwrap_err().code,
            TrapCode::MemoryControlRefused
        );
        assert_eq!(
            m.discard(1, 0).unwrap_err().code,
            TrapCode::MemoryControlRefused
        );
        // (2) out of bounds, without wrap-around, before protection.
        assert_eq!(
            code(m.discard(4 * P, P)).unwrap().0,
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            code(m.discard(0, 5 * P)).unwrap().0,
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            code(m.discard(5 * P, 0)).unwrap().0,
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            code(m.discard(2 * P, u64::MAX - P + 1)).unwrap().0,
            TrapCode::MemoryOutOfBounds
        );
        // (3) protection.
        let denied = |a| Some((TrapCode::MemoryAccessDenied, Some(a)));
        assert_eq!(code(m.discard(0, P)), denied(0));
        assert_eq!(code(m.discard(P, P)), denied(P));
        assert_eq!(code(m.discard(P, 3 * P)), denied(P));
        // Size 0: a no-op anywhere up to the size.
        for a in [0, P, 2 * P, 4 * P] {
            assert_eq!(code(m.discard(a, 0)), None);
        }
        // Success.
        m.write(2 * P, &[1; 16]).unwrap();
        m.discard(2 * P, 2 * P).unwrap();
        let mut b = [9u8; 16];
        m.read(2 * P, &mut b).unwrap();
        assert_eq!(b, [0; 16]);
    }

    #[test]
    fn discard_really_frees_pages() {
        let m = Memory::new(ctl(8, None, 1, 1)).unwrap(); // 10 pages
        let page = crate::sys::mmap::page_size();
        let (rw, n) = (2 * P as usize, 8 * P as usize);
        assert_eq!(m.map().resident_pages(rw, n).unwrap(), 0);
        m.write(2 * P, &vec![0xcd; n]).unwrap();
        assert_eq!(m.map().resident_pages(rw, n).unwrap(), n / page);
        // A refused or failing discard changes nothing.
        assert!(m.discard(2 * P, 9 * P).is_err());
        assert!(m.discard(P, 2 * P).is_err());
        assert_eq!(m.map().resident_pages(rw, n).unwrap(), n / page);
        // Discard pages 4..8 (Wasm): resident count of that range drops to 0.
        m.discard(4 * P, 4 * P).unwrap();
        assert_eq!(
            m.map()
                .resident_pages(4 * P as usize, 4 * P as usize)
                .unwrap(),
            0
        );
        assert_eq!(
            m.map().resident_pages(rw, 2 * P as usize).unwrap(),
            2 * P as usize / page
        );
        assert_eq!(
            m.map()
                .resident_pages(8 * P as usize, 2 * P as usize)
                .unwrap(),
            2 * P as usize / page
        );
        let mut b = vec![1u8; 4 * P as usize];
        m.read(4 * P, &mut b).unwrap();
        assert!(b.iter().all(|&x| x == 0));
        let mut c = [0u8; 2];
        m.read(4 * P - 1, &mut c[..1]).unwrap();
        m.read(8 * P, &mut c[1..]).unwrap();
        assert_eq!(c, [0xcd, 0xcd]);
        // The pages stay read-write and the size is unchanged.
        assert_eq!(m.pages(), 10);
        m.write(5 * P, &[3]).unwrap();
        assert_eq!(prot_at(m.data_ptr() as usize + 5 * P as usize), "rw-p");
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
