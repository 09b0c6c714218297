//! Reserve-then-commit virtual memory: a `PROT_NONE` reservation whose
//! pages are later made accessible with `mprotect`; for shared memories, a
//! memfd mapped `MAP_SHARED` inside the reservation.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// A reservation, unmapped on drop: anonymous private pages, or (made by
/// [`Mmap::reserve_shared`]) a memfd's pages shared by every mapping of
/// it. Every range handed to the kernel is checked against the mapping
/// first (checked arithmetic).
#[derive(Debug)]
pub struct Mmap {
    ptr: usize,
    len: usize,
    /// The memfd backing `[0, shared_len)` of a shared reservation (file
    /// offset = offset in the mapping).
    memfd: Option<OwnedFd>,
    shared_len: usize,
}

/// The host page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n <= 0 {
        4096
    } else {
        n as usize
    }
}

impl Mmap {
    /// Reserves `len` bytes of address space, inaccessible and without
    /// swap accounting (`MAP_NORESERVE`).
    pub fn reserve(len: usize) -> io::Result<Mmap> {
        if len == 0 {
            return Ok(Mmap {
                ptr: 0,
                len: 0,
                memfd: None,
                shared_len: 0,
            });
        }
        // SAFETY: a fresh anonymous mapping aliases nothing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap {
            ptr: p as usize,
            len,
            memfd: None,
            shared_len: 0,
        })
    }

    /// [`Mmap::reserve`] `len` bytes, then maps a fresh memfd of
    /// `shared_len` bytes (`ftruncate`: sparse, zero-filled, never
    /// resized, so no access inside it can ever hit `SIGBUS`) over
    /// `[0, shared_len)`, `MAP_SHARED | MAP_FIXED`, still `PROT_NONE`. The
    /// base never moves; `protect` commits pages as for a private
    /// reservation, and every thread and instance using the memory sees
    /// the same physical pages. The rest of the reservation (guard) stays
    /// anonymous `PROT_NONE`.
    pub fn reserve_shared(len: usize, shared_len: usize) -> io::Result<Mmap> {
        if shared_len > len || !shared_len.is_multiple_of(page_size()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shared part outside the reservation",
            ));
        }
        let mut map = Mmap::reserve(len)?;
        if shared_len == 0 {
            return Ok(map);
        }
        let fd = super::anon::anonymous_file(c"wasm2o-shared-memory")?;
        let size = libc::off_t::try_from(shared_len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "shared memory too large"))?;
        // SAFETY: plain system call on our own descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `[ptr, ptr+shared_len)` lies inside our own fresh
        // reservation (checked above), which nothing else uses yet, so
        // replacing its pages with MAP_FIXED aliases nothing.
        let p = unsafe {
            libc::mmap(
                map.ptr as *mut libc::c_void,
                shared_len,
                libc::PROT_NONE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        map.memfd = Some(fd);
        map.shared_len = shared_len;
        Ok(map)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr as *mut u8
    }

    /// The memfd of a shared reservation ([`Mmap::reserve_shared`]), whose
    /// file offset is the offset in the mapping; `None` for a private one.
    /// Memory-control maps it back over its own range (`MAP_SHARED |
    /// MAP_FIXED`) to undo other mappings there.
    pub fn memfd(&self) -> Option<std::os::fd::RawFd> {
        self.memfd.as_ref().map(|fd| fd.as_raw_fd())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn check(&self, start: usize, len: usize) -> io::Result<()> {
        let page = page_size();
        match start.checked_add(len) {
            Some(end)
                if end <= self.len && start.is_multiple_of(page) && len.is_multiple_of(page) =>
            {
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "range outside the mapping or unaligned",
            )),
        }
    }

    /// Changes the protection of `[start, start+len)` (page-aligned offsets).
    pub fn protect(&self, start: usize, len: usize, prot: libc::c_int) -> io::Result<()> {
        self.check(start, len)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range was checked to lie inside our own mapping, which
        // no Rust reference covers.
        let r = unsafe { libc::mprotect((self.ptr + start) as *mut libc::c_void, len, prot) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Zeroes `[start, start+len)` (page-aligned offsets, every page
    /// read-write) and gives its physical pages back to the kernel:
    /// `madvise(MADV_DONTNEED)`, which on our private anonymous mapping
    /// makes the next touch read fresh zero pages, keeps the protections
    /// and never splits the mapping (on macOS, which does not zero that
    /// way, fresh read-write pages mapped over the range: see
    /// `anon::zero_private`). An error means nothing was guaranteed: the
    /// caller falls back to writing zeros.
    ///
    /// On a shared reservation `MADV_DONTNEED` would only drop this
    /// mapping's view of the memfd's pages (the data stays), so the range is
    /// punched out of the memfd instead (`fallocate(PUNCH_HOLE |
    /// KEEP_SIZE)`): every mapping then reads zeros, the file keeps its
    /// size (no `SIGBUS`), and a racing access of another thread sees either
    /// the old bytes or zeros, never a fault. (macOS has no such call for
    /// its shared-memory objects: an error, and the caller writes zeros.)
    pub fn discard(&self, start: usize, len: usize) -> io::Result<()> {
        self.check(start, len)?;
        if len == 0 {
            return Ok(());
        }
        if let Some(fd) = &self.memfd {
            if start.checked_add(len).is_none_or(|e| e > self.shared_len) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "range outside the shared part",
                ));
            }
            // The range is inside the file (checked above).
            return super::anon::punch_hole(fd, start, len);
        }
        // SAFETY: the range was checked to lie inside our own private
        // anonymous mapping, which no Rust reference covers, and is
        // read-write (caller contract); zeroing it is what the caller
        // asked for.
        unsafe { super::anon::zero_private((self.ptr + start) as *mut u8, len) }
    }

    /// How many host pages of `[start, start+len)` (page-aligned offsets)
    /// are resident in physical memory (`mincore`).
    #[cfg(test)]
    pub fn resident_pages(&self, start: usize, len: usize) -> io::Result<usize> {
        self.check(start, len)?;
        let page = page_size();
        let mut vec = vec![0u8; len.div_ceil(page)];
        if len == 0 {
            return Ok(0);
        }
        // SAFETY: the range lies inside our mapping (checked); `vec` holds
        // one byte per host page of it.
        let r = unsafe {
            libc::mincore(
                (self.ptr + start) as *mut libc::c_void,
                len,
                vec.as_mut_ptr() as *mut _,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(vec.iter().filter(|&&b| b & 1 != 0).count())
    }

    /// Makes `[start, start+len)` readable and writable.
    pub fn make_accessible(&self, start: usize, len: usize) -> io::Result<()> {
        self.protect(start, len, libc::PROT_READ | libc::PROT_WRITE)
    }

    /// Copies out of the mapping. The range must be accessible (the caller
    /// checked it against the memory's length).
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        let end = offset.checked_add(buf.len()).expect("read range overflows");
        assert!(end <= self.len, "read outside the mapping");
        // SAFETY: in bounds (checked above); the source is raw mapped memory
        // that no Rust reference covers, so it cannot overlap `buf`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (self.ptr + offset) as *const u8,
                buf.as_mut_ptr(),
                buf.len(),
            )
        }
    }

    /// Copies into the mapping. The range must be writable.
    pub fn write(&self, offset: usize, data: &[u8]) {
        let end = offset
            .checked_add(data.len())
            .expect("write range overflows");
        assert!(end <= self.len, "write outside the mapping");
        // SAFETY: as in `read`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), (self.ptr + offset) as *mut u8, data.len())
        }
    }

    /// `memmove` inside the mapping (or from `src` to another mapping).
    pub fn copy_within(dst: &Mmap, dst_off: usize, src: &Mmap, src_off: usize, len: usize) {
        assert!(
            dst_off.checked_add(len).is_some_and(|e| e <= dst.len),
            "copy outside the mapping"
        );
        assert!(
            src_off.checked_add(len).is_some_and(|e| e <= src.len),
            "copy outside the mapping"
        );
        // SAFETY: both ranges lie inside live mappings (checked above);
        // `copy` has memmove semantics for overlapping ranges.
        unsafe {
            std::ptr::copy(
                (src.ptr + src_off) as *const u8,
                (dst.ptr + dst_off) as *mut u8,
                len,
            )
        }
    }

    /// `memset` inside the mapping.
    pub fn fill(&self, offset: usize, val: u8, len: usize) {
        assert!(
            offset.checked_add(len).is_some_and(|e| e <= self.len),
            "fill outside the mapping"
        );
        // SAFETY: in bounds (checked above), raw memory no reference covers.
        unsafe { std::ptr::write_bytes((self.ptr + offset) as *mut u8, val, len) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: we own the mapping; nothing refers to it any more.
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_commit_rw() {
        let m = Mmap::reserve(1 << 20).unwrap();
        m.make_accessible(0, 65536).unwrap();
        m.write(10, b"abc");
        let mut b = [0u8; 3];
        m.read(10, &mut b);
        assert_eq!(&b, b"abc");
        assert!(m.make_accessible(1, 4096).is_err());
        assert!(m.make_accessible(0, 2 << 20).is_err());
    }

    #[test]
    fn discard_zeroes_and_frees() {
        let page = page_size();
        let m = Mmap::reserve(16 * page).unwrap();
        m.make_accessible(0, 16 * page).unwrap();
        m.fill(0, 0xab, 16 * page);
        assert_eq!(m.resident_pages(0, 16 * page).unwrap(), 16);
        m.discard(4 * page, 8 * page).unwrap();
        assert_eq!(m.resident_pages(4 * page, 8 * page).unwrap(), 0);
        assert_eq!(m.resident_pages(0, 4 * page).unwrap(), 4);
        let mut b = [1u8; 2];
        m.read(4 * page, &mut b[..1]);
        m.read(12 * page - 1, &mut b[1..]);
        assert_eq!(b, [0, 0]);
        m.read(12 * page, &mut b[..1]);
        assert_eq!(b[0], 0xab);
        assert!(m.discard(1, page).is_err());
        assert!(m.discard(0, 17 * page).is_err());
    }

    #[test]
    fn shared_discard_punches_a_hole() {
        let page = page_size();
        let m = Mmap::reserve_shared(32 * page, 16 * page).unwrap();
        assert!(m.memfd.is_some());
        m.make_accessible(0, 16 * page).unwrap();
        m.fill(0, 0xab, 16 * page);
        assert_eq!(m.resident_pages(0, 16 * page).unwrap(), 16);
        m.discard(4 * page, 8 * page).unwrap();
        assert_eq!(m.resident_pages(4 * page, 8 * page).unwrap(), 0);
        let mut b = [1u8; 3];
        m.read(4 * page, &mut b[..1]);
        m.read(12 * page - 1, &mut b[1..2]);
        m.read(12 * page, &mut b[2..]);
        assert_eq!(b, [0, 0, 0xab]);
        // The guard past the shared part is not the memfd's.
        assert!(m.discard(16 * page, page).is_err());
        assert!(Mmap::reserve_shared(page, 2 * page).is_err());
    }
}
