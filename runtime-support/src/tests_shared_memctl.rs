//! Tests of memory-control on shared (threads) memories: their pages are
//! one memfd's, so map, unmap, protect, host file mappings and discard
//! must keep every page either the memfd's own (at its offset) or a
//! file's, and discard must really zero and free them. The race with
//! threads is tested from C in `testsuite/threads/churn.c`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::abi::{TrapCode, WASM_PAGE_SIZE as P};
use crate::desc::{MemoryControl, MemoryType};
// The permissions of the kernel mapping holding an address ("rw-s": shared).
use crate::memory::tests::prot_at as perms_at;
use crate::*;

fn shared(pages: u64, control: MemoryControl) -> Memory {
    Memory::new(MemoryType {
        min: pages,
        max: Some(pages),
        memory64: false,
        shared: true,
        control,
    })
    .unwrap()
}

fn shared_virtual(pages: u64) -> Memory {
    shared(
        pages,
        MemoryControl {
            is_virtual: true,
            ..Default::default()
        },
    )
}

fn byte(m: &Memory, at: u64) -> Result<u8, Trap> {
    let mut b = [0u8];
    m.read(at, &mut b).map(|()| b[0])
}

fn denied(r: Result<impl std::fmt::Debug, Trap>) -> Option<u64> {
    let t = r.unwrap_err();
    assert_eq!(t.code, TrapCode::MemoryAccessDenied, "{t}");
    t.address
}

fn resident(m: &Memory, page: u64, n: u64) -> usize {
    m.map()
        .resident_pages((page * P) as usize, (n * P) as usize)
        .unwrap()
}

#[test]
fn shared_virtual_pages_are_the_memfds() {
    let m = shared_virtual(4);
    let base = m.data_ptr() as usize;
    assert_eq!(
        perms_at(base),
        "---s",
        "unmapped pages: the memfd, PROT_NONE"
    );
    assert_eq!(denied(byte(&m, 0)), Some(0));
    m.map_anonymous(P, 2 * P, 3).unwrap();
    assert_eq!(perms_at(base + P as usize), "rw-s");
    m.write(P, &vec![0xaa; 2 * P as usize]).unwrap();
    m.write(3 * P - 1, &[0xbb]).unwrap();
    assert_eq!(
        resident(&m, 1, 2),
        2 * (P as usize) / crate::sys::mmap::page_size()
    );
    // protect keeps contents; a write to a read-only page is denied and
    // writes nothing, also straddling.
    m.protect(P, P, 1).unwrap();
    assert_eq!(perms_at(base + P as usize), "r--s");
    assert_eq!(byte(&m, P).unwrap(), 0xaa);
    assert_eq!(denied(m.write(2 * P - 1, &[1, 1])), Some(2 * P - 1));
    assert_eq!(byte(&m, 2 * P).unwrap(), 0xaa);
    assert_eq!(denied(m.discard(P, 2 * P)), Some(P));
    assert_eq!(
        byte(&m, 3 * P - 1).unwrap(),
        0xbb,
        "a denied discard changes nothing"
    );
    m.protect(P, P, 3).unwrap();
    // discard punches a hole: zeros, and the pages are given back.
    m.discard(P, 2 * P).unwrap();
    assert_eq!(resident(&m, 1, 2), 0);
    assert_eq!((byte(&m, P).unwrap(), byte(&m, 3 * P - 1).unwrap()), (0, 0));
    // unmap frees the pages; mapping again gives zeros, not the old bytes.
    m.write(P + 5, &[0xcc]).unwrap();
    m.unmap(P, P).unwrap();
    assert_eq!(perms_at(base + P as usize), "---s");
    assert_eq!(denied(byte(&m, P + 5)), Some(P + 5));
    m.map_anonymous(P, P, 1).unwrap();
    assert_eq!(byte(&m, P + 5).unwrap(), 0);
    // map over a mapped page is refused and changes nothing.
    assert!(m.map_anonymous(P, P, 3).is_err());
    assert_eq!(denied(m.write(P, &[1])), Some(P));
}

#[test]
fn shared_memory_with_a_file_mapped_over_it() {
    let buf = SharedBuffer::new(2 * P as usize).unwrap();
    // SAFETY: the host's own mapping of the buffer, 2 pages long.
    unsafe { buf.data().write_bytes(0x11, 2 * P as usize) };

    // A plain shared memory: the file replaces the pages' contents; unmap
    // puts back zeroed read-write pages of the memory's own.
    let m = shared(4, MemoryControl::default());
    let base = m.data_ptr() as usize;
    m.write(P, &[0x77; 8]).unwrap();
    m.map_fd(P, 2 * P, buf.fd(), 0, 3, MapFlags::Shared)
        .unwrap();
    assert_eq!(byte(&m, P).unwrap(), 0x11);
    m.write(P, &[0x22]).unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { buf.data().read() },
        0x22,
        "shared writes reach the buffer"
    );
    m.protect(P, P, 1).unwrap();
    assert_eq!(denied(m.write(P, &[1])), Some(P));
    m.unmap(P, 2 * P).unwrap();
    assert_eq!(perms_at(base + P as usize), "rw-s");
    assert_eq!(byte(&m, P).unwrap(), 0, "the memory's own pages, zeroed");
    m.write(P, &[0x33]).unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { buf.data().read() },
        0x22,
        "the buffer no longer mapped"
    );
    // Discard of the memory's own pages zeroes them (a hole in the memfd).
    m.discard(P, P).unwrap();
    assert_eq!(byte(&m, P).unwrap(), 0);

    // A virtual shared memory: the file's pages become mapped; unmap makes
    // them unmapped again, and a later map gives zeros.
    let v = shared_virtual(4);
    v.map_fd(0, P, buf.fd(), P, 1, MapFlags::Private).unwrap();
    assert_eq!(byte(&v, 0).unwrap(), 0x11);
    assert_eq!(denied(v.write(0, &[1])), Some(0));
    v.unmap(0, P).unwrap();
    assert_eq!(perms_at(v.data_ptr() as usize), "---s");
    v.map_anonymous(0, P, 3).unwrap();
    assert_eq!(byte(&v, 0).unwrap(), 0);
}

#[test]
fn shared_memory_with_a_protected_prefix() {
    let m = shared(
        2,
        MemoryControl {
            no_access_pages: 1,
            read_only_pages: 1,
            ..Default::default()
        },
    );
    let base = m.data_ptr() as usize;
    assert_eq!(m.pages(), 4);
    assert_eq!(perms_at(base), "---s");
    assert_eq!(perms_at(base + P as usize), "r--s");
    assert_eq!(perms_at(base + 2 * P as usize), "rw-s");
    assert_eq!(denied(byte(&m, 0)), Some(0));
    assert_eq!(byte(&m, P).unwrap(), 0);
    assert_eq!(denied(m.write(P, &[1])), Some(P));
    assert_eq!(denied(m.discard(P, P)), Some(P));
    assert_eq!(denied(m.unmap(P, P)), Some(P));
    m.write(2 * P, &[9]).unwrap();
    m.discard(2 * P, 2 * P).unwrap();
    assert_eq!(byte(&m, 2 * P).unwrap(), 0);
}

/// Host reads and writes on other threads run wholly before or after each
/// request: they complete or are denied, never fault, and a write never
/// lands on a page that was not writable.
#[test]
fn host_copies_race_with_requests() {
    let m = shared_virtual(8);
    m.map_anonymous(0, P, 3).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, no) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut threads = Vec::new();
    for t in 0..2u8 {
        let (m, stop, ok, no) = (m.clone(), stop.clone(), ok.clone(), no.clone());
        threads.push(std::thread::spawn(move || {
            let data = vec![t + 1; 3 * P as usize];
            let mut back = vec![0u8; 3 * P as usize];
            while !stop.load(Ordering::Relaxed) {
                let w = m.write(2 * P, &data);
                let r = m.read(2 * P, &mut back);
                if r.is_ok() {
                    // A whole page is one state: never half written.
                    for page in back.chunks(P as usize) {
                        assert!(page.iter().all(|&b| b == page[0]), "a torn page");
                    }
                }
                for r in [w, r] {
                    match r {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(t) => {
                            assert_eq!(t.code, TrapCode::MemoryAccessDenied, "{t}");
                            no.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
                // Page 0 is never touched by the churn.
                let mut b = [0u8];
                m.read(0, &mut b).unwrap();
            }
        }));
    }
    for i in 0..2000u64 {
        let _ = m.map_anonymous(2 * P, 3 * P, [0, 1, 3][i as usize % 3]);
        let _ = m.protect(3 * P, P, [3, 1, 0][i as usize % 3]);
        let _ = m.discard(2 * P, P);
        if i % 7 == 0 {
            m.unmap(2 * P, 3 * P).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert!(ok.load(Ordering::Relaxed) + no.load(Ordering::Relaxed) > 0);
    // Unmapping frees the pages: mapping them again gives zeros.
    m.unmap(2 * P, 3 * P).unwrap();
    m.map_anonymous(2 * P, 3 * P, 3).unwrap();
    let mut back = vec![1u8; 3 * P as usize];
    m.read(2 * P, &mut back).unwrap();
    assert!(back.iter().all(|&b| b == 0));
}
