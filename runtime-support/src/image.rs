//! Copy-on-write data images: a defined memory's initial contents, laid
//! out by memory address in a sealed memfd built once per module, mapped
//! `MAP_PRIVATE | MAP_FIXED` into each new instance's memory instead of
//! copying its active data segments, so instantiation costs the same for
//! 1 KiB and 1 GiB of data (Linux only).
//!
//! ```text
//!  memory:    0      seg A           seg B (overlaps A: B wins)       size
//!             |      [=======]   [=========]                          |
//!  image fd:  <holes>[AAAAAAAABBBBBBBBBBBBB] (file offset = address)
//!  mapped:    |   |##############################|   |  host pages with
//!                 ^ floor to host page           ^ ceil   segment bytes
//! ```
//!
//! The image holds exactly what the memory must hold after the copy path
//! ran (segments in order, later wins, zeros elsewhere), so partial host
//! pages at either end are mapped too. A memory gets an image only when
//! the copy path could not trap or behave differently: it is defined,
//! neither shared (memfd-backed already) nor virtual, every active segment
//! for it has a constant offset and lies in bounds of its initial size and
//! outside the no-access prefix, and there is enough data to be worth a
//! mapping. Everything else keeps the copy path, which also produces the
//! spec's traps. Pages in the read-only prefix (or of an immutable
//! memory) are sealed `PROT_READ` afterwards like copied ones.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::abi::WASM_PAGE_SIZE as P;
use crate::desc::{ConstExpr, ExternKind, ModuleInfo, SegmentMode};
use crate::memory::MemoryInner;
use crate::pagemap::Prot;
use crate::sys::mmap::page_size;
use crate::sys::remap::{self, Fill};

/// Below this many bytes of data a memory's segments are copied: a copy
/// is cheaper than the mappings and the page faults.
pub(crate) const MIN_IMAGE_BYTES: u64 = 64 * 1024;

/// Ranges closer than this are mapped as one (the gap reads the image's
/// zeros), so scattered segments cost few kernel mappings.
const MERGE_GAP: u64 = 64 * 1024;

/// More separate ranges than this: copy instead (each costs a mapping).
const MAX_RANGES: usize = 64;

/// One memory's data image.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    fd: OwnedFd,
    /// Host-page-aligned `[start, end)` byte ranges of the memory to map
    /// from the image (file offset = address), sorted, disjoint.
    ranges: Vec<(u64, u64)>,
}

/// The images of every memory of a module (`None`: copy path), built by
/// `Module` once, on first instantiation.
pub(crate) fn build_all(
    info: &ModuleInfo,
    data: impl Fn(u64, u64) -> &'static [u8],
) -> Vec<Option<MemoryImage>> {
    let imported = info.num_imported(ExternKind::Memory) as usize;
    (0..info.memories.len())
        .map(|i| {
            if i < imported {
                None
            } else {
                build(info, i as u32, &data)
            }
        })
        .collect()
}

/// Memory `index`'s image, if it qualifies (see the file comment).
fn build(
    info: &ModuleInfo,
    index: u32,
    data: &impl Fn(u64, u64) -> &'static [u8],
) -> Option<MemoryImage> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let ty = info.memories[index as usize];
    if ty.shared || ty.control.is_virtual {
        return None;
    }
    let prefix = ty
        .control
        .no_access_pages
        .checked_add(ty.control.read_only_pages)?;
    let size = prefix.checked_add(ty.min)?.checked_mul(P)?;
    let ro_base = ty.control.no_access_pages.checked_mul(P)?;
    let mut chunks = Vec::new();
    for seg in &info.datas {
        let SegmentMode::Active { index: i, offset } = &seg.mode else {
            continue;
        };
        if *i != index {
            continue;
        }
        let off = match *offset {
            ConstExpr::I32(v) => v as u32 as u64,
            ConstExpr::I64(v) if ty.memory64 => v as u64,
            _ => return None,
        };
        // A segment that would trap (out of bounds, or writing the
        // no-access part) must trap on the copy path, in its turn.
        if off.checked_add(seg.len).is_none_or(|e| e > size) || (seg.len > 0 && off < ro_base) {
            return None;
        }
        if seg.len > 0 {
            chunks.push((off, data(seg.data_offset, seg.len)));
        }
    }
    if chunks.iter().map(|c| c.1.len() as u64).sum::<u64>() < MIN_IMAGE_BYTES {
        return None;
    }
    let hp = page_size() as u64;
    let mut spans: Vec<(u64, u64)> = chunks
        .iter()
        .map(|&(off, b)| (off / hp * hp, (off + b.len() as u64).div_ceil(hp) * hp))
        .collect();
    spans.sort_unstable();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for (s, e) in spans {
        match ranges.last_mut() {
            Some(last) if s <= last.1.saturating_add(MERGE_GAP) => last.1 = last.1.max(e),
            _ => ranges.push((s, e)),
        }
    }
    // Merging may have reached into the no-access prefix or past the
    // initial size only within host pages that hold segment bytes, which
    // are in bounds: the size and `ro_base` are multiples of 64 KiB.
    debug_assert!(ranges.iter().all(|&(s, e)| s >= ro_base && e <= size));
    if ranges.len() > MAX_RANGES {
        return None;
    }
    let end = ranges.last()?.1;
    let fd = remap::sealed_image(end, chunks).ok()?;
    Some(MemoryImage { fd, ranges })
}

/// Maps `img` into `mem` (a fresh, unsealed memory of the image's type,
/// nothing written yet), read-write copy-on-write. `false`: a mapping
/// failed; the memory is back to zeroed anonymous pages and the caller
/// copies the segments instead.
pub(crate) fn apply(mem: &MemoryInner, img: &MemoryImage) -> bool {
    let rw = Prot::ReadWrite.to_libc();
    for (k, &(s, e)) in img.ranges.iter().enumerate() {
        let fill = Fill::File {
            prot: rw,
            fd: img.fd.as_raw_fd(),
            offset: s,
            shared: false,
        };
        if remap::replace(&mem.map, s as usize, (e - s) as usize, fill).is_err() {
            for &(s, e) in &img.ranges[..=k] {
                remap::replace_or_abort(
                    &mem.map,
                    s as usize,
                    (e - s) as usize,
                    Fill::Anonymous(rw),
                );
            }
            return false;
        }
    }
    // Record the 64 KiB pages holding image pages in the page map, so
    // discard, unmap and file mappings know. Only the read-write part of
    // a memory that is not immutable: nothing can change the others.
    if !mem.ty.control.immutable {
        for &(s, e) in &img.ranges {
            let a = s.max(mem.rw_base) / P;
            mem.ctl.record_image(a, e.div_ceil(P));
        }
    }
    true
}

impl MemoryImage {
    /// The byte ranges of the memory the image is mapped over.
    pub(crate) fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }
}
