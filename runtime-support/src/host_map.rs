//! Host objects of memory-control II: files and shared buffers the host
//! maps into a memory (`Memory::map_fd`, `unmap`, `protect`), memfd
//! shared buffers, and grants: descriptors an instance's guest may map
//! with `map_handle`, never past their length or above their `max_prot`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

use crate::abi::TrapCode;
use crate::instance::Instance;
use crate::mapping::{self, FileSource, Requester};
use crate::memory::{Memory, MemoryInner};
use crate::pagemap::Prot;
use crate::sys::remap::{self, SharedMapping};
use crate::trap::{refused, Trap};

/// Shared or private file mapping (`WASM2O_MAP_SHARED` = 1,
/// `WASM2O_MAP_PRIVATE` = 2 in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFlags {
    /// Writes reach the file (and every other mapping of it).
    Shared,
    /// Copy-on-write: the file never changes.
    Private,
}

impl MapFlags {
    pub fn from_c(flags: u32) -> Option<MapFlags> {
        match flags {
            1 => Some(MapFlags::Shared),
            2 => Some(MapFlags::Private),
            _ => None,
        }
    }
}

/// A host error (a bad argument, not a rule of the guest's): code
/// `HostError`, message "host error: <detail>".
fn host_error(detail: impl std::fmt::Display) -> Trap {
    Trap {
        message: format!("{}: {detail}", TrapCode::HostError.message()),
        ..Trap::new(TrapCode::HostError)
    }
}

/// The most a mapping of `fd` can be given: `Err` if it cannot be mapped
/// at all (bad descriptor, not open for reading).
fn fd_ceiling(fd: RawFd, flags: MapFlags) -> Result<Prot, String> {
    let (r, w) = remap::fd_access(fd).map_err(|e| format!("bad file descriptor {fd}: {e}"))?;
    if !r {
        return Err(format!("file descriptor {fd} is not open for reading"));
    }
    // A private mapping is copy-on-write: writable whatever the descriptor.
    Ok(if w || flags == MapFlags::Private {
        Prot::ReadWrite
    } else {
        Prot::Read
    })
}

/// `wasm2o_memory_map_fd`: see [`Memory::map_fd`].
pub(crate) fn map_fd(
    mem: &MemoryInner,
    addr: u64,
    len: u64,
    fd: RawFd,
    file_offset: u64,
    prot: u32,
    flags: MapFlags,
) -> Result<(), Trap> {
    let host_max = fd_ceiling(fd, flags).map_err(host_error)?;
    if Prot::from_bits(prot).is_some_and(|p| p > host_max) {
        return Err(host_error(format!(
            "file descriptor {fd} is not open for writing, so a shared mapping cannot be writable"
        )));
    }
    let resolve = |p: Prot| {
        Ok(FileSource {
            fd,
            offset: file_offset,
            shared: flags == MapFlags::Shared,
            max_prot: p,
            host_max,
            grant: None,
            size: remap::regular_file_size(fd),
        })
    };
    match mapping::map_file(mem, addr, len, prot, file_offset, resolve) {
        Ok(true) => Ok(()),
        Ok(false) => Err(out_of_resources(mem).into_trap(None)),
        Err(t) => Err(t.into_trap(None)),
    }
}

fn out_of_resources(mem: &MemoryInner) -> crate::trap::RuntimeTrap {
    crate::trap::RuntimeTrap {
        code: TrapCode::MemoryControlRefused,
        address: None,
        memory_base: mem.data_ptr() as usize,
        reason: Some(refused::OUT_OF_RESOURCES),
    }
}

/// `wasm2o_memory_map`: see [`Memory::map`].
pub(crate) fn map_anonymous(mem: &MemoryInner, addr: u64, len: u64, prot: u32) -> Result<(), Trap> {
    match mapping::map(mem, addr, len, prot) {
        Ok(true) => Ok(()),
        Ok(false) => Err(out_of_resources(mem).into_trap(None)),
        Err(t) => Err(t.into_trap(None)),
    }
}

/// `wasm2o_memory_unmap`: see [`Memory::unmap`].
pub(crate) fn unmap(mem: &MemoryInner, addr: u64, len: u64) -> Result<(), Trap> {
    mapping::unmap(mem, addr, len).map_err(|t| t.into_trap(None))
}

/// `wasm2o_memory_protect`: see [`Memory::protect`].
pub(crate) fn protect(mem: &MemoryInner, addr: u64, len: u64, prot: u32) -> Result<(), Trap> {
    mapping::protect(mem, addr, len, prot, Requester::Host).map_err(|t| t.into_trap(None))
}

impl Memory {
    /// Maps `[file_offset, file_offset+len)` of file `fd` at `[addr,
    /// addr+len)` with `prot` (0, 1 or 3), shared or private. In a virtual
    /// memory the pages must be unmapped and become mapped; in a plain
    /// memory they must lie in the read-write part, and the file replaces
    /// their contents. The guest's `protect` can never raise the pages
    /// above `prot`. The runtime keeps no reference to `fd` (the mapping
    /// does): the host may close it. Order of checks: bad prot, zero
    /// size, unaligned (`addr`, `len`, `file_offset`): refused; past the
    /// size: out of bounds; already mapped (virtual) or the static prefix
    /// (plain, access denied); then the budget or the kernel: refused "out
    /// of resources". A bad descriptor, one not open for reading or a
    /// writable shared mapping of a read-only descriptor is a
    /// `HostError`. A failing call changes nothing. In a shared memory the
    /// file hides the memory's own pages for every thread and instance;
    /// unmapping it brings them back zeroed (see `mapping`).
    pub fn map_fd(
        &self,
        addr: u64,
        len: u64,
        fd: RawFd,
        file_offset: u64,
        prot: u32,
        flags: MapFlags,
    ) -> Result<(), Trap> {
        map_fd(&self.inner, addr, len, fd, file_offset, prot, flags)
    }

    /// The host's `map`: fresh zeroed anonymous pages over unmapped pages
    /// of a virtual memory (a plain memory's pages are all mapped:
    /// "already mapped"). Out of resources is a refusal.
    pub fn map_anonymous(&self, addr: u64, len: u64, prot: u32) -> Result<(), Trap> {
        map_anonymous(&self.inner, addr, len, prot)
    }

    /// Unmaps `[addr, addr+len)`: in a virtual memory the pages become
    /// unmapped (unmapped ones are fine); in a plain memory they become
    /// zeroed read-write anonymous pages again (file mappings are undone).
    pub fn unmap(&self, addr: u64, len: u64) -> Result<(), Trap> {
        unmap(&self.inner, addr, len)
    }

    /// Changes the protection of mapped pages, keeping their contents:
    /// "not mapped" if any page is unmapped, "above grant" above what the
    /// file allows (a shared mapping of a read-only descriptor).
    pub fn protect(&self, addr: u64, len: u64, prot: u32) -> Result<(), Trap> {
        protect(&self.inner, addr, len, prot)
    }

    /// Kernel mappings this memory's pages cost, and its budget (beyond
    /// it, requests are refused "out of resources").
    pub fn mapping_runs(&self) -> (usize, usize) {
        self.inner.ctl.runs_and_budget()
    }

    /// Lowers (or raises) this memory's mapping budget, in kernel
    /// mappings. The default is a quarter of `vm.max_map_count`.
    pub fn set_mapping_budget(&self, runs: usize) {
        self.inner.ctl.set_budget(runs)
    }
}

/// A memfd-backed buffer the host can map into several memories (with
/// [`MapFlags::Shared`]) and read or write itself at the same time, so
/// data moves without copies. Clones share the buffer; the memory is
/// freed when the last clone is dropped (mappings into memories keep the
/// pages alive on their own).
#[derive(Clone, Debug)]
pub struct SharedBuffer {
    inner: Arc<SharedMapping>,
}

impl SharedBuffer {
    /// A zeroed buffer of `size` bytes (a multiple of 64 KiB to be mapped
    /// whole).
    pub fn new(size: usize) -> std::io::Result<SharedBuffer> {
        Ok(SharedBuffer {
            inner: Arc::new(SharedMapping::new(size)?),
        })
    }

    /// The memfd: pass it to [`Memory::map_fd`] or [`Instance::grant`].
    pub fn fd(&self) -> RawFd {
        self.inner.fd()
    }

    /// The host's own mapping of the buffer.
    pub fn data(&self) -> *mut u8 {
        self.inner.as_ptr()
    }

    pub fn size(&self) -> usize {
        self.inner.len()
    }
}

/// A descriptor an instance's guest may map with `map_handle`.
#[derive(Debug)]
struct Grant {
    fd: OwnedFd,
    len: u64,
    max_prot: Prot,
    shared: bool,
}

/// An instance's grants; a handle is an index (grants live as long as
/// the instance).
#[derive(Debug, Default)]
pub(crate) struct Grants(Mutex<Vec<Grant>>);

impl Grants {
    fn add(&self, fd: RawFd, len: u64, max_prot: u32, flags: MapFlags) -> Result<u32, String> {
        let max_prot = Prot::from_bits(max_prot)
            .ok_or_else(|| format!("bad max_prot {max_prot} (0, 1 or 3)"))?;
        let ceiling = fd_ceiling(fd, flags)?;
        if max_prot > ceiling {
            return Err(format!(
                "file descriptor {fd} is not open for writing, so a shared grant cannot be writable"
            ));
        }
        let fd =
            remap::dup_fd(fd).map_err(|e| format!("cannot duplicate file descriptor {fd}: {e}"))?;
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let handle = u32::try_from(g.len())
            .ok()
            .filter(|&h| h < i32::MAX as u32)
            .ok_or("too many grants")?;
        g.push(Grant {
            fd,
            len,
            max_prot,
            shared: flags == MapFlags::Shared,
        });
        Ok(handle)
    }

    /// The source of `map_handle(handle, offset, size, prot)`: "not
    /// granted" for an unknown handle, "above grant" past its length or
    /// above its `max_prot`.
    pub(crate) fn resolve(
        &self,
        handle: u32,
        offset: u64,
        size: u64,
        prot: Prot,
    ) -> Result<FileSource, &'static str> {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let grant = g.get(handle as usize).ok_or(refused::NOT_GRANTED)?;
        if offset.checked_add(size).is_none_or(|end| end > grant.len) || prot > grant.max_prot {
            return Err(refused::ABOVE_GRANT);
        }
        // The descriptor stays open as long as the instance: grants are
        // never removed.
        Ok(FileSource {
            fd: grant.fd.as_raw_fd(),
            offset,
            shared: grant.shared,
            max_prot: grant.max_prot,
            host_max: grant.max_prot,
            grant: Some(handle),
            size: remap::regular_file_size(grant.fd.as_raw_fd()),
        })
    }
}

impl Instance {
    /// Grants the guest `[0, len)` of file `fd` (a file, a shared buffer's
    /// memfd) up to `max_prot` (0, 1 or 3), mapped shared or private as
    /// `flags` says. Returns the handle (0, 1, ...) the guest passes to
    /// `map_handle`. The runtime keeps its own duplicate of `fd`. Fails for
    /// a bad `max_prot`, a bad descriptor, one not open for reading, or a
    /// writable shared grant of a read-only descriptor.
    pub fn grant(
        &self,
        fd: RawFd,
        len: u64,
        max_prot: u32,
        flags: MapFlags,
    ) -> Result<u32, String> {
        self.inner.grants.add(fd, len, max_prot, flags)
    }
}

/// `wasm2o_instance_grant`.
pub(crate) fn grant(
    inst: &crate::instance::InstanceInner,
    fd: RawFd,
    len: u64,
    max_prot: u32,
    flags: MapFlags,
) -> Result<u32, String> {
    inst.grants.add(fd, len, max_prot, flags)
}
