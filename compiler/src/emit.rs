//! Emit the object: declare every symbol, translate and compile functions
//! in parallel, define them in module order, then write the descriptor.
//!
//! Output is byte-identical whatever the job count: work is split by index
//! and results are defined strictly in index order.

use crate::abi::{self, builtins};
use crate::module::Module;
use crate::target::Target;
use crate::translate::{self, wrapper, ModuleEnv, StackCheck, PTR};
use crate::{Error, Options};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, InstBuilder};
use cranelift_codegen::Context;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module as _, ModuleReloc};
use cranelift_object::{ObjectBuilder, ObjectModule};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Machine code of one function, ready to define.
struct CompiledFunc {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    traps: Vec<abi::RawTrap>,
}

const ALL_BUILTINS: &[&str] = &[
    builtins::MEMORY_GROW,
    builtins::MEMORY_FILL,
    builtins::MEMORY_COPY,
    builtins::MEMORY_INIT,
    builtins::DATA_DROP,
    builtins::TABLE_GROW,
    builtins::TABLE_FILL,
    builtins::TABLE_COPY,
    builtins::TABLE_INIT,
    builtins::ELEM_DROP,
    builtins::RAISE_TRAP,
    builtins::MEMORY_DISCARD,
    builtins::MEMORY_MAP,
    builtins::MEMORY_UNMAP,
    builtins::MEMORY_PROTECT,
    builtins::MEMORY_MAP_HANDLE,
    builtins::ATOMIC_NOTIFY,
    builtins::ATOMIC_WAIT32,
    builtins::ATOMIC_WAIT64,
];

pub fn emit(module: &Module<'_>, target: &Target, opts: &Options) -> Result<Vec<u8>, Error> {
    let p = &opts.prefix;
    let builder = ObjectBuilder::new(
        target.isa.clone(),
        format!("{p}.o"),
        cranelift_module::default_libcall_names(),
    )
    .map_err(|e| Error::msg(format!("object: {e}")))?;
    let mut obj = ObjectModule::new(builder);
    let isa = target.isa.clone();
    let call_conv = isa.default_call_conv();
    let module_err = |e: cranelift_module::ModuleError| Error::msg(format!("object: {e}"));

    // 1. Declare every symbol.
    let mut defined_func_ids = Vec::new();
    for body in &module.bodies {
        let ty = module.info.func_type(body.func_index);
        let sig = translate::wasm_signature(ty, call_conv);
        let id = obj
            .declare_function(&format!("{p}_f{}", body.func_index), Linkage::Local, &sig)
            .map_err(module_err)?;
        defined_func_ids.push(id);
    }
    let mut builtin_ids = HashMap::new();
    for name in ALL_BUILTINS {
        // The signature only matters to cranelift-module for checking
        // redeclarations; calls carry their own.
        let sig = ir::Signature::new(call_conv);
        let id = obj
            .declare_function(name, Linkage::Import, &sig)
            .map_err(module_err)?;
        builtin_ids.insert(*name, id.as_u32());
    }
    let env = ModuleEnv {
        module,
        layout: module.info.vmctx_layout(),
        call_conv,
        frontend_config: isa.frontend_config(),
        bounds_checks: opts.bounds_checks,
        cas_writes_on_failure: target.info.cas_writes_on_failure,
        defined_func_ids: defined_func_ids.iter().map(|id| id.as_u32()).collect(),
        builtin_ids,
        ctz_by_popcnt: target.info.arch == crate::target::Arch::X86_64
            && target.cpu.features & abi::CPU_BMI1 == 0,
        own_funcrefs: module.funcrefs_are_own(),
    };
    let mut wrapped: Vec<u32> = module
        .info
        .exports
        .iter()
        .filter(|e| e.kind == crate::desc::ExternKind::Func)
        .map(|e| e.index)
        .chain(module.info.start)
        .collect();
    wrapped.sort_unstable();
    wrapped.dedup();
    let mut wrapper_ids = Vec::new();
    for f in &wrapped {
        let sig = wrapper::wrapper_signature(&env);
        wrapper_ids.push(
            obj.declare_function(&format!("{p}_w{f}"), Linkage::Local, &sig)
                .map_err(module_err)?,
        );
    }

    // 2. Translate and compile in parallel; 3. define in module order as
    // soon as a function and all before it are done, so that a function's
    // code is held once (in the object), not also in a list of results.
    let mut raw_traps: Vec<abi::RawTrap> = Vec::new();
    let mut func_entries = Vec::new(); // (func id, len, trap_start, trap_count)
    compile_all(&env, target, opts.jobs, &defined_func_ids, &mut |i, c| {
        let id = defined_func_ids[i];
        obj.define_function_bytes(id, c.alignment, &c.bytes, &c.relocs)
            .map_err(module_err)?;
        func_entries.push((
            id,
            c.bytes.len() as u32,
            raw_traps.len() as u32,
            c.traps.len() as u32,
        ));
        raw_traps.extend(c.traps);
        Ok(())
    })?;
    for (f, id) in wrapped.iter().zip(&wrapper_ids) {
        let func = wrapper::translate_wrapper(&env, *f, id.as_u32());
        let (c, _) =
            compile_one(func, *id, target).map_err(|e| e.in_func(*f, module.func_name(*f)))?;
        obj.define_function_bytes(*id, c.alignment, &c.bytes, &c.relocs)
            .map_err(module_err)?;
    }

    // 4. Data: metadata, tables, data image, descriptor.
    let data_obj = |obj: &mut ObjectModule,
                    name: String,
                    bytes: Vec<u8>,
                    align: u64|
     -> Result<Option<DataId>, Error> {
        if bytes.is_empty() {
            return Ok(None);
        }
        let id = obj
            .declare_data(&name, Linkage::Local, false, false)
            .map_err(module_err)?;
        let mut d = DataDescription::new();
        d.define(bytes.into_boxed_slice());
        d.set_align(align);
        obj.define_data(id, &d).map_err(module_err)?;
        Ok(Some(id))
    };
    let meta = module.info.encode();
    let meta_len = meta.len() as u64;
    let meta_id = data_obj(&mut obj, format!("{p}_meta"), meta, 8)?;
    let trap_bytes: Vec<u8> = raw_traps
        .iter()
        .flat_map(|t| {
            t.offset
                .to_le_bytes()
                .into_iter()
                .chain(t.code.to_le_bytes())
        })
        .collect();
    let traps_id = data_obj(&mut obj, format!("{p}_traps"), trap_bytes, 8)?;
    let data_id = data_obj(
        &mut obj,
        format!("{p}_data"),
        module.data.clone(),
        target.data_image_align(),
    )?;

    // RawFunc[]: pointers relocated to each function.
    let funcs_id = if func_entries.is_empty() {
        None
    } else {
        let id = obj
            .declare_data(&format!("{p}_funcs"), Linkage::Local, false, false)
            .map_err(module_err)?;
        let mut bytes = Vec::new();
        let mut d = DataDescription::new();
        let mut relocs = Vec::new();
        for (fid, len, start, count) in &func_entries {
            relocs.push((bytes.len() as u32, *fid));
            bytes.extend_from_slice(&0u64.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&start.to_le_bytes());
            bytes.extend_from_slice(&count.to_le_bytes());
            bytes.extend_from_slice(&0u32.to_le_bytes());
        }
        d.define(bytes.into_boxed_slice());
        d.set_align(8);
        for (off, fid) in relocs {
            let r = obj.declare_func_in_data(fid, &mut d);
            d.write_function_addr(off, r);
        }
        obj.define_data(id, &d).map_err(module_err)?;
        Some(id)
    };
    // RawWrapper[].
    let wrappers_id = if wrapped.is_empty() {
        None
    } else {
        let id = obj
            .declare_data(&format!("{p}_wrappers"), Linkage::Local, false, false)
            .map_err(module_err)?;
        let mut bytes = Vec::new();
        let mut d = DataDescription::new();
        let mut relocs = Vec::new();
        for (f, wid) in wrapped.iter().zip(&wrapper_ids) {
            bytes.extend_from_slice(&f.to_le_bytes());
            bytes.extend_from_slice(&0u32.to_le_bytes());
            relocs.push((bytes.len() as u32, *wid));
            bytes.extend_from_slice(&0u64.to_le_bytes());
        }
        d.define(bytes.into_boxed_slice());
        d.set_align(8);
        for (off, wid) in relocs {
            let r = obj.declare_func_in_data(wid, &mut d);
            d.write_function_addr(off, r);
        }
        obj.define_data(id, &d).map_err(module_err)?;
        Some(id)
    };

    // The descriptor itself.
    let desc_id = obj
        .declare_data(&format!("{p}_desc"), Linkage::Local, false, false)
        .map_err(module_err)?;
    {
        let mut bytes = vec![0u8; abi::RAW_MODULE_SIZE as usize];
        let mut put = |off: u32, v: u64| {
            bytes[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
        };
        put(abi::RAW_MODULE_META + 8, meta_len);
        put(abi::RAW_MODULE_FUNCS + 8, func_entries.len() as u64);
        put(abi::RAW_MODULE_TRAPS + 8, raw_traps.len() as u64);
        put(abi::RAW_MODULE_WRAPPERS + 8, wrapped.len() as u64);
        put(abi::RAW_MODULE_DATA + 8, module.data.len() as u64);
        put(abi::RAW_MODULE_CPU_FEATURES, target.cpu.features);
        bytes[0..4].copy_from_slice(&abi::MODULE_MAGIC.to_le_bytes());
        bytes[4..8].copy_from_slice(&abi::ABI_VERSION.to_le_bytes());
        let mut d = DataDescription::new();
        d.define(bytes.into_boxed_slice());
        d.set_align(8);
        for (off, target) in [
            (abi::RAW_MODULE_META, meta_id),
            (abi::RAW_MODULE_FUNCS, funcs_id),
            (abi::RAW_MODULE_TRAPS, traps_id),
            (abi::RAW_MODULE_WRAPPERS, wrappers_id),
            (abi::RAW_MODULE_DATA, data_id),
        ] {
            if let Some(t) = target {
                let gv = obj.declare_data_in_data(t, &mut d);
                d.write_data_addr(off, gv, 0);
            }
        }
        obj.define_data(desc_id, &d).map_err(module_err)?;
    }

    // `const wasm2o_module *P_module(void)`.
    let mut sig = ir::Signature::new(call_conv);
    sig.returns.push(ir::AbiParam::new(PTR));
    let getter = obj
        .declare_function(&abi::module_symbol(p), Linkage::Export, &sig)
        .map_err(module_err)?;
    let mut func =
        ir::Function::with_name_signature(ir::UserFuncName::user(0, getter.as_u32()), sig);
    {
        let gv = obj.declare_data_in_func(desc_id, &mut func);
        let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
        let mut b = cranelift_frontend::FunctionBuilder::new(&mut func, &mut fctx);
        let block = b.create_block();
        b.switch_to_block(block);
        b.seal_block(block);
        let v = b.ins().symbol_value(PTR, gv);
        b.ins().return_(&[v]);
        b.finalize(isa.frontend_config());
    }
    let (c, _) = compile_one(func, getter, target)?;
    obj.define_function_bytes(getter, c.alignment, &c.bytes, &c.relocs)
        .map_err(module_err)?;

    let product = obj.finish();
    product
        .emit()
        .map_err(|e| Error::msg(format!("writing object: {e}")))
}

/// Translates and compiles every defined function on `jobs` threads and
/// hands each result to `sink` in module order (function `i` after all
/// before it), on the calling thread. Results that finish out of order
/// wait in a small reorder buffer. The first error by function index is
/// returned; after an error no new work is handed out.
fn compile_all(
    env: &ModuleEnv<'_, '_>,
    target: &Target,
    jobs: usize,
    ids: &[FuncId],
    sink: &mut dyn FnMut(usize, CompiledFunc) -> Result<(), Error>,
) -> Result<(), Error> {
    let n = env.module.bodies.len();
    let jobs = match jobs {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        j => j,
    }
    .min(n.max(1));
    let compile = |i: usize| {
        let body = &env.module.bodies[i];
        let build = |check: StackCheck| {
            translate::translate_function(env, body, check).and_then(|func| {
                compile_one(func, ids[i], target)
                    .map_err(|e| e.in_func(body.func_index, env.module.func_name(body.func_index)))
            })
        };
        let (code, frame) = build(StackCheck::AfterPrologue)?;
        if frame <= translate::MAX_FRAME_AFTER_CHECK {
            Ok(code)
        } else {
            // Too large a frame to allocate before the check: again, with
            // the check in the prologue.
            build(StackCheck::InPrologue).map(|(code, _)| code)
        }
    };
    if jobs <= 1 {
        for i in 0..n {
            sink(i, compile(i)?)?;
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<CompiledFunc, Error>)>();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, compile) = (&next, &compile);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = compile(i);
                let failed = r.is_err();
                if tx.send((i, r)).is_err() || failed {
                    // The receiver gave up, or this function failed: stop
                    // handing out work (the lowest failing index is reported).
                    next.store(n, Ordering::Relaxed);
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, CompiledFunc> = BTreeMap::new();
        let mut done = 0; // functions handed to `sink`
        let mut error: Option<(usize, Error)> = None;
        for (i, r) in rx {
            match r {
                Ok(c) => {
                    pending.insert(i, c);
                }
                Err(e) => {
                    if error.as_ref().is_none_or(|(k, _)| i < *k) {
                        error = Some((i, e));
                    }
                }
            }
            // Flush the run that is now complete. A failed function is
            // never in `pending`, so the flush stops below it.
            while let Some(c) = pending.remove(&done) {
                if let Err(e) = sink(done, c) {
                    // Report it as a failure at this index and stop.
                    next.store(n, Ordering::Relaxed);
                    error = Some((done, e));
                    break;
                }
                done += 1;
            }
        }
        match error {
            Some((_, e)) => Err(e),
            None if done == n => Ok(()),
            // Work stopped early; every function below the stop was done,
            // so this cannot happen without an error.
            None => Err(Error::msg("compilation stopped after an error")),
        }
    })
}

/// Compiles one function; also returns the size of its frame below the
/// frame pointer (saved registers, spills, outgoing arguments).
fn compile_one(
    func: ir::Function,
    id: FuncId,
    target: &Target,
) -> Result<(CompiledFunc, u32), Error> {
    let mut ctx = Context::for_function(func);
    let failed = |e: &dyn std::fmt::Debug| Error::msg(format!("code generation failed: {e:?}"));
    let lower_isa = match &target.lower_isa {
        Some(lower_isa) => {
            ctx.optimize(&*target.isa, &mut ControlPlane::default())
                .map_err(|e| failed(&e))?;
            ctx.compute_loop_analysis();
            // x86-64 only: aarch64's address modes already take a
            // zero-extended 32-bit index, and its gain is unmeasured.
            if target.info.arch == crate::target::Arch::X86_64 {
                crate::hoist::subtractions_as_additions(&mut ctx.func);
                crate::addresses::fold_addresses(
                    &mut ctx.func,
                    &ctx.cfg,
                    &ctx.domtree,
                    &ctx.loop_analysis,
                );
            }
            crate::hoist::hoist_compared_constants(&mut ctx.func, &ctx.domtree, &ctx.loop_analysis);
            crate::latch::retarget_exit_tests(&mut ctx.func);
            crate::latch::hide_increments(&mut ctx.func, &ctx.cfg, &ctx.domtree);
            crate::zext::drop_redundant_masks(&mut ctx.func);
            crate::zext::widen_loads(&mut ctx.func);
            if target.info.arch == crate::target::Arch::X86_64 {
                crate::zext::widen_loop_params(
                    &mut ctx.func,
                    &ctx.cfg,
                    &ctx.domtree,
                    &ctx.loop_analysis,
                );
            }
            lower_isa
        }
        None => &target.isa,
    };
    let code = ctx
        .compile(&**lower_isa, &mut ControlPlane::default())
        .map_err(|e| failed(&e.inner))?;
    let bytes = code.code_buffer().to_vec();
    let frame = code
        .buffer
        .frame_layout()
        .map_or(u32::MAX, |l| l.frame_to_fp_offset);
    // Cranelift's preferred alignment (32 bytes on both architectures),
    // not its minimum: functions that start mid-cache-line cost decode
    // bandwidth on every call (bintrees went from 1.5× to ~1.2× native).
    let alignment = (code.buffer.alignment as u64).max(target.function_align());
    let traps = code
        .buffer
        .traps()
        .iter()
        .map(|t| abi::RawTrap {
            offset: t.offset,
            code: translate::abi_trap(t.code) as u32,
        })
        .collect();
    let raw_relocs = code.buffer.relocs().to_vec();
    let relocs = raw_relocs
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    Ok((
        CompiledFunc {
            bytes,
            alignment,
            relocs,
            traps,
        },
        frame,
    ))
}
