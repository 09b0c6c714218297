//! Memory-control II on one memory: `map`, `unmap`, `protect`,
//! `map_handle`, the host's file mappings, and the page-state checks the
//! runtime's own accesses (bulk operations, host reads and writes,
//! discard) make against them.
//!
//! Every request runs the design's order of checks — (1) bad prot, (2) zero
//! size, (3) `addr`/`size`/file offset not multiples of 64 KiB: refused;
//! (4) past the memory's size (no wrap-around): out of bounds; (5) the
//! page states: refused (already mapped, not mapped, not granted, above
//! grant), or access denied for the static prefix of a plain memory; (6)
//! the mapping budget or the kernel: `map` returns -1, the others refuse
//! with "out of resources" — against the page map, under the memory's
//! lock, before its one system call. A failing call is rolled back, so a
//! trapping or refused request changes nothing.
//!
//! The lock serialises requests on a memory (shared memories included);
//! accesses of compiled code on other threads are never blocked: each
//! request is one `mmap(MAP_FIXED)` or `mprotect` over the whole range, so
//! a racing access sees the pages before or after it. The runtime's own
//! accesses to a memory with page states (host reads and writes, discard)
//! take the lock, so they too run wholly before or after a request.
//!
//! A shared memory's pages are its memfd's, at the same offset (see
//! `Mmap::reserve_shared`), so that discard's hole punch zeroes them for
//! every thread: its unmapped pages are the memfd mapped `PROT_NONE`, and
//! "fresh zeroed pages" are the memfd's own pages mapped again after a
//! hole is punched in them while nobody can see them (see
//! [`sys_replace`]). A file mapped over them hides them; unmapping the
//! file maps them back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::abi::{TrapCode, WASM_PAGE_SIZE as P};
use crate::memory::MemoryInner;
use crate::pagemap::{Backing, PageMap, PageState, Prot};
use crate::sys::remap::{self, Fill};
use crate::trap::{refused, RuntimeTrap};

/// Kernel mappings all memories' page maps cost together beyond their
/// first (checked against [`global_cap`]).
static TOTAL_RUNS: AtomicUsize = AtomicUsize::new(0);

fn max_map_count() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(remap::max_map_count)
}

/// Kernel mappings one memory may cost: a quarter of `vm.max_map_count`
/// (so a few busy memories and the rest of the process fit), at least 64.
pub(crate) fn default_budget() -> usize {
    (max_map_count() / 4).max(64)
}

/// Kernel mappings all memories may cost together: half of
/// `vm.max_map_count`.
fn global_cap() -> usize {
    (max_map_count() / 2).max(128)
}

/// Where the pages of a file mapping come from, and their ceilings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileSource {
    pub fd: std::os::fd::RawFd,
    pub offset: u64,
    pub shared: bool,
    /// Ceiling for the guest's `protect`.
    pub max_prot: Prot,
    /// Ceiling for the host's `protect` (what the descriptor allows).
    pub host_max: Prot,
    pub grant: Option<u32>,
    /// The file's size if it is a regular file (`fstat` when mapped):
    /// host pages wholly past it fault.
    pub size: Option<u64>,
}

/// Who asks: the guest's `protect` is capped by a mapping's `max_prot`,
/// the host's by what the kernel allows for the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Requester {
    Guest,
    Host,
}

/// The page states of a memory and the lock that serialises requests.
#[derive(Debug)]
pub(crate) struct Control {
    state: Mutex<State>,
    is_virtual: bool,
    /// Whether any page may differ from the static layout: always for a
    /// virtual memory; for a plain one once the host mapped or protected
    /// pages. Lets accesses to ordinary memories skip the lock.
    active: AtomicBool,
    /// Whether any page was ever file-backed (host copies then run under
    /// fault catching: a page past the end of a file raises SIGBUS).
    files: AtomicBool,
    /// Whether any page was ever mapped from the module's data image
    /// (discard must then look at the page map).
    images: AtomicBool,
    /// A shared memory: other threads may change page states while the
    /// runtime copies, so host copies always catch faults.
    shared: bool,
}

#[derive(Debug)]
struct State {
    map: PageMap,
    next_id: u64,
    budget: usize,
    /// What this memory added to [`TOTAL_RUNS`].
    charged: usize,
}

impl Control {
    /// `pages`: every page the memory can ever have; `shared`: a shared
    /// (threads) memory.
    pub(crate) fn new(is_virtual: bool, shared: bool, pages: u64) -> Control {
        Control {
            state: Mutex::new(State {
                map: PageMap::new(pages),
                next_id: 1,
                budget: default_budget(),
                charged: 0,
            }),
            is_virtual,
            active: AtomicBool::new(is_virtual),
            files: AtomicBool::new(false),
            images: AtomicBool::new(false),
            shared,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state of pages without an entry: unmapped in a virtual memory,
    /// anonymous read-write in a plain one's read-write part.
    fn default_state(&self) -> Option<PageState> {
        (!self.is_virtual).then(|| PageState::anonymous(Prot::ReadWrite, 0))
    }

    /// Whether any page may differ from the static layout (see `active`).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn has_files(&self) -> bool {
        self.files.load(Ordering::Acquire)
    }

    /// Records pages `[a, b)` of a plain memory's read-write part as
    /// mapped from the module's data image (by `image::apply`, before
    /// anything else can touch the memory). They are read-write like the
    /// default state, so accesses need no look-up (`active` stays as it
    /// is); only discard, `unmap` and file mappings care.
    pub(crate) fn record_image(&self, a: u64, b: u64) {
        if a >= b {
            return;
        }
        let mut st = self.lock();
        let id = st.next_id;
        st.next_id += 1;
        let new = PageState {
            backing: Backing::Image,
            ..PageState::anonymous(Prot::ReadWrite, id)
        };
        st.map.set(a, b, Some(new));
        self.sync_charge(&mut st);
        self.images.store(true, Ordering::Release);
    }

    /// Kernel mappings the memory's pages cost, and its budget.
    pub(crate) fn runs_and_budget(&self) -> (usize, usize) {
        let st = self.lock();
        (st.map.kernel_runs(), st.budget)
    }

    /// Sets the memory's mapping budget (kernel mappings), for tests and
    /// hosts that want a tighter one.
    pub(crate) fn set_budget(&self, runs: usize) {
        self.lock().budget = runs.max(1);
    }

    /// The page-state part of a runtime access check (bounds and the
    /// static prefix already checked): every page of a non-empty
    /// `[offset, offset+len)` readable (or writable). Denied at the first
    /// byte of the first page that is not.
    pub(crate) fn check_access(
        &self,
        memory_base: usize,
        offset: u64,
        len: u64,
        write: bool,
    ) -> Result<(), RuntimeTrap> {
        if len == 0 || !self.active.load(Ordering::Acquire) {
            return Ok(());
        }
        let st = self.lock();
        self.check_state(&st, memory_base, offset, len, write)
    }

    /// [`Control::check_access`] against `st` (the lock held).
    fn check_state(
        &self,
        st: &State,
        memory_base: usize,
        offset: u64,
        len: u64,
        write: bool,
    ) -> Result<(), RuntimeTrap> {
        if len == 0 {
            return Ok(());
        }
        let Some(end) = offset.checked_add(len) else {
            return Err(trap(
                memory_base,
                TrapCode::MemoryOutOfBounds,
                Some(offset),
                None,
            ));
        };
        let dflt = self.default_state();
        for (s, e, ps) in st.map.pieces(offset / P, end.div_ceil(P)) {
            let at = offset.max(s * P);
            let denied = match ps.or(dflt) {
                None => Some(at),
                Some(p)
                    if !(if write {
                        p.prot.writable()
                    } else {
                        p.prot.readable()
                    }) =>
                {
                    Some(at)
                }
                // Host pages wholly past the end of a mapped file fault:
                // deny them before anything is written.
                Some(p) if end.min(e * P) > p.eof() => Some(at.max(p.eof())),
                Some(_) => None,
            };
            if let Some(at) = denied {
                return Err(trap(
                    memory_base,
                    TrapCode::MemoryAccessDenied,
                    Some(at),
                    None,
                ));
            }
        }
        Ok(())
    }

    /// A host-side copy `f` of `[offset, offset+len)` (bounds and the
    /// static prefix already checked): the page-state check and the copy
    /// run under the lock when the memory has page states, so a request
    /// of another thread happens wholly before or after both, and the
    /// copy cannot fault on a page the check allowed.
    pub(crate) fn checked_copy(
        &self,
        memory_base: usize,
        offset: u64,
        len: u64,
        write: bool,
        f: impl FnMut(),
    ) -> Result<(), RuntimeTrap> {
        if len == 0 || !self.active.load(Ordering::Acquire) {
            return self.host_copy(memory_base, f);
        }
        let st = self.lock();
        self.check_state(&st, memory_base, offset, len, write)?;
        // The guard lives in this frame: a fault in `f` comes back here.
        let r = self.host_copy(memory_base, f);
        drop(st);
        r
    }

    /// Runs a host-side copy `f` of guest memory, catching faults when
    /// file pages are mapped (a page past the end of a file) or the memory
    /// is shared (another thread may map or protect pages at any time).
    pub(crate) fn host_copy(
        &self,
        memory_base: usize,
        mut f: impl FnMut(),
    ) -> Result<(), RuntimeTrap> {
        if !self.has_files() && !self.shared {
            f();
            return Ok(());
        }
        crate::sys::enter::catch_memory_faults(&mut f).map_err(|rec| RuntimeTrap {
            code: TrapCode::from_u32(rec.code).unwrap_or(TrapCode::MemoryAccessDenied),
            address: rec.address,
            memory_base,
            reason: None,
        })
    }

    /// Whether discard must consult the page map (under the lock): some
    /// page may differ from the static layout, be file-backed or mapped
    /// from the data image.
    pub(crate) fn has_page_states(&self) -> bool {
        self.active.load(Ordering::Acquire)
            || self.has_files()
            || self.images.load(Ordering::Acquire)
    }

    /// Whether the memory (and the process) can afford `after` kernel
    /// mappings for this memory.
    fn affordable(&self, st: &State, after: usize) -> bool {
        let before = st.map.kernel_runs();
        after <= st.budget
            && (after <= before
                || TOTAL_RUNS.load(Ordering::Relaxed) + (after - before) <= global_cap())
    }

    /// Brings [`TOTAL_RUNS`] in line with the map after a change.
    fn sync_charge(&self, st: &mut State) {
        let now = st.map.kernel_runs() - 1;
        if now > st.charged {
            TOTAL_RUNS.fetch_add(now - st.charged, Ordering::Relaxed);
        } else {
            TOTAL_RUNS.fetch_sub(st.charged - now, Ordering::Relaxed);
        }
        st.charged = now;
    }

    /// The kernel's view of a page state.
    fn fill_of(&self, ps: Option<PageState>) -> Fill {
        match ps.or(self.default_state()) {
            None => Fill::Reserved,
            Some(p) => Fill::Anonymous(p.prot.to_libc()),
        }
    }

    /// Sets pages `[a, b)` to `new` with one `mmap(MAP_FIXED)` of `fill`,
    /// within the budget. `false`: out of resources, nothing changed (a
    /// failed call is rolled back).
    fn replace(
        &self,
        mem: &MemoryInner,
        st: &mut State,
        a: u64,
        b: u64,
        new: Option<PageState>,
        fill: Fill,
    ) -> bool {
        if !self.affordable(st, st.map.runs_after(a, b, new)) {
            return false;
        }
        let (start, len) = ((a * P) as usize, ((b - a) * P) as usize);
        if sys_replace(mem, start, len, fill, true).is_err() {
            self.roll_back(mem, st, a, b);
            return false;
        }
        if new.is_some_and(|p| p.is_file()) {
            self.files.store(true, Ordering::Release);
        }
        if new.is_some() {
            self.active.store(true, Ordering::Release);
        }
        st.map.set(a, b, new);
        self.sync_charge(st);
        true
    }

    /// After a failed `mmap(MAP_FIXED)` over `[a, b)`: Linux 6.12 and later
    /// keep the old pages; older kernels may have unmapped them, leaving a
    /// hole. Fill a hole with what the page map says (anonymous pages come
    /// back zeroed — a shared memory's with their contents, which its
    /// memfd kept —, file and image pages as the default state, which the
    /// page map then records), or stop the process if even that fails.
    fn roll_back(&self, mem: &MemoryInner, st: &mut State, a: u64, b: u64) {
        let (start, len) = ((a * P) as usize, ((b - a) * P) as usize);
        // Unmapped pages of the reservation are PROT_NONE mappings, not
        // holes, so this tells a hole from any page state.
        if remap::is_fully_mapped(&mem.map, start, len) {
            return;
        }
        for (s, e, ps) in st.map.pieces(a, b) {
            let keep = ps.filter(|p| p.backing == Backing::Anonymous);
            let (s0, l) = ((s * P) as usize, ((e - s) * P) as usize);
            let fill = self.fill_of(keep);
            if sys_replace(mem, s0, l, fill, false).is_err()
                && sys_replace(mem, s0, l, Fill::Reserved, false).is_err()
            {
                eprintln!(
                    "wasm2o: cannot restore a memory reservation after a failed mmap; aborting"
                );
                std::process::abort();
            }
            st.map.set(s, e, keep);
        }
        self.sync_charge(st);
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let charged = self.lock().charged;
        TOTAL_RUNS.fetch_sub(charged, Ordering::Relaxed);
    }
}

/// Puts `fill` over `[start, start+len)` of `mem`'s reservation with one
/// visible system call. A private memory: `remap::replace`. A shared
/// memory keeps its pages in its memfd (file offset = offset in the
/// memory), so that discard's hole punch zeroes them for every thread:
/// - `Reserved` (unmapped) maps the memfd's pages `PROT_NONE`, then
///   punches them out (freeing them; nobody can see them any more);
/// - `Anonymous(prot)` with `fresh` punches the memfd's pages out first
///   (the pages replaced are unmapped or a file's, which hides them, or,
///   for a plain memory's `unmap`, the memfd's own read-write pages, which
///   then read zeros as they will after the call), then maps them with
///   `prot`; without `fresh` (a roll-back) it maps them back as they are;
/// - `File` maps the file, then punches out the memfd's pages it hides.
///
/// A punch that must zero and fails fails the call before anything
/// changed; a punch that only frees memory may fail harmlessly (the next
/// `fresh` mapping punches again).
fn sys_replace(
    mem: &MemoryInner,
    start: usize,
    len: usize,
    fill: Fill,
    fresh: bool,
) -> std::io::Result<()> {
    let Some(fd) = mem.map.memfd() else {
        return remap::replace(&mem.map, start, len, fill);
    };
    let own = |prot| Fill::File {
        prot,
        fd,
        offset: start as u64,
        shared: true,
    };
    match fill {
        Fill::Anonymous(prot) => {
            if fresh {
                mem.map.discard(start, len)?;
            }
            remap::replace(&mem.map, start, len, own(prot))
        }
        Fill::Reserved | Fill::File { .. } => {
            let fill = match fill {
                Fill::Reserved => own(libc::PROT_NONE),
                file => file,
            };
            remap::replace(&mem.map, start, len, fill)?;
            let _ = mem.map.discard(start, len);
            Ok(())
        }
    }
}

fn trap(
    memory_base: usize,
    code: TrapCode,
    address: Option<u64>,
    reason: Option<&'static str>,
) -> RuntimeTrap {
    RuntimeTrap {
        code,
        address,
        memory_base,
        reason,
    }
}

fn refuse(mem: &MemoryInner, reason: &'static str) -> RuntimeTrap {
    trap(
        mem.data_ptr() as usize,
        TrapCode::MemoryControlRefused,
        None,
        Some(reason),
    )
}

/// Checks (1)–(4): `prot` (if the operation has one), zero size,
/// alignment (of the file offset too), bounds. Returns the prot and the
/// page range.
fn check_request(
    mem: &MemoryInner,
    addr: u64,
    size: u64,
    prot: Option<u32>,
    file_offset: Option<u64>,
) -> Result<(Prot, u64, u64), RuntimeTrap> {
    let prot = match prot {
        Some(bits) => Prot::from_bits(bits).ok_or_else(|| refuse(mem, refused::BAD_PROT))?,
        None => Prot::None,
    };
    if size == 0 {
        return Err(refuse(mem, refused::ZERO_SIZE));
    }
    if !addr.is_multiple_of(P)
        || !size.is_multiple_of(P)
        || !file_offset.unwrap_or(0).is_multiple_of(P)
    {
        return Err(refuse(mem, refused::UNALIGNED));
    }
    match addr.checked_add(size) {
        Some(end) if end <= mem.size_bytes() => Ok((prot, addr / P, end / P)),
        _ => Err(trap(
            mem.data_ptr() as usize,
            TrapCode::MemoryOutOfBounds,
            Some(addr),
            None,
        )),
    }
}

/// Step (5) for a plain memory: its pages can be replaced, unmapped or
/// protected only in the read-write part of a memory that is not
/// immutable (as for discard).
fn check_plain(mem: &MemoryInner, addr: u64) -> Result<(), RuntimeTrap> {
    if !mem.ctl.is_virtual && (mem.ty.control.immutable || addr < mem.rw_base) {
        return Err(trap(
            mem.data_ptr() as usize,
            TrapCode::MemoryAccessDenied,
            Some(addr),
            None,
        ));
    }
    Ok(())
}

/// `map(addr, size, prot)`: fresh zeroed anonymous pages over unmapped
/// ones. `Ok(false)`: out of resources (the guest's `map` returns -1).
pub(crate) fn map(mem: &MemoryInner, addr: u64, size: u64, prot: u32) -> Result<bool, RuntimeTrap> {
    let (prot, a, b) = check_request(mem, addr, size, Some(prot), None)?;
    let c = &mem.ctl;
    let dflt = c.default_state();
    let mut st = c.lock();
    if st.map.any(a, b, |s| s.or(dflt).is_some()) {
        return Err(refuse(mem, refused::ALREADY_MAPPED));
    }
    let id = st.next_id;
    st.next_id += 1;
    let new = Some(PageState::anonymous(prot, id));
    Ok(c.replace(mem, &mut st, a, b, new, Fill::Anonymous(prot.to_libc())))
}

/// `map_handle` and the host's `map_fd`: `size` bytes of a file from
/// `file_offset`. `resolve(prot)` runs after the page-state check and
/// returns the source, or the refusal (not granted, above grant).
pub(crate) fn map_file(
    mem: &MemoryInner,
    addr: u64,
    size: u64,
    prot: u32,
    file_offset: u64,
    resolve: impl FnOnce(Prot) -> Result<FileSource, &'static str>,
) -> Result<bool, RuntimeTrap> {
    let (prot, a, b) = check_request(mem, addr, size, Some(prot), Some(file_offset))?;
    let c = &mem.ctl;
    check_plain(mem, addr)?;
    let mut st = c.lock();
    if c.is_virtual && st.map.any(a, b, |s| s.is_some()) {
        return Err(refuse(mem, refused::ALREADY_MAPPED));
    }
    let src = resolve(prot).map_err(|r| refuse(mem, r))?;
    // Host pages wholly past the end of the file (as it is now) fault;
    // the tail of the last partial one reads as zeros.
    let hp = crate::sys::mmap::page_size() as u64;
    let eof = match src.size {
        Some(n) if n.saturating_sub(file_offset).div_ceil(hp) * hp < size => {
            addr + n.saturating_sub(file_offset).div_ceil(hp) * hp
        }
        _ => u64::MAX,
    };
    let id = st.next_id;
    st.next_id += 1;
    let new = Some(PageState {
        prot,
        max_prot: src.max_prot,
        host_max: src.host_max,
        backing: Backing::File {
            shared: src.shared,
            grant: src.grant,
            eof,
        },
        id,
    });
    let fill = Fill::File {
        prot: prot.to_libc(),
        fd: src.fd,
        offset: src.offset,
        shared: src.shared,
    };
    Ok(c.replace(mem, &mut st, a, b, new, fill))
}

/// `unmap(addr, size)`: a virtual memory's pages become unmapped (unmapped
/// ones are fine); a plain memory's become fresh zeroed read-write pages.
pub(crate) fn unmap(mem: &MemoryInner, addr: u64, size: u64) -> Result<(), RuntimeTrap> {
    let (_, a, b) = check_request(mem, addr, size, None, None)?;
    check_plain(mem, addr)?;
    let c = &mem.ctl;
    let mut st = c.lock();
    if c.replace(mem, &mut st, a, b, None, c.fill_of(None)) {
        Ok(())
    } else {
        Err(refuse(mem, refused::OUT_OF_RESOURCES))
    }
}

/// `protect(addr, size, prot)`: every page must be mapped, and `prot`
/// within each page's ceiling; contents are kept (one `mprotect`).
pub(crate) fn protect(
    mem: &MemoryInner,
    addr: u64,
    size: u64,
    prot: u32,
    who: Requester,
) -> Result<(), RuntimeTrap> {
    let (prot, a, b) = check_request(mem, addr, size, Some(prot), None)?;
    check_plain(mem, addr)?;
    let c = &mem.ctl;
    let dflt = c.default_state();
    let mut st = c.lock();
    let pieces = st.map.pieces(a, b);
    if pieces.iter().any(|p| p.2.or(dflt).is_none()) {
        return Err(refuse(mem, refused::NOT_MAPPED));
    }
    let ceiling = |p: PageState| match who {
        Requester::Guest => p.max_prot,
        Requester::Host => p.host_max,
    };
    if pieces
        .iter()
        .filter_map(|p| p.2.or(dflt))
        .any(|p| prot > ceiling(p))
    {
        return Err(refuse(mem, refused::ABOVE_GRANT));
    }
    let new_of = |old: Option<PageState>| {
        let n = old.or(dflt).map(|p| PageState { prot, ..p });
        if n == dflt {
            None
        } else {
            n
        }
    };
    if !c.affordable(&st, st.map.runs_after_with(a, b, new_of)) {
        return Err(refuse(mem, refused::OUT_OF_RESOURCES));
    }
    if mem
        .map
        .protect((a * P) as usize, ((b - a) * P) as usize, prot.to_libc())
        .is_err()
    {
        // mprotect may have changed part of the range: put each piece back.
        for (s, e, ps) in &pieces {
            if let Some(p) = ps.or(dflt) {
                let _ = mem
                    .map
                    .protect((s * P) as usize, ((e - s) * P) as usize, p.prot.to_libc());
            }
        }
        return Err(refuse(mem, refused::OUT_OF_RESOURCES));
    }
    c.active.store(true, Ordering::Release);
    st.map.set_with(a, b, new_of);
    c.sync_charge(&mut st);
    Ok(())
}

/// Active data segments of a virtual memory map the pages they touch
/// read-write (pages already mapped stay as they are) before they are
/// written. A range past the size is left to the write to report.
pub(crate) fn map_for_segment(mem: &MemoryInner, offset: u64, len: u64) -> Result<(), RuntimeTrap> {
    let c = &mem.ctl;
    if !c.is_virtual || len == 0 {
        return Ok(());
    }
    let Some(end) = offset.checked_add(len).filter(|&e| e <= mem.size_bytes()) else {
        return Ok(());
    };
    let mut st = c.lock();
    let id = st.next_id;
    st.next_id += 1;
    let new = Some(PageState::anonymous(Prot::ReadWrite, id));
    for (s, e, ps) in st.map.pieces(offset / P, end.div_ceil(P)) {
        if ps.is_none()
            && !c.replace(
                mem,
                &mut st,
                s,
                e,
                new,
                Fill::Anonymous(Prot::ReadWrite.to_libc()),
            )
        {
            return Err(refuse(mem, refused::OUT_OF_RESOURCES));
        }
    }
    Ok(())
}

/// `memory.discard` of `[addr, addr+size)` (bounds and the static prefix
/// checked) in a memory with page states, under the lock that serialises
/// map/unmap/protect: every page must be writable (else access denied,
/// nothing changed), then piece by piece: anonymous pages are
/// given back (`Mmap::discard`: `MADV_DONTNEED`, or a hole punched in a
/// shared memory's memfd); file pages get zeros written, as fill
/// would (`MADV_DONTNEED` would bring the file back, or not zero a shared
/// one); data-image pages get fresh anonymous pages mapped over them
/// (`MADV_DONTNEED` would bring the image back), after which they are in
/// the default state. Never fails for resource reasons: a refused mapping
/// falls back to writing zeros.
pub(crate) fn discard_mapped(mem: &MemoryInner, addr: u64, size: u64) -> Result<(), RuntimeTrap> {
    let c = &mem.ctl;
    let base = mem.data_ptr() as usize;
    let mut st = c.lock();
    c.check_state(&st, base, addr, size, true)?;
    for (s, e, ps) in st.map.pieces(addr / P, (addr + size) / P) {
        let (off, len) = ((s * P) as usize, ((e - s) * P) as usize);
        match ps.map(|p| p.backing) {
            Some(Backing::File { .. }) => c.host_copy(base, || mem.map.fill(off, 0, len))?,
            Some(Backing::Image) => {
                let fill = Fill::Anonymous(Prot::ReadWrite.to_libc());
                if !c.replace(mem, &mut st, s, e, None, fill) {
                    mem.map.fill(off, 0, len);
                }
            }
            _ => {
                if mem.map.discard(off, len).is_err() {
                    mem.map.fill(off, 0, len);
                }
            }
        }
    }
    Ok(())
}
