//! Tests of memory-control II's host side on memories alone: file
//! mappings (shared, private, past the end of the file), shared buffers,
//! the host's unmap and protect, the mapping budget. Grants and guest
//! calls are tested end to end in `cli/tests/memctl_host.rs`.

use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;

use crate::abi::{TrapCode, WASM_PAGE_SIZE as P};
use crate::desc::{MemoryControl, MemoryType};
use crate::*;

fn virtual_memory(pages: u64) -> Memory {
    Memory::new(MemoryType {
        min: pages,
        max: Some(pages),
        memory64: false,
        shared: false,
        control: MemoryControl {
            is_virtual: true,
            ..Default::default()
        },
    })
    .unwrap()
}

fn plain_memory(pages: u64) -> Memory {
    Memory::new(MemoryType {
        min: pages,
        max: None,
        memory64: false,
        shared: false,
        control: MemoryControl::default(),
    })
    .unwrap()
}

/// A temporary file of `len` bytes, byte `i` = `i % 251`.
fn temp_file(name: &str, len: usize) -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!("wasm2o-{name}-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    f.write_all(&bytes).unwrap();
    (path, f)
}

fn file_byte(f: &mut std::fs::File, at: u64) -> u8 {
    let mut b = [0u8];
    f.seek(std::io::SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    b[0]
}

fn byte(m: &Memory, at: u64) -> Result<u8, Trap> {
    let mut b = [0u8];
    m.read(at, &mut b).map(|()| b[0])
}

fn refusal(r: Result<(), Trap>) -> String {
    let t = r.unwrap_err();
    assert_eq!(t.code, TrapCode::MemoryControlRefused, "{t}");
    t.message
}

#[test]
fn shared_and_private_file_mappings() {
    let (path, mut f) = temp_file("shared-private", 2 * P as usize);
    let m = virtual_memory(4);
    let fd = f.as_raw_fd();
    m.map_fd(0, P, fd, P, 3, MapFlags::Shared).unwrap();
    m.map_fd(2 * P, 2 * P, fd, 0, 3, MapFlags::Private).unwrap();
    assert_eq!(byte(&m, 0).unwrap(), (P % 251) as u8, "file offset 64 KiB");
    assert_eq!(byte(&m, 2 * P + 7).unwrap(), 7);
    // Shared writes reach the file; private writes never do.
    m.write(5, &[0xaa]).unwrap();
    m.write(2 * P + 5, &[0xbb]).unwrap();
    assert_eq!(file_byte(&mut f, P + 5), 0xaa);
    assert_eq!(file_byte(&mut f, 5), 5);
    assert_eq!(byte(&m, 2 * P + 5).unwrap(), 0xbb);
    // Mapping again over mapped pages is refused; unmapping frees them.
    assert!(refusal(m.map_fd(0, P, fd, 0, 1, MapFlags::Private)).ends_with("already mapped"));
    m.unmap(0, 4 * P).unwrap();
    assert_eq!(byte(&m, 0).unwrap_err().code, TrapCode::MemoryAccessDenied);
    assert_eq!(file_byte(&mut f, P + 5), 0xaa);
    drop(f);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn order_of_checks_for_map_fd() {
    let (path, f) = temp_file("order", P as usize);
    let m = virtual_memory(2);
    let fd = f.as_raw_fd();
    let r = |addr, len, off, prot| refusal(m.map_fd(addr, len, fd, off, prot, MapFlags::Private));
    assert!(r(1, 0, 1, 2).ends_with("bad prot"));
    assert!(r(1, 0, 1, 1).ends_with("zero size"));
    assert!(r(1, P, 0, 1).ends_with("unaligned"));
    assert!(r(0, P, 1, 1).ends_with("unaligned"));
    let oob = m.map_fd(P, 2 * P, fd, 0, 1, MapFlags::Private).unwrap_err();
    assert_eq!(oob.code, TrapCode::MemoryOutOfBounds);
    // Host errors: a bad descriptor, a writable shared mapping of a
    // read-only descriptor.
    assert_eq!(
        m.map_fd(0, P, -1, 0, 1, MapFlags::Private)
            .unwrap_err()
            .code,
        TrapCode::HostError
    );
    let ro = std::fs::File::open(&path).unwrap();
    let e = m
        .map_fd(0, P, ro.as_raw_fd(), 0, 3, MapFlags::Shared)
        .unwrap_err();
    assert_eq!(e.code, TrapCode::HostError);
    // Read-only shared mapping: the host can never make it writable.
    m.map_fd(0, P, ro.as_raw_fd(), 0, 1, MapFlags::Shared)
        .unwrap();
    assert!(refusal(m.protect(0, P, 3)).ends_with("above grant"));
    assert_eq!(
        m.write(0, &[1]).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    m.protect(0, P, 0).unwrap();
    assert_eq!(byte(&m, 0).unwrap_err().code, TrapCode::MemoryAccessDenied);
    m.protect(0, P, 1).unwrap();
    assert_eq!(byte(&m, 1).unwrap(), 1);
    // A private mapping of the same descriptor is copy-on-write: writable.
    m.map_fd(P, P, ro.as_raw_fd(), 0, 1, MapFlags::Private)
        .unwrap();
    m.protect(P, P, 3).unwrap();
    m.write(P, &[9]).unwrap();
    assert!(refusal(m.protect(0, 2 * P, 3)).ends_with("above grant"));
    drop((f, ro));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn plain_memory_file_mapping_replaces_and_unmap_restores() {
    let (path, f) = temp_file("plain", P as usize);
    let m = plain_memory(3);
    m.write(P + 3, &[0x77]).unwrap();
    m.write(2 * P, &[0x66]).unwrap();
    m.map_fd(P, P, f.as_raw_fd(), 0, 1, MapFlags::Private)
        .unwrap();
    assert_eq!(
        byte(&m, P + 3).unwrap(),
        3,
        "the file replaced the contents"
    );
    assert_eq!(
        m.write(P, &[1]).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    assert_eq!(byte(&m, 2 * P).unwrap(), 0x66);
    // Discard writes zeros (it may not: the page is read-only).
    assert_eq!(
        m.discard(P, P).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    m.protect(P, P, 3).unwrap();
    m.discard(P, P).unwrap();
    assert_eq!(byte(&m, P + 3).unwrap(), 0);
    // Unmap puts back zeroed read-write pages.
    m.unmap(P, P).unwrap();
    assert_eq!(byte(&m, P + 3).unwrap(), 0);
    m.write(P, &[1]).unwrap();
    assert_eq!(m.mapping_runs().0, 1);
    // A plain memory's pages are all mapped.
    assert!(refusal(m.map_anonymous(0, P, 3)).ends_with("already mapped"));
    drop(f);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn pages_past_the_end_of_the_file_trap() {
    // 70000 bytes: page 0 whole, page 1 partly (the rest of its last host
    // page reads as zeros, the host pages after it fault), page 2 wholly
    // past the end.
    let (path, f) = temp_file("eof", 70000);
    let m = virtual_memory(3);
    m.map_fd(0, 3 * P, f.as_raw_fd(), 0, 3, MapFlags::Shared)
        .unwrap();
    assert_eq!(byte(&m, 69999).unwrap(), (69999 % 251) as u8);
    assert_eq!(byte(&m, 70000).unwrap(), 0);
    let t = byte(&m, 2 * P).unwrap_err();
    assert_eq!(
        (t.code, t.address),
        (TrapCode::MemoryAccessDenied, Some(2 * P))
    );
    assert_eq!(
        m.write(2 * P + 10, &[1]).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    // Still usable afterwards.
    m.write(0, &[0x42]).unwrap();
    assert_eq!(byte(&m, 0).unwrap(), 0x42);
    drop(f);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn shared_buffer_in_two_memories_and_the_host() {
    let buf = SharedBuffer::new(2 * P as usize).unwrap();
    assert_eq!(buf.size(), 2 * P as usize);
    let (a, b) = (virtual_memory(2), plain_memory(2));
    a.map_fd(0, 2 * P, buf.fd(), 0, 3, MapFlags::Shared)
        .unwrap();
    b.map_fd(0, P, buf.fd(), P, 3, MapFlags::Shared).unwrap();
    a.write(P + 1, &[0x5a]).unwrap();
    assert_eq!(byte(&b, 1).unwrap(), 0x5a);
    // SAFETY: the host's own mapping of the buffer, 2 pages long.
    unsafe { buf.data().add(P as usize + 2).write(0x6b) };
    assert_eq!(byte(&a, P + 2).unwrap(), 0x6b);
    assert_eq!(byte(&b, 2).unwrap(), 0x6b);
    // Discard of shared pages writes zeros everyone sees.
    b.discard(0, P).unwrap();
    assert_eq!(byte(&a, P + 1).unwrap(), 0);
    // The mappings outlive the buffer handle.
    drop(buf);
    a.write(P + 3, &[1]).unwrap();
    assert_eq!(byte(&b, 3).unwrap(), 1);
}

#[test]
fn mapping_budget_out_of_resources() {
    let m = virtual_memory(64);
    m.set_mapping_budget(10);
    m.map_anonymous(0, 3 * P, 3).unwrap();
    m.write(P, &[7]).unwrap();
    let mut mapped = 0;
    let mut refused_at = None;
    for page in (4..64).step_by(2) {
        match m.map_anonymous(page * P, P, 3) {
            Ok(()) => mapped += 1,
            Err(t) => {
                assert!(t.message.ends_with("out of resources"), "{t}");
                refused_at = Some(page);
                break;
            }
        }
    }
    let page = refused_at.expect("the budget runs out");
    assert!(
        mapped >= 1 && m.mapping_runs().0 <= 10,
        "{:?}",
        m.mapping_runs()
    );
    // Nothing changed: the refused page is unmapped, the others intact.
    assert_eq!(
        byte(&m, page * P).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    assert!(refusal(m.unmap(P, P)).ends_with("out of resources"));
    assert!(refusal(m.protect(P, P, 1)).ends_with("out of resources"));
    assert_eq!(byte(&m, P).unwrap(), 7);
    m.write(P, &[8]).unwrap();
    // Whole-run operations still fit; freeing runs gives the budget back.
    m.protect(0, 3 * P, 1).unwrap();
    m.unmap(4 * P, 60 * P).unwrap();
    assert_eq!(m.mapping_runs().0, 2);
    m.map_anonymous(page * P, P, 3).unwrap();
    assert_eq!(byte(&m, P).unwrap(), 8);
}
