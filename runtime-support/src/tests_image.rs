//! Tests of copy-on-write data images (`image`): instances share the
//! image and never see each other's writes, discard over image pages
//! gives zeros and frees them, overlapping and unaligned segments hold
//! exactly what copying would give, and the cases that keep the copy
//! path (and its traps). Also the runtime's pre-check of host pages past
//! the end of a mapped file.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::abi::{TrapCode, WASM_PAGE_SIZE as P};
use crate::desc::*;
use crate::memory::tests::maps_line;
use crate::*;

/// A module without code: memories `mems`, active data segments
/// `(memory, offset, bytes)`.
fn module(
    mems: &[MemoryType],
    segs: &[(u32, ConstExpr, Vec<u8>)],
    globals: Vec<GlobalDef>,
) -> Arc<Module> {
    let mut info = ModuleInfo {
        memories: mems.to_vec(),
        globals,
        ..Default::default()
    };
    let mut blob = Vec::new();
    for (mem, off, bytes) in segs {
        let data_offset = blob.len() as u64;
        blob.extend_from_slice(bytes);
        blob.resize(blob.len().next_multiple_of(4096), 0);
        info.datas.push(DataSegment {
            mode: SegmentMode::Active {
                index: *mem,
                offset: *off,
            },
            data_offset,
            len: bytes.len() as u64,
        });
    }
    let meta: &'static [u8] = Box::leak(info.encode().into_boxed_slice());
    let data: &'static [u8] = Box::leak(blob.into_boxed_slice());
    let raw = Box::leak(Box::new(crate::module::raw_for_tests(meta, data)));
    // SAFETY: a leaked, well-formed descriptor.
    unsafe { Module::from_raw(raw) }.unwrap()
}

fn mem_ty(min: u64, na: u64, ro: u64) -> MemoryType {
    MemoryType {
        min,
        max: None,
        memory64: false,
        shared: false,
        control: MemoryControl {
            no_access_pages: na,
            read_only_pages: ro,
            ..Default::default()
        },
    }
}

fn at(off: u64) -> ConstExpr {
    ConstExpr::I32(off as u32 as i32)
}

/// `len` pseudo-random bytes (never all zero in a page).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 | 1
        })
        .collect()
}

fn new(m: &Arc<Module>) -> Result<Instance, InstantiateError> {
    Instance::new(m, &mut |_| None)
}

fn contents(m: &Memory) -> Vec<u8> {
    let mut v = vec![0u8; m.size_bytes() as usize];
    m.read(0, &mut v).unwrap();
    v
}

/// What copying the segments in order gives.
fn expected(size: u64, segs: &[(u32, ConstExpr, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0u8; size as usize];
    for (_, off, bytes) in segs {
        let ConstExpr::I32(o) = off else {
            unreachable!()
        };
        let o = *o as u32 as usize;
        v[o..o + bytes.len()].copy_from_slice(bytes);
    }
    v
}

fn from_image(m: &Memory, addr: u64) -> bool {
    maps_line(m.data_ptr() as usize + addr as usize).contains("wasm2o-data-image")
}

#[test]
fn instances_share_the_image_copy_on_write() {
    let data = noise(4 << 20, 7);
    let segs = vec![(0, at(P), data.clone())];
    let m = module(&[mem_ty(80, 0, 0)], &segs, vec![]);
    let want = expected(80 * P, &segs);
    let (a, b) = (new(&m).unwrap(), new(&m).unwrap());
    let (ma, mb) = (a.memory(0).unwrap(), b.memory(0).unwrap());
    assert!(from_image(&ma, P) && from_image(&mb, P + (4 << 20) - 1));
    assert!(!from_image(&ma, 0), "page 0 holds no data: anonymous");
    assert!(contents(&ma) == want && contents(&mb) == want);
    // Writes stay private to their instance.
    ma.write(P, &[0; 100]).unwrap();
    ma.write(P + (2 << 20), b"written").unwrap();
    ma.write(P + (4 << 20) - 1, &[0]).unwrap();
    assert!(
        contents(&mb) == want,
        "the other instance still sees the image"
    );
    let c = new(&m).unwrap();
    assert!(contents(&c.memory(0).unwrap()) == want, "a fresh one too");
    let mut b7 = [0u8; 7];
    ma.read(P + (2 << 20), &mut b7).unwrap();
    assert_eq!(&b7, b"written");
    // Growth and the pages around the image are unaffected.
    assert_eq!(ma.grow(2), Some(80));
    ma.write(81 * P, &[5]).unwrap();
    assert_eq!(
        ma.write(82 * P, &[5]).unwrap_err().code,
        TrapCode::MemoryOutOfBounds
    );
}

#[test]
fn discard_over_image_pages_reads_zeros_and_frees_them() {
    let data = noise(4 << 20, 9);
    let segs = vec![(0, at(P), data.clone())];
    let m = module(&[mem_ty(80, 0, 0)], &segs, vec![]);
    let i = new(&m).unwrap();
    let mem = i.memory(0).unwrap();
    let mut want = contents(&mem); // touches every page
                                   // Discard from page 0 (anonymous) into the image (pages 1..=8), and
                                   // a range wholly inside it after a write (a private copy).
    mem.write(20 * P + 5, b"mine").unwrap();
    mem.discard(0, 9 * P).unwrap();
    mem.discard(20 * P, 4 * P).unwrap();
    want[..9 * P as usize].fill(0);
    want[20 * P as usize..24 * P as usize].fill(0);
    assert!(
        !from_image(&mem, P) && !from_image(&mem, 20 * P),
        "fresh anonymous pages"
    );
    assert!(from_image(&mem, 9 * P) && from_image(&mem, 24 * P));
    assert_eq!(mem.map().resident_pages(0, 9 * P as usize).unwrap(), 0);
    assert_eq!(
        mem.map()
            .resident_pages(20 * P as usize, 4 * P as usize)
            .unwrap(),
        0
    );
    assert!(contents(&mem) == want);
    // Discarding again (now anonymous), and discard then write, behave.
    mem.discard(P, P).unwrap();
    mem.write(2 * P, b"again").unwrap();
    let mut b = [0u8; 5];
    mem.read(2 * P, &mut b).unwrap();
    assert_eq!(&b, b"again");
    // Another instance keeps the image.
    assert!(contents(&new(&m).unwrap().memory(0).unwrap()) == expected(80 * P, &segs));
}

#[test]
fn overlapping_segments_later_wins() {
    let segs = vec![
        (0, at(P), vec![0x11; 3 * P as usize]),
        (0, at(P + 1000), vec![0x22; 100]),
        (0, at(2 * P + 50_000), vec![0x33; 70_000]),
        (0, at(P + 900), noise(200, 3)),
        (0, at(10 * P), vec![]),
    ];
    let m = module(&[mem_ty(10, 0, 0)], &segs, vec![]);
    let i = new(&m).unwrap();
    let mem = i.memory(0).unwrap();
    assert!(from_image(&mem, P));
    assert!(contents(&mem) == expected(10 * P, &segs));
}

#[test]
fn unaligned_segments_hold_exact_bytes() {
    // Starts and ends inside host pages; a small one far away (merged
    // ranges and a separate range).
    let segs = vec![
        (0, at(2 * P + 123), noise(300_007, 5)),
        (0, at(40 * P + 4095), noise(10, 6)),
        (0, at(20 * P + 1), noise(3, 8)),
    ];
    let m = module(&[mem_ty(41, 0, 0)], &segs, vec![]);
    let img = m.memory_image(0).expect("an image");
    assert_eq!(img.ranges().len(), 3, "{:?}", img.ranges());
    let mem = new(&m).unwrap().memory(0).unwrap();
    let got = contents(&mem);
    assert!(got == expected(41 * P, &segs));
    assert_eq!(got[2 * P as usize + 122], 0);
    assert_eq!(got[2 * P as usize + 123 + 300_007], 0);
}

#[test]
fn read_only_prefix_and_immutable_images_are_sealed() {
    // 1 no-access page, 2 read-only pages with data, then read-write.
    let segs = vec![(0, at(P), noise(4 * P as usize, 11))];
    let m = module(&[mem_ty(4, 1, 2)], &segs, vec![]);
    let mem = new(&m).unwrap().memory(0).unwrap();
    assert!(from_image(&mem, P) && from_image(&mem, 4 * P));
    assert!(maps_line(mem.data_ptr() as usize + P as usize).contains(" r--p "));
    assert!(maps_line(mem.data_ptr() as usize + 3 * P as usize).contains(" rw-p "));
    let mut b = [0u8; 1];
    mem.read(P, &mut b).unwrap();
    assert_eq!(b[0], segs[0].2[0]);
    assert_eq!(
        mem.write(P, &[1]).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    assert_eq!(
        mem.discard(2 * P, P).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    let want = expected(7 * P, &segs);
    let mut got = vec![0u8; 6 * P as usize];
    mem.read(P, &mut got).unwrap();
    assert!(got[..] == want[P as usize..]);

    let imm = MemoryType {
        control: MemoryControl {
            immutable: true,
            ..Default::default()
        },
        ..mem_ty(3, 0, 0)
    };
    let m = module(&[imm], &[(0, at(0), noise(2 * P as usize, 12))], vec![]);
    let mem = new(&m).unwrap().memory(0).unwrap();
    assert!(from_image(&mem, 0) && maps_line(mem.data_ptr() as usize).contains(" r--p "));
    assert_eq!(
        mem.write(0, &[1]).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
}

#[test]
fn copy_path_cases_and_their_traps() {
    let big = noise(2 * P as usize, 13);
    // Small data: copied.
    let m = module(&[mem_ty(4, 0, 0)], &[(0, at(P), vec![7; 1000])], vec![]);
    assert!(m.memory_image(0).is_none());
    // A global.get offset: copied (and still right).
    let g = GlobalDef {
        ty: GlobalType {
            ty: ValType::I32,
            mutable: false,
        },
        init: Some(ConstExpr::I32(P as i32)),
    };
    let m = module(
        &[mem_ty(4, 0, 0)],
        &[(0, ConstExpr::GlobalGet(0), big.clone())],
        vec![g],
    );
    assert!(m.memory_image(0).is_none());
    let mem = new(&m).unwrap().memory(0).unwrap();
    assert!(!from_image(&mem, P));
    assert!(contents(&mem)[P as usize..3 * P as usize] == big[..]);
    // Out of bounds: no image, and the trap of the copy path.
    let m = module(&[mem_ty(2, 0, 0)], &[(0, at(P), big.clone())], vec![]);
    assert!(m.memory_image(0).is_none());
    match new(&m) {
        Err(InstantiateError::Trap(t)) => assert_eq!(t.code, TrapCode::MemoryOutOfBounds),
        other => panic!("{:?}", other.err()),
    }
    // Touching the no-access part: access denied.
    let m = module(&[mem_ty(4, 1, 0)], &[(0, at(P - 1), big.clone())], vec![]);
    assert!(m.memory_image(0).is_none());
    match new(&m) {
        Err(InstantiateError::Trap(t)) => assert_eq!(t.code, TrapCode::MemoryAccessDenied),
        other => panic!("{:?}", other.err()),
    }
    // Shared and virtual memories: their own backing.
    let shared = MemoryType {
        shared: true,
        max: Some(4),
        ..mem_ty(4, 0, 0)
    };
    let m = module(&[shared], &[(0, at(P), big.clone())], vec![]);
    assert!(m.memory_image(0).is_none());
    assert!(contents(&new(&m).unwrap().memory(0).unwrap())[P as usize..3 * P as usize] == big[..]);
    // A later segment of another memory traps: the imaged memory is
    // rewritten to hold only the segments before it (no panic, the trap
    // is the copy path's).
    let segs = vec![
        (0, at(0), big.clone()),
        (1, at(P), vec![1; 10]),
        (0, at(P), vec![2; 10]),
    ];
    let m = module(&[mem_ty(4, 0, 0), mem_ty(1, 0, 0)], &segs, vec![]);
    assert!(m.memory_image(0).is_some());
    match new(&m) {
        Err(InstantiateError::Trap(t)) => {
            assert_eq!((t.code, t.memory), (TrapCode::MemoryOutOfBounds, Some(1)))
        }
        other => panic!("{:?}", other.err()),
    }
}

/// A temporary file of `len` bytes of 0xab.
fn temp_file(name: &str, len: usize) -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!("wasm2o-{name}-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    f.write_all(&vec![0xab; len]).unwrap();
    (path, f)
}

#[test]
fn bulk_writes_past_the_end_of_a_file_write_nothing() {
    // 70000 bytes mapped over pages 1..4 of a plain memory: the host page
    // holding byte 69999 (relative) is the last readable one.
    let (path, f) = temp_file("eof-bulk", 70000);
    let mem = Memory::new(mem_ty(4, 0, 0)).unwrap();
    mem.map_fd(P, 3 * P, f.as_raw_fd(), 0, 3, MapFlags::Shared)
        .unwrap();
    let hp = crate::sys::mmap::page_size() as u64;
    let eof = P + 70000u64.div_ceil(hp) * hp;
    // A write from below the end into the pages past it: denied at the
    // first page past the end, and nothing written.
    let t = mem.write(P + 69000, &[1; 8000]).unwrap_err();
    assert_eq!(
        (t.code, t.address),
        (TrapCode::MemoryAccessDenied, Some(eof))
    );
    let mut b = [0u8; 1];
    mem.read(P + 69000, &mut b).unwrap();
    assert_eq!(b[0], 0xab, "nothing written before the faulting point");
    // Up to the end of the last partial host page is fine (zeros after
    // byte 70000).
    mem.write(P + 69999, &vec![2; (eof - P - 69999) as usize])
        .unwrap();
    // Reads (a copy's source) and discard (a fill) are denied the same way.
    assert_eq!(
        mem.read(eof - 1, &mut [0; 2]).unwrap_err().address,
        Some(eof)
    );
    assert_eq!(
        mem.discard(2 * P, P).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    assert_eq!(
        mem.read(3 * P, &mut b).unwrap_err().code,
        TrapCode::MemoryAccessDenied
    );
    // Pages below the file and the ones before the end work.
    mem.write(P - 1, &[3, 3]).unwrap();
    mem.discard(0, P).unwrap();
    // A mapping that starts past the end is denied from its start; one
    // wholly within the file (from offset 65536: 4464 bytes) too past it.
    mem.unmap(P, 3 * P).unwrap();
    mem.map_fd(3 * P, P, f.as_raw_fd(), P, 3, MapFlags::Private)
        .unwrap();
    let edge = 3 * P + (70000 - P).div_ceil(hp) * hp;
    assert_eq!(
        mem.write(3 * P, &vec![4; P as usize]).unwrap_err().address,
        Some(edge)
    );
    mem.write(3 * P, &[4; 16]).unwrap();
    drop(f);
    std::fs::remove_file(path).unwrap();
}
