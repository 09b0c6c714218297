//! The module metadata the compiler writes into the object and the runtime
//! reads back: types, imports, memories, tables, globals, exports, segments.
//!
//! Encoded as a compact little-endian byte string (`encode`/`decode`); the
//! encoding is deterministic (no maps, fields in declaration order).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
}

impl ValType {
    fn tag(self) -> u8 {
        match self {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            ValType::F64 => 3,
            ValType::FuncRef => 4,
            ValType::ExternRef => 5,
        }
    }
    fn from_tag(t: u8) -> Result<Self, DecodeError> {
        Ok(match t {
            0 => ValType::I32,
            1 => ValType::I64,
            2 => ValType::F32,
            3 => ValType::F64,
            4 => ValType::FuncRef,
            5 => ValType::ExternRef,
            _ => return Err(DecodeError("bad value type")),
        })
    }
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(f, "[{}] -> [{}]", list(&self.params), list(&self.results))
    }
}

/// Memory-control attributes of a memory (part of its type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemoryControl {
    pub no_access_pages: u64,
    pub read_only_pages: u64,
    pub is_virtual: bool,
    pub immutable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    /// Limits in 64 KiB pages (of the read-write part).
    pub min: u64,
    pub max: Option<u64>,
    pub memory64: bool,
    pub shared: bool,
    pub control: MemoryControl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    /// `FuncRef` or `ExternRef`.
    pub elem: ValType,
    pub min: u64,
    pub max: Option<u64>,
    pub table64: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    pub ty: ValType,
    pub mutable: bool,
}

/// A constant expression (MVP + reference types; no extended-const).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstExpr {
    I32(i32),
    I64(i64),
    /// Bit pattern.
    F32(u32),
    /// Bit pattern.
    F64(u64),
    RefNull(ValType),
    RefFunc(u32),
    GlobalGet(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// Type index.
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalDef {
    pub ty: GlobalType,
    /// `None` for imported globals.
    pub init: Option<ConstExpr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentMode {
    Passive,
    /// Element segments only.
    Declared,
    Active {
        index: u32,
        offset: ConstExpr,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemSegment {
    pub mode: SegmentMode,
    /// `FuncRef` or `ExternRef`.
    pub elem: ValType,
    pub items: Vec<ConstExpr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Offset of the bytes in `RawModule::data` (4096-aligned).
    pub data_offset: u64,
    pub len: u64,
}

/// Everything the runtime needs to know about a module, besides code.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleInfo {
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalDef>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
}

impl ModuleInfo {
    pub fn num_imported(&self, kind: ExternKind) -> u32 {
        self.imports
            .iter()
            .filter(|i| {
                matches!(
                    (&i.kind, kind),
                    (ImportKind::Func(_), ExternKind::Func)
                        | (ImportKind::Table(_), ExternKind::Table)
                        | (ImportKind::Memory(_), ExternKind::Memory)
                        | (ImportKind::Global(_), ExternKind::Global)
                )
            })
            .count() as u32
    }

    pub fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    pub fn vmctx_layout(&self) -> crate::abi::VmctxLayout {
        crate::abi::VmctxLayout {
            num_memories: self.memories.len() as u32,
            num_globals: self.globals.len() as u32,
            num_tables: self.tables.len() as u32,
            num_funcs: self.funcs.len() as u32,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.u32(self.types.len() as u32);
        for t in &self.types {
            w.functype(t);
        }
        w.u32(self.imports.len() as u32);
        for i in &self.imports {
            w.str(&i.module);
            w.str(&i.name);
            match &i.kind {
                ImportKind::Func(t) => {
                    w.u8(0);
                    w.u32(*t);
                }
                ImportKind::Table(t) => {
                    w.u8(1);
                    w.table(t);
                }
                ImportKind::Memory(m) => {
                    w.u8(2);
                    w.memory(m);
                }
                ImportKind::Global(g) => {
                    w.u8(3);
                    w.global(g);
                }
            }
        }
        w.u32(self.funcs.len() as u32);
        for f in &self.funcs {
            w.u32(*f);
        }
        w.u32(self.memories.len() as u32);
        for m in &self.memories {
            w.memory(m);
        }
        w.u32(self.tables.len() as u32);
        for t in &self.tables {
            w.table(t);
        }
        w.u32(self.globals.len() as u32);
        for g in &self.globals {
            w.global(&g.ty);
            match &g.init {
                None => w.u8(0),
                Some(e) => {
                    w.u8(1);
                    w.expr(e);
                }
            }
        }
        w.u32(self.exports.len() as u32);
        for e in &self.exports {
            w.str(&e.name);
            w.u8(extern_tag(e.kind));
            w.u32(e.index);
        }
        match self.start {
            None => w.u8(0),
            Some(s) => {
                w.u8(1);
                w.u32(s);
            }
        }
        w.u32(self.elems.len() as u32);
        for e in &self.elems {
            w.mode(&e.mode);
            w.u8(e.elem.tag());
            w.u32(e.items.len() as u32);
            for it in &e.items {
                w.expr(it);
            }
        }
        w.u32(self.datas.len() as u32);
        for d in &self.datas {
            w.mode(&d.mode);
            w.u64(d.data_offset);
            w.u64(d.len);
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<ModuleInfo, DecodeError> {
        let mut r = Reader { b: bytes, pos: 0 };
        let mut m = ModuleInfo::default();
        for _ in 0..r.count()? {
            m.types.push(r.functype()?);
        }
        for _ in 0..r.count()? {
            let module = r.str()?;
            let name = r.str()?;
            let kind = match r.u8()? {
                0 => ImportKind::Func(r.u32()?),
                1 => ImportKind::Table(r.table()?),
                2 => ImportKind::Memory(r.memory()?),
                3 => ImportKind::Global(r.global()?),
                _ => return Err(DecodeError("bad import kind")),
            };
            m.imports.push(Import { module, name, kind });
        }
        for _ in 0..r.count()? {
            m.funcs.push(r.u32()?);
        }
        for _ in 0..r.count()? {
            m.memories.push(r.memory()?);
        }
        for _ in 0..r.count()? {
            m.tables.push(r.table()?);
        }
        for _ in 0..r.count()? {
            let ty = r.global()?;
            let init = match r.u8()? {
                0 => None,
                1 => Some(r.expr()?),
                _ => return Err(DecodeError("bad global init")),
            };
            m.globals.push(GlobalDef { ty, init });
        }
        for _ in 0..r.count()? {
            let name = r.str()?;
            let kind = extern_from_tag(r.u8()?)?;
            let index = r.u32()?;
            m.exports.push(Export { name, kind, index });
        }
        m.start = match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            _ => return Err(DecodeError("bad start")),
        };
        for _ in 0..r.count()? {
            let mode = r.mode()?;
            let elem = ValType::from_tag(r.u8()?)?;
            let mut items = Vec::new();
            for _ in 0..r.count()? {
                items.push(r.expr()?);
            }
            m.elems.push(ElemSegment { mode, elem, items });
        }
        for _ in 0..r.count()? {
            let mode = r.mode()?;
            let data_offset = r.u64()?;
            let len = r.u64()?;
            m.datas.push(DataSegment {
                mode,
                data_offset,
                len,
            });
        }
        if r.pos != bytes.len() {
            return Err(DecodeError("trailing bytes"));
        }
        m.check()?;
        Ok(m)
    }

    /// Cross-references are in range (so the runtime can index freely).
    fn check(&self) -> Result<(), DecodeError> {
        let nt = self.types.len() as u32;
        let bad = |ok: bool, what: &'static str| if ok { Ok(()) } else { Err(DecodeError(what)) };
        for f in &self.funcs {
            bad(*f < nt, "function type index out of range")?;
        }
        for i in &self.imports {
            if let ImportKind::Func(t) = i.kind {
                bad(t < nt, "import type index out of range")?;
            }
        }
        for (kind, defined) in [
            (ExternKind::Func, self.funcs.len()),
            (ExternKind::Memory, self.memories.len()),
            (ExternKind::Table, self.tables.len()),
            (ExternKind::Global, self.globals.len()),
        ] {
            bad(self.num_imported(kind) as usize <= defined, "import count")?;
        }
        for e in &self.exports {
            let n = match e.kind {
                ExternKind::Func => self.funcs.len(),
                ExternKind::Table => self.tables.len(),
                ExternKind::Memory => self.memories.len(),
                ExternKind::Global => self.globals.len(),
            };
            bad((e.index as usize) < n, "export index out of range")?;
        }
        if let Some(s) = self.start {
            bad((s as usize) < self.funcs.len(), "start index out of range")?;
        }
        Ok(())
    }
}

fn extern_tag(k: ExternKind) -> u8 {
    match k {
        ExternKind::Func => 0,
        ExternKind::Table => 1,
        ExternKind::Memory => 2,
        ExternKind::Global => 3,
    }
}

fn extern_from_tag(t: u8) -> Result<ExternKind, DecodeError> {
    Ok(match t {
        0 => ExternKind::Func,
        1 => ExternKind::Table,
        2 => ExternKind::Memory,
        3 => ExternKind::Global,
        _ => return Err(DecodeError("bad extern kind")),
    })
}

/// The metadata blob is malformed (an object from another wasm2o version,
/// or corrupted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module descriptor: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn functype(&mut self, t: &FuncType) {
        self.u32(t.params.len() as u32);
        for p in &t.params {
            self.u8(p.tag());
        }
        self.u32(t.results.len() as u32);
        for p in &t.results {
            self.u8(p.tag());
        }
    }
    fn memory(&mut self, m: &MemoryType) {
        self.u64(m.min);
        self.opt_u64(m.max);
        self.u8(m.memory64 as u8
            | (m.shared as u8) << 1
            | (m.control.is_virtual as u8) << 2
            | (m.control.immutable as u8) << 3);
        self.u64(m.control.no_access_pages);
        self.u64(m.control.read_only_pages);
    }
    fn table(&mut self, t: &TableType) {
        self.u8(t.elem.tag());
        self.u64(t.min);
        self.opt_u64(t.max);
        self.u8(t.table64 as u8);
    }
    fn global(&mut self, g: &GlobalType) {
        self.u8(g.ty.tag());
        self.u8(g.mutable as u8);
    }
    fn expr(&mut self, e: &ConstExpr) {
        match *e {
            ConstExpr::I32(v) => {
                self.u8(0);
                self.u64(v as u32 as u64);
            }
            ConstExpr::I64(v) => {
                self.u8(1);
                self.u64(v as u64);
            }
            ConstExpr::F32(v) => {
                self.u8(2);
                self.u64(v as u64);
            }
            ConstExpr::F64(v) => {
                self.u8(3);
                self.u64(v);
            }
            ConstExpr::RefNull(t) => {
                self.u8(4);
                self.u64(t.tag() as u64);
            }
            ConstExpr::RefFunc(i) => {
                self.u8(5);
                self.u64(i as u64);
            }
            ConstExpr::GlobalGet(i) => {
                self.u8(6);
                self.u64(i as u64);
            }
        }
    }
    fn mode(&mut self, m: &SegmentMode) {
        match m {
            SegmentMode::Passive => self.u8(0),
            SegmentMode::Declared => self.u8(1),
            SegmentMode::Active { index, offset } => {
                self.u8(2);
                self.u32(*index);
                self.expr(offset);
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError("truncated"))?;
        let s = self.b.get(self.pos..end).ok_or(DecodeError("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A count, sanity-checked against the remaining bytes (each item takes
    /// at least one byte) so a corrupt count cannot make us allocate wildly.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > self.b.len() - self.pos {
            return Err(DecodeError("count too large"));
        }
        Ok(n)
    }
    fn opt_u64(&mut self) -> Result<Option<u64>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            _ => Err(DecodeError("bad option")),
        }
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError("bad utf-8"))
    }
    fn functype(&mut self) -> Result<FuncType, DecodeError> {
        let mut t = FuncType::default();
        for _ in 0..self.count()? {
            t.params.push(ValType::from_tag(self.u8()?)?);
        }
        for _ in 0..self.count()? {
            t.results.push(ValType::from_tag(self.u8()?)?);
        }
        Ok(t)
    }
    fn memory(&mut self) -> Result<MemoryType, DecodeError> {
        let min = self.u64()?;
        let max = self.opt_u64()?;
        let flags = self.u8()?;
        let no_access_pages = self.u64()?;
        let read_only_pages = self.u64()?;
        Ok(MemoryType {
            min,
            max,
            memory64: flags & 1 != 0,
            shared: flags & 2 != 0,
            control: MemoryControl {
                no_access_pages,
                read_only_pages,
                is_virtual: flags & 4 != 0,
                immutable: flags & 8 != 0,
            },
        })
    }
    fn table(&mut self) -> Result<TableType, DecodeError> {
        let elem = ValType::from_tag(self.u8()?)?;
        let min = self.u64()?;
        let max = self.opt_u64()?;
        let table64 = self.u8()? != 0;
        Ok(TableType {
            elem,
            min,
            max,
            table64,
        })
    }
    fn global(&mut self) -> Result<GlobalType, DecodeError> {
        let ty = ValType::from_tag(self.u8()?)?;
        let mutable = self.u8()? != 0;
        Ok(GlobalType { ty, mutable })
    }
    fn expr(&mut self) -> Result<ConstExpr, DecodeError> {
        let tag = self.u8()?;
        let v = self.u64()?;
        Ok(match tag {
            0 => ConstExpr::I32(v as u32 as i32),
            1 => ConstExpr::I64(v as i64),
            2 => ConstExpr::F32(v as u32),
            3 => ConstExpr::F64(v),
            4 => ConstExpr::RefNull(ValType::from_tag(v as u8)?),
            5 => ConstExpr::RefFunc(v as u32),
            6 => ConstExpr::GlobalGet(v as u32),
            _ => return Err(DecodeError("bad constant expression")),
        })
    }
    fn mode(&mut self) -> Result<SegmentMode, DecodeError> {
        Ok(match self.u8()? {
            0 => SegmentMode::Passive,
            1 => SegmentMode::Declared,
            2 => {
                let index = self.u32()?;
                let offset = self.expr()?;
                SegmentMode::Active { index, offset }
            }
            _ => return Err(DecodeError("bad segment mode")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let m = ModuleInfo {
            types: vec![FuncType {
                params: vec![ValType::I32, ValType::F64],
                results: vec![ValType::ExternRef],
            }],
            imports: vec![Import {
                module: "env".into(),
                name: "f".into(),
                kind: ImportKind::Func(0),
            }],
            funcs: vec![0, 0],
            memories: vec![MemoryType {
                min: 1,
                max: Some(2),
                memory64: true,
                shared: false,
                control: MemoryControl {
                    read_only_pages: 2,
                    ..Default::default()
                },
            }],
            tables: vec![TableType {
                elem: ValType::FuncRef,
                min: 0,
                max: None,
                table64: false,
            }],
            globals: vec![GlobalDef {
                ty: GlobalType {
                    ty: ValType::I32,
                    mutable: true,
                },
                init: Some(ConstExpr::I32(-5)),
            }],
            exports: vec![Export {
                name: "g".into(),
                kind: ExternKind::Global,
                index: 0,
            }],
            start: Some(1),
            elems: vec![ElemSegment {
                mode: SegmentMode::Active {
                    index: 0,
                    offset: ConstExpr::GlobalGet(0),
                },
                elem: ValType::FuncRef,
                items: vec![ConstExpr::RefFunc(1), ConstExpr::RefNull(ValType::FuncRef)],
            }],
            datas: vec![DataSegment {
                mode: SegmentMode::Passive,
                data_offset: 4096,
                len: 3,
            }],
        };
        let bytes = m.encode();
        assert_eq!(ModuleInfo::decode(&bytes), Ok(m));
    }

    #[test]
    fn truncated_is_an_error() {
        let m = ModuleInfo {
            types: vec![FuncType::default()],
            ..Default::default()
        };
        let bytes = m.encode();
        for n in 0..bytes.len() {
            assert!(ModuleInfo::decode(&bytes[..n]).is_err());
        }
    }
}
