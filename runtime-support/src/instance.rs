//! Instances: import resolution and type checking, the vmctx, segment
//! initialisation, the start function, and calls into exported functions.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::abi::TrapCode;
use crate::desc::{ConstExpr, ExternKind, ImportKind, MemoryType, SegmentMode, TableType};
use crate::func::{Func, VMCaller};
use crate::global::Global;
use crate::memory::Memory;
use crate::module::Module;
use crate::sys::{enter, vmctx::VmCtx};
use crate::table::Table;
use crate::trap::{CallError, InstantiateError, Trap};
use crate::types::VMFuncRef;
use crate::val::Val;

/// Something an instance imports or exports.
#[derive(Clone, Debug)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
}

impl Extern {
    fn kind_name(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Table(_) => "table",
            Extern::Memory(_) => "memory",
            Extern::Global(_) => "global",
        }
    }
}

/// Per-instance settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstanceOptions {
    /// Most stack bytes a call into Wasm may use below the caller's stack
    /// pointer (0: everything down to the thread's stack end minus a
    /// margin kept for host code and signal handling).
    pub max_stack_bytes: u64,
}

/// An instantiated module. Used by one thread at a time; stays usable
/// after a trap.
pub struct Instance {
    pub(crate) inner: Arc<InstanceInner>,
}

/// Instances kept alive by a shared table or global.
///
/// A funcref is the address of an entry in its instance's vmctx, so an
/// instance whose functions may sit in another instance's table or global
/// must outlive them. An instance that imports a table or a global
/// registers itself here at instantiation — before its element segments run,
/// so that a failed instantiation whose segments already wrote into an
/// imported table stays valid, as the spec requires. The price is a
/// reference cycle (the instance holds the table too): such instances are
/// never freed. That is a bounded leak, never a dangling reference.
#[derive(Default)]
pub(crate) struct KeepAlive(Mutex<Vec<Arc<InstanceInner>>>);

impl KeepAlive {
    pub(crate) fn push(&self, instance: Arc<InstanceInner>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(instance);
    }
}

impl std::fmt::Debug for KeepAlive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|v| v.len()).unwrap_or(0);
        write!(f, "KeepAlive({n} instances)")
    }
}

#[doc(hidden)]
pub struct InstanceInner {
    module: Arc<Module>,
    vmctx: VmCtx,
    /// Keeps imported functions (and their instances) alive.
    _imports: Vec<Extern>,
    /// `wasm2o_caller` objects of imported host functions (boxed: compiled
    /// code holds their addresses).
    #[allow(clippy::vec_box)]
    callers: Vec<Box<VMCaller>>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) tables: Vec<Table>,
    pub(crate) globals: Vec<Global>,
    /// Element segment values; empty once dropped.
    elems: Vec<Mutex<Arc<[usize]>>>,
    datas_dropped: Vec<AtomicBool>,
    max_stack_bytes: u64,
    pub(crate) c: crate::capi::CState,
    /// Descriptors the guest may map with `map_handle` (`Instance::grant`).
    pub(crate) grants: crate::host_map::Grants,
}

struct Resolved {
    all: Vec<Extern>,
    funcs: Vec<Func>,
    memories: Vec<Memory>,
    tables: Vec<Table>,
    globals: Vec<Global>,
}

fn link_err(imp: &crate::desc::Import, detail: String) -> InstantiateError {
    InstantiateError::Link(format!(
        "incompatible import type: {}::{}: {detail}",
        imp.module, imp.name
    ))
}

fn limits_ok(min: u64, max: Option<u64>, actual_min: u64, actual_max: Option<u64>) -> bool {
    actual_min >= min && max.is_none_or(|m| actual_max.is_some_and(|a| a <= m))
}

fn check_memory(want: &MemoryType, m: &Memory) -> Result<(), String> {
    let have = m.ty();
    let actual_max = m.inner_max();
    if want.memory64 != have.memory64 || want.shared != have.shared {
        return Err(format!(
            "memory kind differs (expected {want:?}, got {have:?})"
        ));
    }
    // Memory-control attributes are part of the type and must match
    // exactly; the limits are the read-write part's.
    if want.control != have.control {
        return Err(format!(
            "memory-control attributes differ (expected {:?}, got {:?})",
            want.control, have.control
        ));
    }
    if !limits_ok(want.min, want.max, have.min, actual_max) {
        return Err(format!(
            "memory limits: expected min {} max {:?}, got current {} max {:?}",
            want.min, want.max, have.min, actual_max
        ));
    }
    Ok(())
}

fn check_table(want: &TableType, t: &Table) -> Result<(), String> {
    let have = t.ty();
    if want.elem != have.elem || want.table64 != have.table64 {
        return Err(format!(
            "table of {} expected, got table of {}",
            want.elem, have.elem
        ));
    }
    if !limits_ok(want.min, want.max, have.min, have.max) {
        return Err(format!(
            "table limits: expected min {} max {:?}, got current {} max {:?}",
            want.min, want.max, have.min, have.max
        ));
    }
    Ok(())
}

fn resolve_imports(
    module: &Module,
    resolve: &mut dyn FnMut(&crate::desc::Import) -> Option<Extern>,
) -> Result<Resolved, InstantiateError> {
    let info = module.info();
    let mut r = Resolved {
        all: vec![],
        funcs: vec![],
        memories: vec![],
        tables: vec![],
        globals: vec![],
    };
    for imp in &info.imports {
        let ext = if imp.module == crate::builtins::MEMORY_CONTROL {
            // Served by the runtime, never by the host.
            Extern::Func(
                crate::builtins::memory_control_import(info, imp)
                    .map_err(InstantiateError::Link)?,
            )
        } else {
            resolve(imp).ok_or_else(|| {
                InstantiateError::Link(format!("unknown import: {}::{}", imp.module, imp.name))
            })?
        };
        match (&imp.kind, &ext) {
            (ImportKind::Func(t), Extern::Func(f)) => {
                let want = &info.types[*t as usize];
                if f.ty() != want {
                    return Err(link_err(
                        imp,
                        format!("expected function {want}, got {}", f.ty()),
                    ));
                }
                r.funcs.push(f.clone());
            }
            (ImportKind::Memory(want), Extern::Memory(m)) => {
                check_memory(want, m).map_err(|e| link_err(imp, e))?;
                r.memories.push(m.clone());
            }
            (ImportKind::Table(want), Extern::Table(t)) => {
                check_table(want, t).map_err(|e| link_err(imp, e))?;
                r.tables.push(t.clone());
            }
            (ImportKind::Global(want), Extern::Global(g)) => {
                let have = g.ty();
                if have != *want {
                    let m = |b: bool| if b { "mut " } else { "" };
                    return Err(link_err(
                        imp,
                        format!(
                            "expected global {}{}, got global {}{}",
                            m(want.mutable),
                            want.ty,
                            m(have.mutable),
                            have.ty
                        ),
                    ));
                }
                r.globals.push(g.clone());
            }
            (kind, ext) => {
                let want = match kind {
                    ImportKind::Func(_) => "function",
                    ImportKind::Table(_) => "table",
                    ImportKind::Memory(_) => "memory",
                    ImportKind::Global(_) => "global",
                };
                return Err(link_err(
                    imp,
                    format!("expected a {want}, got a {}", ext.kind_name()),
                ));
            }
        }
        r.all.push(ext);
    }
    Ok(r)
}

/// Evaluates a constant expression to the bits of its value.
fn eval(
    expr: &ConstExpr,
    globals: &[Global],
    vmctx: &VmCtx,
    nfuncs: usize,
) -> Result<u64, InstantiateError> {
    let bad = |what: &str| {
        InstantiateError::Resource(format!("module descriptor: constant expression: {what}"))
    };
    Ok(match *expr {
        ConstExpr::I32(v) => v as u32 as u64,
        ConstExpr::I64(v) => v as u64,
        ConstExpr::F32(v) => v as u64,
        ConstExpr::F64(v) => v,
        ConstExpr::RefNull(_) => 0,
        ConstExpr::RefFunc(i) if (i as usize) < nfuncs => vmctx.func_addr(i) as u64,
        ConstExpr::RefFunc(_) => return Err(bad("function index out of range")),
        ConstExpr::GlobalGet(g) => globals
            .get(g as usize)
            .ok_or_else(|| bad("global index out of range"))?
            .get()
            .to_bits(),
    })
}

impl Instance {
    /// Instantiates `module`: resolves every import through `resolve`
    /// (`None` → link error "unknown import"), checks types ("incompatible
    /// import type"), initialises tables and memories from active segments
    /// (a failing segment is a trap; earlier writes to imported tables and
    /// memories stay), then runs the start function.
    pub fn new(
        module: &Arc<Module>,
        resolve: &mut dyn FnMut(&crate::desc::Import) -> Option<Extern>,
    ) -> Result<Instance, InstantiateError> {
        Instance::new_with_options(module, resolve, &InstanceOptions::default())
    }

    /// [`Instance::new`] with options.
    pub fn new_with_options(
        module: &Arc<Module>,
        resolve: &mut dyn FnMut(&crate::desc::Import) -> Option<Extern>,
        options: &InstanceOptions,
    ) -> Result<Instance, InstantiateError> {
        crate::sys::signals::init();
        crate::builtins::keep();
        let info = module.info();
        let imports = resolve_imports(module, resolve)?;
        let res = InstantiateError::Resource;

        let mut memories = imports.memories;
        // Defined memories keep their read-only part writable until the
        // data segments ran (`initialise` seals them).
        for ty in &info.memories[memories.len()..] {
            memories.push(Memory::new_unsealed(*ty).map_err(res)?);
        }
        let mut tables = imports.tables;
        for ty in &info.tables[tables.len()..] {
            tables.push(Table::new(*ty, Val::default_for(ty.elem)).map_err(res)?);
        }

        let vmctx = VmCtx::new(info.vmctx_layout());
        vmctx.set_type_ids(module.type_ids().as_ptr());
        for (i, m) in memories.iter().enumerate() {
            vmctx.set_memory(i as u32, m.data_ptr(), m.def_ptr());
        }
        for (i, t) in tables.iter().enumerate() {
            vmctx.set_table(i as u32, t.def_ptr());
        }
        let nimported = imports.funcs.len();
        let mut callers = Vec::new();
        for (i, f) in imports.funcs.iter().enumerate() {
            let caller = f.host_env().map(|env| {
                Box::new(VMCaller {
                    stack_limit: AtomicUsize::new(0),
                    env: AtomicPtr::new(env as *mut _),
                    instance: AtomicPtr::new(std::ptr::null_mut()),
                })
            });
            let p = caller.as_ref().map_or(std::ptr::null_mut(), |c| {
                &**c as *const VMCaller as *mut VMCaller
            });
            vmctx.set_func(i as u32, f.bind(p));
            callers.extend(caller);
        }
        for i in nimported..info.funcs.len() {
            let type_id = module.type_ids()[info.funcs[i] as usize];
            vmctx.set_func(
                i as u32,
                VMFuncRef {
                    fn_ptr: module.func_code(i - nimported) as *const u8,
                    vmctx: vmctx.as_ptr(),
                    type_id,
                    _pad: 0,
                },
            );
        }

        let mut globals = imports.globals;
        for g in &info.globals[globals.len()..] {
            let init = g.init.as_ref().ok_or_else(|| {
                res("module descriptor: defined global without initialiser".into())
            })?;
            let bits = eval(init, &globals, &vmctx, info.funcs.len())?;
            globals.push(Global::new(g.ty, Val::from_bits(g.ty.ty, bits)));
        }
        for (i, g) in globals.iter().enumerate() {
            vmctx.set_global(i as u32, g.cell_ptr());
        }

        let mut elems = Vec::with_capacity(info.elems.len());
        for seg in &info.elems {
            let vals: Vec<usize> = seg
                .items
                .iter()
                .map(|e| eval(e, &globals, &vmctx, info.funcs.len()).map(|b| b as usize))
                .collect::<Result<_, _>>()?;
            elems.push(Mutex::new(Arc::from(vals)));
        }

        let inner = Arc::new(InstanceInner {
            module: module.clone(),
            vmctx,
            _imports: imports.all,
            callers,
            memories,
            tables,
            globals,
            elems,
            datas_dropped: info.datas.iter().map(|_| AtomicBool::new(false)).collect(),
            max_stack_bytes: options.max_stack_bytes,
            c: Default::default(),
            grants: Default::default(),
        });
        let self_ptr = Arc::as_ptr(&inner);
        inner.vmctx.set_instance(self_ptr as *const ());
        for c in &inner.callers {
            c.instance
                .store(self_ptr as *mut InstanceInner, Ordering::Release);
        }
        let info = module.info();
        let n_tables = info.num_imported(crate::desc::ExternKind::Table) as usize;
        for t in &inner.tables[..n_tables] {
            t.keep_alive(inner.clone());
        }
        let n_globals = info.num_imported(crate::desc::ExternKind::Global) as usize;
        for g in &inner.globals[..n_globals] {
            if g.ty().ty == crate::desc::ValType::FuncRef {
                g.keep_alive(inner.clone());
            }
        }
        let init = inner.initialise();
        // Protect the read-only prefixes (whole immutable memories) before
        // any start function runs, whether or not a segment trapped.
        let n_memories = info.num_imported(crate::desc::ExternKind::Memory) as usize;
        for m in &inner.memories[n_memories..] {
            m.inner.seal().map_err(res)?;
        }
        init?;
        if let Some(start) = info.start {
            let mut values = [0u64; 1];
            inner.invoke(start, &mut values).map_err(|e| match e {
                CallError::Trap(t) => InstantiateError::Trap(t),
                other => InstantiateError::Resource(other.to_string()),
            })?;
        }
        Ok(Instance { inner })
    }

    pub fn module(&self) -> &Arc<Module> {
        &self.inner.module
    }

    pub fn export(&self, name: &str) -> Option<Extern> {
        self.inner.export(name)
    }

    /// Calls exported function `name` with `args`.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, CallError> {
        let inner = &self.inner;
        let e = inner
            .module
            .info()
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == ExternKind::Func);
        let index = e
            .ok_or_else(|| CallError::NoSuchExport(name.to_string()))?
            .index;
        inner.call_index(index, args)
    }

    pub fn memory(&self, index: u32) -> Option<Memory> {
        self.inner.memories.get(index as usize).cloned()
    }

    pub fn table(&self, index: u32) -> Option<Table> {
        self.inner.tables.get(index as usize).cloned()
    }

    pub fn global(&self, index: u32) -> Option<Global> {
        self.inner.globals.get(index as usize).cloned()
    }
}

impl InstanceInner {
    pub(crate) fn vmctx(&self) -> &VmCtx {
        &self.vmctx
    }

    pub(crate) fn module(&self) -> &Arc<Module> {
        &self.module
    }

    /// Wasm 2.0 instantiation: active element segments in order, then
    /// active data segments in order; active and declared segments are
    /// dropped afterwards.
    fn initialise(&self) -> Result<(), InstantiateError> {
        let info = self.module.info();
        let trap = |code: TrapCode| InstantiateError::Trap(Trap::new(code));
        for (i, seg) in info.elems.iter().enumerate() {
            match &seg.mode {
                SegmentMode::Passive => {}
                SegmentMode::Declared => self.elem_drop(i as u32),
                SegmentMode::Active { index, offset } => {
                    let table = self
                        .tables
                        .get(*index as usize)
                        .ok_or_else(|| trap(TrapCode::TableOutOfBounds))?;
                    let off = self.offset(offset, table.ty().table64)?;
                    let vals = self.elem_segment(i as u32);
                    table.init(off, &vals).map_err(trap)?;
                    self.elem_drop(i as u32);
                }
            }
        }
        // Only the defining module's segments may write a read-only part
        // (its memory is not sealed yet); an importer's may not. Per
        // segment: bounds first, then protection.
        let n_imported = info.num_imported(ExternKind::Memory);
        // Memories with a data image get it mapped copy-on-write, and their
        // segments (which cannot trap, see `image`) are not copied.
        let imaged: Vec<bool> = (0..self.memories.len())
            .map(|i| {
                self.module
                    .memory_image(i as u32)
                    .is_some_and(|img| crate::image::apply(&self.memories[i].inner, img))
            })
            .collect();
        for (i, seg) in info.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = &seg.mode {
                if imaged.get(*index as usize) == Some(&true) {
                    self.data_drop(i as u32);
                    continue;
                }
                let mem = self
                    .memories
                    .get(*index as usize)
                    .ok_or_else(|| trap(TrapCode::MemoryOutOfBounds))?;
                let off = self.offset(offset, mem.ty().memory64)?;
                let defined = *index >= n_imported;
                let bytes = self.module.data(seg.data_offset, seg.len);
                // A virtual memory's segments map the pages they touch.
                let r = crate::mapping::map_for_segment(&mem.inner, off, bytes.len() as u64)
                    .and_then(|()| mem.inner.write(off, bytes, defined));
                if let Err(t) = r {
                    self.unwind_images(&imaged, i);
                    return Err(InstantiateError::Trap(t.into_trap(Some(*index))));
                }
                self.data_drop(i as u32);
            }
        }
        Ok(())
    }

    /// Segment `failed` trapped: the memories that got their whole image
    /// must hold only the segments before it (functions of the failed
    /// instance may still run through an imported table and read them).
    /// Rare, so it rewrites the image ranges: zeros, then those segments
    /// again (the memories are not sealed yet).
    fn unwind_images(&self, imaged: &[bool], failed: usize) {
        for m in (0..imaged.len()).filter(|&m| imaged[m]) {
            let (mem, img) = (&self.memories[m].inner, self.module.memory_image(m as u32));
            for &(s, e) in img.expect("an applied image").ranges() {
                mem.map.fill(s as usize, 0, (e - s) as usize);
            }
            for seg in &self.module.info().datas[..failed] {
                if let SegmentMode::Active { index, offset } = &seg.mode {
                    // Constant and in bounds: the image's conditions.
                    if let (true, Ok(off)) =
                        (*index as usize == m, self.offset(offset, mem.ty.memory64))
                    {
                        mem.map
                            .write(off as usize, self.module.data(seg.data_offset, seg.len));
                    }
                }
            }
        }
    }

    fn offset(&self, expr: &ConstExpr, is64: bool) -> Result<u64, InstantiateError> {
        let bits = eval(
            expr,
            &self.globals,
            &self.vmctx,
            self.module.info().funcs.len(),
        )?;
        Ok(if is64 { bits } else { bits & 0xffff_ffff })
    }

    pub(crate) fn export(self: &Arc<Self>, name: &str) -> Option<Extern> {
        let e = self.module.info().exports.iter().find(|e| e.name == name)?;
        Some(match e.kind {
            ExternKind::Func => {
                let info = self.module.info();
                let ty = info.func_type(e.index).clone();
                let type_id = self.module.type_ids()[info.funcs[e.index as usize] as usize];
                Extern::Func(Func::of_instance(self.clone(), e.index, ty, type_id))
            }
            ExternKind::Memory => Extern::Memory(self.memories[e.index as usize].clone()),
            ExternKind::Table => Extern::Table(self.tables[e.index as usize].clone()),
            ExternKind::Global => Extern::Global(self.globals[e.index as usize].clone()),
        })
    }

    pub(crate) fn call_index(&self, index: u32, args: &[Val]) -> Result<Vec<Val>, CallError> {
        let ty = self.module.info().func_type(index);
        if args.len() != ty.params.len() || args.iter().zip(&ty.params).any(|(a, t)| a.ty() != *t) {
            let got: Vec<String> = args.iter().map(|a| a.ty().to_string()).collect();
            return Err(CallError::BadArguments(format!(
                "function type is {ty}, got [{}]",
                got.join(" ")
            )));
        }
        let mut values = vec![0u64; ty.params.len().max(ty.results.len()).max(1)];
        for (slot, a) in values.iter_mut().zip(args) {
            *slot = a.to_bits();
        }
        self.invoke(index, &mut values)?;
        Ok(ty
            .results
            .iter()
            .zip(&values)
            .map(|(t, b)| Val::from_bits(*t, *b))
            .collect())
    }

    /// Runs function `index` through its array wrapper on `values`.
    pub(crate) fn invoke(&self, index: u32, values: &mut [u64]) -> Result<(), CallError> {
        let ty = self.module.info().func_type(index);
        assert!(
            values.len() >= ty.params.len().max(ty.results.len()),
            "value slots too short"
        );
        let wrapper = self.module.wrapper(index).ok_or_else(|| {
            CallError::BadArguments(format!(
                "function {index} has no array wrapper (not exported)"
            ))
        })?;
        // SAFETY: the wrapper belongs to this instance's module, the vmctx
        // is fully initialised (instantiation is past the vmctx setup), and
        // `values` holds max(params, results) slots (asserted above).
        let r = unsafe {
            enter::call_wrapper(
                wrapper,
                self.vmctx.as_ptr(),
                values.as_mut_ptr(),
                self.max_stack_bytes,
            )
        };
        r.map_err(|rec| CallError::Trap(self.make_trap(rec)))
    }

    fn make_trap(&self, rec: crate::sys::tls::TrapRecord) -> Trap {
        let code = TrapCode::from_u32(rec.code).unwrap_or(TrapCode::HostError);
        let memory = (rec.memory_base != 0)
            .then(|| {
                self.memories
                    .iter()
                    .position(|m| m.data_ptr() as usize == rec.memory_base)
            })
            .flatten()
            .map(|i| i as u32);
        let t = Trap {
            code,
            memory,
            address: rec.address,
            message: crate::trap::trap_message(code, rec.reason),
        };
        self.c.record_trap(&t);
        t
    }

    /// A data segment's bytes (empty once dropped).
    pub(crate) fn data_segment(&self, i: u32) -> &[u8] {
        let seg = &self.module.info().datas[i as usize];
        if self.datas_dropped[i as usize].load(Ordering::Acquire) {
            &[]
        } else {
            self.module.data(seg.data_offset, seg.len)
        }
    }

    pub(crate) fn data_drop(&self, i: u32) {
        self.datas_dropped[i as usize].store(true, Ordering::Release);
    }

    /// An element segment's values (empty once dropped).
    pub(crate) fn elem_segment(&self, i: u32) -> Arc<[usize]> {
        self.elems[i as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn elem_drop(&self, i: u32) {
        *self.elems[i as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Arc::from(Vec::new());
    }

    pub(crate) fn num_datas(&self) -> usize {
        self.datas_dropped.len()
    }

    pub(crate) fn num_elems(&self) -> usize {
        self.elems.len()
    }
}
