//! Parse and validate a module (wasmparser) into the compiler's view of it:
//! the runtime metadata (`desc::ModuleInfo`), the data image, and the
//! function bodies still to translate.

use crate::desc::{
    ConstExpr, DataSegment, ElemSegment, Export, ExternKind, FuncType, GlobalDef, GlobalType,
    Import, ImportKind, MemoryControl, MemoryType, ModuleInfo, SegmentMode, TableType, ValType,
};
use crate::{Error, Options};
use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, FunctionBody, Operator, Parser, Payload,
    TypeRef, Validator, WasmFeatures,
};

/// A defined function's body, ready to translate.
pub struct Body<'a> {
    /// Index in the function index space (imports included).
    pub func_index: u32,
    pub body: FunctionBody<'a>,
    /// Validator state for this function (operand types, needed to
    /// translate `select` and unreachable code correctly).
    pub validator: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
}

/// A parsed, validated module.
pub struct Module<'a> {
    pub info: ModuleInfo,
    /// Bytes of every data segment, each starting at a 4096-aligned offset.
    pub data: Vec<u8>,
    pub bodies: Vec<Body<'a>>,
    /// Names from the `name` section, by function index.
    pub func_names: Vec<Option<String>>,
    /// Raw text of the `memory-control` custom section, if any.
    pub memory_control_section: Option<String>,
    /// Function imports from `memory-control` that the compiler lowers
    /// itself, by function index (see `memctl`).
    pub intrinsics: std::collections::BTreeMap<u32, crate::memctl::Intrinsic>,
}

impl Module<'_> {
    pub fn num_imported_funcs(&self) -> u32 {
        self.info.num_imported(ExternKind::Func)
    }

    pub fn func_name(&self, index: u32) -> Option<String> {
        self.func_names.get(index as usize).cloned().flatten()
    }

    /// Whether every function reference an instance can hold is to one of
    /// its own defined functions, which carry the instance's own vmctx: no
    /// function imports but `memory-control` intrinsics (never referenced:
    /// not in an element segment, a global's initialiser or an export),
    /// no imported or exported table, no imported or exported `funcref`
    /// global, no exported function taking a `funcref`. Then nothing
    /// outside the instance can put a reference into it, and
    /// `call_indirect` can pass its own vmctx instead of the callee's (and
    /// skip handing over the stack limit, which is already there).
    pub fn funcrefs_are_own(&self) -> bool {
        let info = &self.info;
        let mut imported_funcs = 0;
        for import in &info.imports {
            match &import.kind {
                ImportKind::Func(_) if self.intrinsics.contains_key(&imported_funcs) => {
                    imported_funcs += 1
                }
                ImportKind::Func(_) | ImportKind::Table(_) => return false,
                ImportKind::Global(g) if g.ty == ValType::FuncRef => return false,
                ImportKind::Global(_) | ImportKind::Memory(_) => {}
            }
        }
        let to_import = |e: &ConstExpr| matches!(e, ConstExpr::RefFunc(f) if *f < imported_funcs);
        if info.elems.iter().flat_map(|s| &s.items).any(to_import)
            || info
                .globals
                .iter()
                .filter_map(|g| g.init.as_ref())
                .any(to_import)
        {
            return false;
        }
        info.exports.iter().all(|e| match e.kind {
            ExternKind::Table => false,
            ExternKind::Global => info.globals[e.index as usize].ty.ty != ValType::FuncRef,
            ExternKind::Func => {
                e.index >= imported_funcs
                    && !info.func_type(e.index).params.contains(&ValType::FuncRef)
            }
            ExternKind::Memory => true,
        })
    }
}

/// The Wasm features wasm2o compiles. Everything else is rejected by the
/// validator with a message naming the feature.
pub fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::GC_TYPES
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::FLOATS
        | WasmFeatures::MEMORY_CONTROL
        | WasmFeatures::THREADS
}

pub fn parse<'a>(wasm: &'a [u8], opts: &Options) -> Result<Module<'a>, Error> {
    let _ = opts;
    let mut validator = Validator::new_with_features(features());
    let mut m = Module {
        info: ModuleInfo::default(),
        data: Vec::new(),
        bodies: Vec::new(),
        func_names: Vec::new(),
        memory_control_section: None,
        intrinsics: Default::default(),
    };
    let mut next_body_index = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match validator.payload(&payload)? {
            wasmparser::ValidPayload::Func(func_validator, body) => {
                let func_index = m.info.num_imported(ExternKind::Func) + next_body_index;
                next_body_index += 1;
                m.bodies.push(Body {
                    func_index,
                    body,
                    validator: func_validator,
                });
                continue;
            }
            wasmparser::ValidPayload::End(_) => break,
            _ => {}
        }
        match payload {
            Payload::Version {
                encoding, range, ..
            } if encoding != wasmparser::Encoding::Module => {
                return Err(Error::unsupported(range.start, "component model"));
            }
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group?;
                    for sub in group.into_types() {
                        match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                m.info.types.push(FuncType {
                                    params: f
                                        .params()
                                        .iter()
                                        .map(|t| val_type(*t, 0))
                                        .collect::<Result<_, _>>()?,
                                    results: f
                                        .results()
                                        .iter()
                                        .map(|t| val_type(*t, 0))
                                        .collect::<Result<_, _>>()?,
                                });
                            }
                            _ => return Err(Error::unsupported(0, "GC types")),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp?;
                    let kind = match imp.ty {
                        TypeRef::Func(t) => {
                            m.info.funcs.push(t);
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = table_type(&t)?;
                            m.info.tables.push(t);
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(t) => {
                            let t = memory_type(&t)?;
                            m.info.memories.push(t);
                            ImportKind::Memory(t)
                        }
                        TypeRef::Global(g) => {
                            let ty = GlobalType {
                                ty: val_type(g.content_type, 0)?,
                                mutable: g.mutable,
                            };
                            m.info.globals.push(GlobalDef { ty, init: None });
                            ImportKind::Global(ty)
                        }
                        TypeRef::Tag(_) => {
                            return Err(Error::unsupported(0, "exception handling (tags)"))
                        }
                        TypeRef::FuncExact(_) => {
                            return Err(Error::unsupported(0, "custom descriptors"))
                        }
                    };
                    m.info.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.info.funcs.push(t?);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    let t = t?;
                    let ty = table_type(&t.ty)?;
                    if !matches!(t.init, wasmparser::TableInit::RefNull) {
                        return Err(Error::unsupported(
                            0,
                            "table initializer expressions (function references)",
                        ));
                    }
                    m.info.tables.push(ty);
                }
            }
            Payload::MemorySection(reader) => {
                for t in reader {
                    m.info.memories.push(memory_type(&t?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    let ty = GlobalType {
                        ty: val_type(g.ty.content_type, 0)?,
                        mutable: g.ty.mutable,
                    };
                    let init = const_expr(&g.init_expr)?;
                    m.info.globals.push(GlobalDef {
                        ty,
                        init: Some(init),
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExternKind::Func,
                        ExternalKind::Table => ExternKind::Table,
                        ExternalKind::Memory => ExternKind::Memory,
                        ExternalKind::Global => ExternKind::Global,
                        ExternalKind::Tag => {
                            return Err(Error::unsupported(0, "exception handling (tags)"))
                        }
                    };
                    m.info.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.info.start = Some(func),
            Payload::ElementSection(reader) => {
                for e in reader {
                    let e = e?;
                    let (elem, items) = match e.items {
                        ElementItems::Functions(r) => {
                            let mut items = Vec::new();
                            for f in r {
                                items.push(ConstExpr::RefFunc(f?));
                            }
                            (ValType::FuncRef, items)
                        }
                        ElementItems::Expressions(ty, r) => {
                            let elem = val_type(wasmparser::ValType::Ref(ty), 0)?;
                            let mut items = Vec::new();
                            for x in r {
                                items.push(const_expr(&x?)?);
                            }
                            (elem, items)
                        }
                    };
                    let mode = match e.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    m.info.elems.push(ElemSegment { mode, elem, items });
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d?;
                    let mode = match d.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let aligned = m.data.len().next_multiple_of(4096);
                    m.data.resize(aligned, 0);
                    m.data.extend_from_slice(d.data);
                    m.info.datas.push(DataSegment {
                        mode,
                        data_offset: aligned as u64,
                        len: d.data.len() as u64,
                    });
                }
            }
            Payload::CustomSection(reader) => match reader.as_known() {
                wasmparser::KnownCustom::Name(names) => {
                    for n in names.into_iter().flatten() {
                        if let wasmparser::Name::Function(map) = n {
                            for naming in map.into_iter().flatten() {
                                let i = naming.index as usize;
                                if m.func_names.len() <= i {
                                    m.func_names.resize(i + 1, None);
                                }
                                m.func_names[i] = Some(naming.name.to_string());
                            }
                        }
                    }
                }
                _ if reader.name() == "memory-control" => {
                    let text = std::str::from_utf8(reader.data()).map_err(|_| {
                        Error::at(
                            reader.data_offset(),
                            "memory-control section: payload is not UTF-8",
                        )
                    })?;
                    if m.memory_control_section.is_some() {
                        return Err(Error::at(
                            reader.data_offset(),
                            "memory-control section: appears twice",
                        ));
                    }
                    m.memory_control_section = Some(text.to_string());
                }
                _ => {}
            },
            Payload::TagSection(r) => {
                return Err(Error::unsupported(
                    r.range().start,
                    "exception handling (tags)",
                ))
            }
            _ => {}
        }
    }
    // Keep the data image page-aligned at its end too (mappable as a whole).
    let aligned = m.data.len().next_multiple_of(4096);
    m.data.resize(aligned, 0);
    Ok(m)
}

pub fn val_type(t: wasmparser::ValType, offset: u64) -> Result<ValType, Error> {
    use wasmparser::ValType as V;
    Ok(match t {
        V::I32 => ValType::I32,
        V::I64 => ValType::I64,
        V::F32 => ValType::F32,
        V::F64 => ValType::F64,
        V::V128 => return Err(Error::unsupported(offset, "SIMD (v128)")),
        V::Ref(r) => {
            if r.is_func_ref() && r.is_nullable() {
                ValType::FuncRef
            } else if r.is_extern_ref() && r.is_nullable() {
                ValType::ExternRef
            } else {
                return Err(Error::unsupported(
                    offset,
                    "typed function references / GC reference types",
                ));
            }
        }
    })
}

fn table_type(t: &wasmparser::TableType) -> Result<TableType, Error> {
    if t.shared {
        return Err(Error::unsupported(0, "shared tables"));
    }
    Ok(TableType {
        elem: val_type(wasmparser::ValType::Ref(t.element_type), 0)?,
        min: t.initial,
        max: t.maximum,
        table64: t.table64,
    })
}

fn memory_type(t: &wasmparser::MemoryType) -> Result<MemoryType, Error> {
    if t.page_size_log2.is_some() {
        return Err(Error::unsupported(0, "custom page sizes"));
    }
    Ok(MemoryType {
        min: t.initial,
        max: t.maximum,
        memory64: t.memory64,
        shared: t.shared,
        control: MemoryControl::default(),
    })
}

/// Reads a constant expression (MVP + reference types).
pub fn const_expr(e: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, Error> {
    let mut reader = e.get_operators_reader();
    let offset = reader.original_position();
    let op = reader.read()?;
    let value = match op {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::RefNull { hty } => ConstExpr::RefNull(match hty {
            wasmparser::HeapType::Abstract {
                ty: wasmparser::AbstractHeapType::Func,
                ..
            } => ValType::FuncRef,
            wasmparser::HeapType::Abstract {
                ty: wasmparser::AbstractHeapType::Extern,
                ..
            } => ValType::ExternRef,
            _ => return Err(Error::unsupported(offset, "GC heap types")),
        }),
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        _ => return Err(Error::unsupported(offset, "extended constant expressions")),
    };
    match reader.read()? {
        Operator::End => {}
        _ => return Err(Error::unsupported(offset, "extended constant expressions")),
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `funcrefs_are_own` of a module given as text (after the
    /// `memory-control` imports are resolved).
    fn own(text: &str) -> bool {
        let wasm = wat::parse_str(text).unwrap();
        let opts = Options::default();
        let mut module = parse(&wasm, &opts).unwrap();
        crate::memctl::apply(&mut module, &opts.memory_control).unwrap();
        module.funcrefs_are_own()
    }

    const BODY: &str = r#"
        (type $t (func (result i32)))
        (table 2 funcref)
        (func $f (result i32) (i32.const 1))
        (elem (i32.const 0) $f)
        (func (export "call") (param i32) (result i32)
          (call_indirect (type $t) (local.get 0)))"#;

    #[test]
    fn a_module_that_only_references_its_own_functions() {
        assert!(own(&format!("(module {BODY})")));
        // A memory-control import that no reference names.
        assert!(own(&format!(
            r#"(module (import "memory-control" "discard" (func (param i32 i32)))
                 (memory 1) {BODY})"#
        )));
        // Exported functions and funcref results are fine.
        assert!(own(&format!(
            r#"(module {BODY} (func (export "get") (result funcref) (ref.func $f)))"#
        )));
    }

    #[test]
    fn any_way_in_for_a_foreign_reference_turns_it_off() {
        for extra in [
            r#"(import "m" "g" (func))"#,
            r#"(import "m" "t" (table 1 funcref))"#,
            r#"(import "m" "r" (global funcref))"#,
            r#"(export "table" (table 0))"#,
            r#"(global (export "r") (mut funcref) (ref.null func))"#,
            r#"(func (export "take") (param funcref))"#,
        ] {
            // Imports must come first.
            let text = if extra.starts_with("(import") {
                format!("(module {extra} {BODY})")
            } else {
                format!("(module {BODY} {extra})")
            };
            assert!(!own(&text), "{text}");
        }
        // A memory-control import that a reference names.
        assert!(!own(&format!(
            r#"(module (import "memory-control" "discard" (func $d (param i32 i32)))
                 (memory 1) {BODY} (elem declare func $d))"#
        )));
    }
}
