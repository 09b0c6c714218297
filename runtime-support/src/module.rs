//! A compiled module: the descriptor an object exports, decoded once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::abi::{self, RawModule};
use crate::desc::{ExternKind, ModuleInfo};
use crate::sys::registry;
use crate::types::intern_signature;

pub struct Module {
    raw: usize,
    info: ModuleInfo,
    /// Code address of every *defined* function.
    funcs: Vec<usize>,
    /// `(function index, wrapper address)`, sorted by index.
    wrappers: Vec<(u32, usize)>,
    data: &'static [u8],
    /// Canonical signature id of every type index (`vmctx[VMCTX_TYPE_IDS]`).
    type_ids: Box<[u32]>,
    /// Copy-on-write data image of every memory (`None`: copy the
    /// segments), built on first instantiation (see `image`).
    images: OnceLock<Vec<Option<crate::image::MemoryImage>>>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("raw", &format_args!("{:#x}", self.raw))
            .finish_non_exhaustive()
    }
}

/// Reads `n` items at `p` as a slice (empty if `n` is 0, whatever `p`).
///
/// # Safety
///
/// If `n > 0`, `p` must point at `n` valid items that live forever.
unsafe fn slice<T>(p: *const T, n: u64) -> Result<&'static [T], String> {
    if n == 0 {
        return Ok(&[]);
    }
    let n = usize::try_from(n).map_err(|_| "module descriptor: count too large".to_string())?;
    if p.is_null() || !(p as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return Err("module descriptor: bad pointer".into());
    }
    // SAFETY: caller contract; non-null and aligned (checked).
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

impl Module {
    /// Reads a module descriptor (what `PREFIX_module()` returns), checks
    /// its magic and ABI version, decodes the metadata and registers the
    /// code and trap sites with the signal handler (once per descriptor).
    ///
    /// # Safety
    ///
    /// `raw` must point at a descriptor emitted by `wasm2o compile` that,
    /// with its code and data, stays loaded for the rest of the process.
    pub unsafe fn from_raw(raw: *const RawModule) -> Result<Arc<Module>, String> {
        // SAFETY: caller contract.
        let r = unsafe { raw.as_ref() }.ok_or("module descriptor: null")?;
        if r.magic != abi::MODULE_MAGIC {
            return Err("module descriptor: bad magic (not a wasm2o module)".into());
        }
        if r.abi_version != abi::ABI_VERSION {
            return Err(format!(
                "module descriptor: ABI version {} but this runtime speaks {}: recompile the module",
                r.abi_version,
                abi::ABI_VERSION
            ));
        }
        let missing = abi::missing_cpu_features(r.cpu_features, abi::host_cpu_features());
        if !missing.is_empty() {
            return Err(format!(
                "module compiled for CPU features this CPU lacks: {} (recompile with a lower --cpu)",
                missing.join(", ")
            ));
        }
        // SAFETY: the descriptor's arrays live as long as it (caller contract).
        let (meta, funcs, traps, wrappers, data) = unsafe {
            (
                slice(r.meta, r.meta_len)?,
                slice(r.funcs, r.num_funcs)?,
                slice(r.traps, r.num_traps)?,
                slice(r.wrappers, r.num_wrappers)?,
                slice(r.data, r.data_len)?,
            )
        };
        let info = ModuleInfo::decode(meta).map_err(|e| e.to_string())?;
        let defined = info.funcs.len() - info.num_imported(ExternKind::Func) as usize;
        if funcs.len() != defined {
            return Err(format!(
                "module descriptor: {} function bodies for {defined} defined functions",
                funcs.len()
            ));
        }
        for (i, d) in info.datas.iter().enumerate() {
            if d.data_offset
                .checked_add(d.len)
                .is_none_or(|e| e > data.len() as u64)
            {
                return Err(format!(
                    "module descriptor: data segment {i} outside the data blob"
                ));
            }
        }
        let mut wrappers: Vec<(u32, usize)> = wrappers
            .iter()
            .map(|w| (w.func_index, w.ptr as usize))
            .collect();
        wrappers.sort_by_key(|w| w.0);
        if wrappers.iter().any(|w| w.0 as usize >= info.funcs.len()) {
            return Err("module descriptor: wrapper for an unknown function".into());
        }
        registry::register_code(raw as usize, funcs, traps)
            .map_err(|e| format!("module descriptor: {e}"))?;
        let type_ids = info.types.iter().map(intern_signature).collect();
        Ok(Arc::new(Module {
            raw: raw as usize,
            funcs: funcs.iter().map(|f| f.ptr as usize).collect(),
            wrappers,
            data,
            type_ids,
            info,
            images: OnceLock::new(),
        }))
    }

    /// [`Module::from_raw`] decoded once per descriptor for the process
    /// (the C API's path): every instance of a descriptor shares one
    /// `Module`, so its data images are built once. Failures are not
    /// cached.
    ///
    /// # Safety
    ///
    /// As for [`Module::from_raw`].
    pub(crate) unsafe fn from_raw_cached(raw: *const RawModule) -> Result<Arc<Module>, String> {
        static CACHE: Mutex<BTreeMap<usize, Arc<Module>>> = Mutex::new(BTreeMap::new());
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = cache.get(&(raw as usize)) {
            return Ok(m.clone());
        }
        // SAFETY: caller contract.
        let m = unsafe { Module::from_raw(raw) }?;
        cache.insert(raw as usize, m.clone());
        Ok(m)
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// The descriptor this module was read from.
    pub fn raw(&self) -> *const RawModule {
        self.raw as *const RawModule
    }

    /// Code address of defined function `defined_index`.
    pub(crate) fn func_code(&self, defined_index: usize) -> usize {
        self.funcs[defined_index]
    }

    /// The array wrapper of function `func_index`, if the object has one
    /// (exports and the start function do).
    pub fn wrapper(&self, func_index: u32) -> Option<*const u8> {
        let i = self
            .wrappers
            .binary_search_by_key(&func_index, |w| w.0)
            .ok()?;
        Some(self.wrappers[i].1 as *const u8)
    }

    pub(crate) fn data(&self, offset: u64, len: u64) -> &[u8] {
        &self.data[offset as usize..(offset + len) as usize]
    }

    /// Memory `index`'s data image, built for every memory on the first
    /// call (one memfd per qualifying memory, for the process's lifetime).
    pub(crate) fn memory_image(&self, index: u32) -> Option<&crate::image::MemoryImage> {
        let data = self.data;
        self.images
            .get_or_init(|| {
                crate::image::build_all(&self.info, |off, len| {
                    &data[off as usize..(off + len) as usize]
                })
            })
            .get(index as usize)?
            .as_ref()
    }

    pub(crate) fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }
}

/// A descriptor with metadata and data but no code, for tests.
#[cfg(test)]
pub(crate) fn raw_for_tests(meta: &'static [u8], data: &'static [u8]) -> RawModule {
    raw_with_code_for_tests(meta, &[], &[], data)
}

/// A descriptor for tests whose "compiled code" is Rust functions written
/// to the ABI (no trap sites).
#[cfg(test)]
pub(crate) fn raw_with_code_for_tests(
    meta: &'static [u8],
    funcs: &'static [crate::abi::RawFunc],
    wrappers: &'static [crate::abi::RawWrapper],
    data: &'static [u8],
) -> RawModule {
    RawModule {
        magic: abi::MODULE_MAGIC,
        abi_version: abi::ABI_VERSION,
        meta: meta.as_ptr(),
        meta_len: meta.len() as u64,
        funcs: funcs.as_ptr(),
        num_funcs: funcs.len() as u64,
        traps: std::ptr::null(),
        num_traps: 0,
        wrappers: wrappers.as_ptr(),
        num_wrappers: wrappers.len() as u64,
        data: data.as_ptr(),
        data_len: data.len() as u64,
        cpu_features: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{RawFunc, RawTrap, RawWrapper};
    use crate::desc::{DataSegment, FuncType, SegmentMode, ValType};

    fn raw(meta: &'static [u8], data: &'static [u8]) -> RawModule {
        raw_for_tests(meta, data)
    }

    #[test]
    fn decodes_and_checks() {
        let info = ModuleInfo {
            types: vec![FuncType {
                params: vec![ValType::I32],
                results: vec![],
            }],
            datas: vec![DataSegment {
                mode: SegmentMode::Passive,
                data_offset: 0,
                len: 4,
            }],
            ..Default::default()
        };
        let meta: &'static [u8] = Box::leak(info.encode().into_boxed_slice());
        let r = Box::leak(Box::new(raw(meta, b"abcd")));
        // SAFETY: a leaked, well-formed descriptor.
        let m = unsafe { Module::from_raw(r) }.unwrap();
        assert_eq!(m.info().types.len(), 1);
        assert_eq!(m.data(0, 4), b"abcd");
        assert_eq!(m.type_ids()[0], intern_signature(&info.types[0]));

        let short = Box::leak(Box::new(raw(meta, b"ab")));
        // SAFETY: as above.
        assert!(unsafe { Module::from_raw(short) }
            .unwrap_err()
            .contains("data segment"));
        let mut bad = raw(meta, b"abcd");
        bad.abi_version = 99;
        let bad = Box::leak(Box::new(bad));
        // SAFETY: as above.
        assert!(unsafe { Module::from_raw(bad) }
            .unwrap_err()
            .contains("ABI version"));
        // A feature no CPU has (a bit unknown to this runtime) is refused
        // with the names of what is missing.
        let mut future = raw(meta, b"abcd");
        future.cpu_features = 1 << 62;
        let future = Box::leak(Box::new(future));
        // SAFETY: as above.
        let e = unsafe { Module::from_raw(future) }.unwrap_err();
        assert!(e.contains("CPU features") && e.contains("unknown"), "{e}");
        let _ = (
            RawFunc {
                ptr: std::ptr::null(),
                len: 0,
                trap_start: 0,
                trap_count: 0,
                _pad: 0,
            },
            RawTrap { offset: 0, code: 0 },
        );
        let _ = RawWrapper {
            func_index: 0,
            _pad: 0,
            ptr: std::ptr::null(),
        };
    }
}
