//! `wasm2o inspect`: decode the module metadata an object holds and print it.
//!
//! The prefix is found from the global `PREFIX_module` symbol; the metadata
//! is the local `PREFIX_meta` symbol's bytes (`desc::ModuleInfo` encoding).
//! Where a format gives symbols no size (Mach-O), lengths are read from the
//! `PREFIX_desc` descriptor instead.

use std::fmt::Write as _;

use object::{Object, ObjectSection, ObjectSymbol};
use wasm2o_runtime::abi;
use wasm2o_runtime::desc::{
    ConstExpr, ExternKind, ImportKind, MemoryControl, MemoryType, ModuleInfo, SegmentMode,
    TableType,
};

use crate::cli::InspectArgs;
use crate::error::{err, read_file};
use crate::Result;

pub fn main(a: InspectArgs) -> Result<()> {
    let name = a.object.display().to_string();
    let data = read_file(&a.object)?;
    let text = describe(&data).map_err(|e| err!("{name}: {e}"))?;
    crate::out(&text);
    Ok(())
}

/// A symbol's bytes, if it is defined in a section with file contents.
struct Sym<'a> {
    bytes: &'a [u8],
    size: u64,
}

struct Obj<'d> {
    file: object::File<'d>,
    /// Mach-O prepends `_` to C names.
    underscore: bool,
}

impl<'d> Obj<'d> {
    fn c_name<'n>(&self, raw: &'n str) -> Option<&'n str> {
        if self.underscore {
            raw.strip_prefix('_')
        } else {
            Some(raw)
        }
    }

    fn find(&self, wanted: &str) -> Result<Option<Sym<'d>>, String> {
        for s in self.file.symbols() {
            let Ok(raw) = s.name() else { continue };
            if self.c_name(raw) != Some(wanted) || !s.is_definition() {
                continue;
            }
            let Some(index) = s.section_index() else {
                continue;
            };
            let section = self
                .file
                .section_by_index(index)
                .map_err(|e| format!("symbol {wanted}: {e}"))?;
            let data = section
                .data()
                .map_err(|e| format!("section of {wanted}: {e}"))?;
            let start = s
                .address()
                .checked_sub(section.address())
                .and_then(|o| usize::try_from(o).ok())
                .filter(|o| *o <= data.len())
                .ok_or_else(|| format!("symbol {wanted} lies outside its section"))?;
            return Ok(Some(Sym {
                bytes: &data[start..],
                size: s.size(),
            }));
        }
        Ok(None)
    }
}

fn read_u64(bytes: &[u8], offset: u32) -> Option<u64> {
    let o = offset as usize;
    bytes
        .get(o..o + 8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

pub fn describe(data: &[u8]) -> Result<String, String> {
    let file = object::File::parse(data).map_err(|e| format!("not an object file: {e}"))?;
    let underscore = file.format() == object::BinaryFormat::MachO;
    let obj = Obj { file, underscore };

    // The prefix: the one global, defined `*_module` symbol.
    let mut prefixes = Vec::new();
    for s in obj.file.symbols() {
        let Ok(raw) = s.name() else { continue };
        if !s.is_global() || !s.is_definition() {
            continue;
        }
        if let Some(p) = obj.c_name(raw).and_then(|n| n.strip_suffix("_module")) {
            prefixes.push(p.to_string());
        }
    }
    let prefix = match prefixes.as_slice() {
        [p] => p.clone(),
        [] => {
            return Err("no PREFIX_module symbol: not an object from `wasm2o compile`".to_string())
        }
        many => {
            return Err(format!(
                "several module symbols ({}): a linked or merged object?",
                many.join(", ")
            ))
        }
    };

    let desc = obj.find(&format!("{prefix}_desc"))?;
    let desc_field = |off: u32| desc.as_ref().and_then(|d| read_u64(d.bytes, off));
    let meta = obj
        .find(&format!("{prefix}_meta"))?
        .ok_or_else(|| format!("no {prefix}_meta symbol"))?;
    let meta_len = if meta.size != 0 {
        meta.size
    } else {
        desc_field(abi::RAW_MODULE_META + 8)
            .ok_or_else(|| format!("{prefix}_meta has no size and no {prefix}_desc"))?
    };
    let meta_bytes = usize::try_from(meta_len)
        .ok()
        .and_then(|n| meta.bytes.get(..n))
        .ok_or_else(|| format!("{prefix}_meta: length {meta_len} past the end of its section"))?;
    let info = ModuleInfo::decode(meta_bytes).map_err(|e| e.to_string())?;

    let traps = match obj.find(&format!("{prefix}_traps"))? {
        Some(t) if t.size != 0 => Some(t.size / u64::from(abi::RAW_TRAP_SIZE)),
        _ => desc_field(abi::RAW_MODULE_TRAPS + 8),
    };

    let mut o = String::new();
    let _ = writeln!(o, "prefix: {prefix}");
    let _ = writeln!(
        o,
        "format: {:?} {:?} ({:?})",
        obj.file.format(),
        obj.file.architecture(),
        obj.file.endianness()
    );
    if let Some(bits) = desc_field(abi::RAW_MODULE_CPU_FEATURES) {
        let names: Vec<&str> = abi::CPU_FEATURES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        let names = if names.is_empty() {
            "none beyond the baseline".to_string()
        } else {
            names.join(", ")
        };
        let _ = writeln!(o, "cpu features: {names}");
    }
    write_info(&mut o, &info);
    match traps {
        Some(n) => {
            let _ = writeln!(o, "trap sites: {n}");
        }
        None => {
            let _ = writeln!(o, "trap sites: unknown");
        }
    }
    Ok(o)
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("{min}..{m}"),
        None => format!("{min}.."),
    }
}

fn control(c: &MemoryControl) -> String {
    let mut parts = Vec::new();
    if c.no_access_pages != 0 {
        parts.push(format!("no-access={}", c.no_access_pages));
    }
    if c.read_only_pages != 0 {
        parts.push(format!("read-only={}", c.read_only_pages));
    }
    if c.is_virtual {
        parts.push("virtual".to_string());
    }
    if c.immutable {
        parts.push("immutable".to_string());
    }
    parts.join(" ")
}

fn memory(m: &MemoryType) -> String {
    let mut s = format!(
        "{} pages{}{}",
        limits(m.min, m.max),
        if m.memory64 { ", i64" } else { "" },
        if m.shared { ", shared" } else { "" }
    );
    let c = control(&m.control);
    if !c.is_empty() {
        s.push_str(", memory-control: ");
        s.push_str(&c);
    }
    s
}

fn table(t: &TableType) -> String {
    format!(
        "{} {}{}",
        t.elem,
        limits(t.min, t.max),
        if t.table64 { ", i64" } else { "" }
    )
}

fn expr(e: &ConstExpr) -> String {
    match *e {
        ConstExpr::I32(v) => format!("i32.const {v}"),
        ConstExpr::I64(v) => format!("i64.const {v}"),
        ConstExpr::F32(b) => format!("f32.const {}", crate::values::format_f32(b)),
        ConstExpr::F64(b) => format!("f64.const {}", crate::values::format_f64(b)),
        ConstExpr::RefNull(t) => format!("ref.null {t}"),
        ConstExpr::RefFunc(i) => format!("ref.func {i}"),
        ConstExpr::GlobalGet(i) => format!("global.get {i}"),
    }
}

fn mode(m: &SegmentMode, what: &str) -> String {
    match m {
        SegmentMode::Passive => "passive".to_string(),
        SegmentMode::Declared => "declared".to_string(),
        SegmentMode::Active { index, offset } => {
            format!("active, {what} {index} at {}", expr(offset))
        }
    }
}

fn write_info(o: &mut String, info: &ModuleInfo) {
    let imported = |k| info.num_imported(k) as usize;
    let nfi = imported(ExternKind::Func);
    let _ = writeln!(
        o,
        "functions: {} ({} imported, {} defined)",
        info.funcs.len(),
        nfi,
        info.funcs.len() - nfi
    );
    let _ = writeln!(o, "types: {}", info.types.len());

    let _ = writeln!(o, "imports: {}", info.imports.len());
    for i in &info.imports {
        let what = match &i.kind {
            ImportKind::Func(t) => match info.types.get(*t as usize) {
                Some(ty) => format!("func {ty}"),
                None => format!("func type {t}"),
            },
            ImportKind::Table(t) => format!("table {}", table(t)),
            ImportKind::Memory(m) => format!("memory {}", memory(m)),
            ImportKind::Global(g) => {
                format!("global {}{}", if g.mutable { "mut " } else { "" }, g.ty)
            }
        };
        let _ = writeln!(o, "  {}.{}: {what}", i.module, i.name);
    }

    let _ = writeln!(o, "exports: {}", info.exports.len());
    for e in &info.exports {
        let what = match e.kind {
            ExternKind::Func => format!("func {} {}", e.index, info.func_type(e.index)),
            ExternKind::Table => format!("table {}", e.index),
            ExternKind::Memory => format!("memory {}", e.index),
            ExternKind::Global => format!("global {}", e.index),
        };
        let _ = writeln!(o, "  {:?}: {what}", e.name);
    }

    let _ = writeln!(o, "memories: {}", info.memories.len());
    for (i, m) in info.memories.iter().enumerate() {
        let imp = if i < imported(ExternKind::Memory) {
            " (imported)"
        } else {
            ""
        };
        let _ = writeln!(o, "  {i}: {}{imp}", memory(m));
    }
    let _ = writeln!(o, "tables: {}", info.tables.len());
    for (i, t) in info.tables.iter().enumerate() {
        let imp = if i < imported(ExternKind::Table) {
            " (imported)"
        } else {
            ""
        };
        let _ = writeln!(o, "  {i}: {}{imp}", table(t));
    }
    let _ = writeln!(o, "globals: {}", info.globals.len());
    for (i, g) in info.globals.iter().enumerate() {
        let init = match &g.init {
            Some(e) => format!(" = {}", expr(e)),
            None => " (imported)".to_string(),
        };
        let _ = writeln!(
            o,
            "  {i}: {}{}{init}",
            if g.ty.mutable { "mut " } else { "" },
            g.ty.ty
        );
    }
    if let Some(s) = info.start {
        let _ = writeln!(o, "start: function {s}");
    }
    let total: u64 = info.datas.iter().map(|d| d.len).sum();
    let _ = writeln!(o, "data segments: {} ({total} bytes)", info.datas.len());
    for (i, d) in info.datas.iter().enumerate() {
        let _ = writeln!(o, "  {i}: {} bytes, {}", d.len, mode(&d.mode, "memory"));
    }
    let _ = writeln!(o, "elem segments: {}", info.elems.len());
    for (i, e) in info.elems.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {i}: {} x {}, {}",
            e.items.len(),
            e.elem,
            mode(&e.mode, "table")
        );
    }
}
