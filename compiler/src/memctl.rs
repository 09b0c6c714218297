//! Memory-control: how a module says it.
//!
//! Reads the `memory-control` custom section and the `--memory-control`
//! flag lines (`memory <index> [no-access=<pages>] [read-only=<pages>]
//! [virtual] [immutable]`, `\n` or `;` separated), puts the attributes into
//! each memory's type, and checks the `memory-control` imports, which the
//! compiler lowers to runtime calls.

use crate::desc::{ExternKind, ImportKind, MemoryControl, ValType};
use crate::module::Module;
use crate::Error;

/// The module the operation imports come from.
pub const IMPORT_MODULE: &str = "memory-control";

/// A `memory-control` import the compiler lowers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    /// `discard` / `discard@N`: discard on memory N.
    Discard(u32),
    /// `map`: `[addr size prot] -> [addr]` on virtual memory N.
    Map(u32),
    /// `unmap`: `[addr size] -> []`.
    Unmap(u32),
    /// `protect`: `[addr size prot] -> []`.
    Protect(u32),
    /// `map_handle`: `[addr size prot handle:i32 offset:i64] -> [addr]`.
    MapHandle(u32),
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub memory: u32,
    pub control: MemoryControl,
    /// The line as written, for error messages.
    pub text: String,
}

/// Where lines come from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Section,
    Flag,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Section => "memory-control section",
            Origin::Flag => "--memory-control",
        }
    }
}

fn line_error(origin: Origin, line: &str, msg: impl std::fmt::Display) -> Error {
    Error::msg(format!(
        "{}: {msg} in line {:?}",
        origin.name(),
        line.trim()
    ))
}

/// Parses the text of a section or of one flag value.
pub fn parse(text: &str, origin: Origin) -> Result<Vec<Line>, Error> {
    let mut lines: Vec<Line> = Vec::new();
    for raw in text.split(['\n', ';']) {
        let mut words = raw.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first != "memory" {
            return Err(line_error(
                origin,
                raw,
                format_args!("expected `memory <index>`, found {first:?}"),
            ));
        }
        let index = words
            .next()
            .ok_or_else(|| line_error(origin, raw, "missing memory index"))?;
        let memory: u32 = index
            .parse()
            .map_err(|_| line_error(origin, raw, format_args!("bad memory index {index:?}")))?;
        let mut control = MemoryControl::default();
        let mut seen = Vec::new();
        for attr in words {
            let (name, value) = match attr.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (attr, None),
            };
            if seen.contains(&name) {
                return Err(line_error(
                    origin,
                    raw,
                    format_args!("attribute {name:?} given twice"),
                ));
            }
            seen.push(name);
            let pages = |v: Option<&str>| -> Result<u64, Error> {
                let v = v.ok_or_else(|| {
                    line_error(
                        origin,
                        raw,
                        format_args!("{name} needs a page count: {name}=<pages>"),
                    )
                })?;
                v.parse::<u64>()
                    .ok()
                    .filter(|p| *p <= 1 << 48)
                    .ok_or_else(|| {
                        line_error(origin, raw, format_args!("bad page count {v:?} for {name}"))
                    })
            };
            let flag = |v: Option<&str>| -> Result<bool, Error> {
                match v {
                    None => Ok(true),
                    Some(_) => Err(line_error(
                        origin,
                        raw,
                        format_args!("{name} takes no value"),
                    )),
                }
            };
            match name {
                "no-access" => control.no_access_pages = pages(value)?,
                "read-only" => control.read_only_pages = pages(value)?,
                "virtual" => control.is_virtual = flag(value)?,
                "immutable" => control.immutable = flag(value)?,
                _ => {
                    return Err(line_error(
                        origin,
                        raw,
                        format_args!("unknown attribute {attr:?}"),
                    ))
                }
            }
        }
        let prefix = control.no_access_pages > 0 || control.read_only_pages > 0;
        if control.is_virtual && (prefix || control.immutable) {
            return Err(line_error(
                origin,
                raw,
                "`virtual` stands alone (no other attribute with it)",
            ));
        }
        if control.immutable && prefix {
            return Err(line_error(
                origin,
                raw,
                "`immutable` stands alone (no other attribute with it)",
            ));
        }
        if lines.iter().any(|l| l.memory == memory) {
            return Err(line_error(
                origin,
                raw,
                format_args!("a second line for memory {memory}"),
            ));
        }
        lines.push(Line {
            memory,
            control,
            text: raw.trim().to_string(),
        });
    }
    Ok(lines)
}

/// Applies the section and the flag lines (a flag line replaces the
/// section's line for its memory) to the module's memory types, and
/// resolves the `memory-control` imports.
pub fn apply(module: &mut Module<'_>, flags: &[String]) -> Result<(), Error> {
    let mut lines = match &module.memory_control_section {
        Some(text) => parse(text, Origin::Section)?
            .into_iter()
            .map(|l| (l, Origin::Section))
            .collect(),
        None => Vec::new(),
    };
    let mut flag_lines: Vec<Line> = Vec::new();
    for f in flags {
        for l in parse(f, Origin::Flag)? {
            if flag_lines.iter().any(|x| x.memory == l.memory) {
                return Err(line_error(
                    Origin::Flag,
                    &l.text,
                    format_args!("a second line for memory {}", l.memory),
                ));
            }
            flag_lines.push(l);
        }
    }
    for l in flag_lines {
        lines.retain(|(x, _)| x.memory != l.memory);
        lines.push((l, Origin::Flag));
    }
    lines.sort_by_key(|(l, _)| l.memory);

    let num_imported = module.info.num_imported(ExternKind::Memory);
    for (line, origin) in &lines {
        let n = module.info.memories.len();
        let Some(ty) = module.info.memories.get_mut(line.memory as usize) else {
            return Err(line_error(
                *origin,
                &line.text,
                format_args!(
                    "memory {} does not exist (the module has {n} memories)",
                    line.memory
                ),
            ));
        };
        let c = line.control;
        if c.is_virtual && ty.max != Some(ty.min) {
            return Err(line_error(
                *origin,
                &line.text,
                format_args!(
                    "a virtual memory needs equal limits (min == max), but memory {} has {}",
                    line.memory,
                    match ty.max {
                        Some(max) => format!("min {} and max {max}", ty.min),
                        None => format!("min {} and no max", ty.min),
                    }
                ),
            ));
        }
        // Shared memories take every attribute: their pages are one memfd
        // the runtime maps, protects and punches holes in (see the
        // runtime's `mapping`), and a shared memory has a maximum, so a
        // shared `virtual` memory is checked for min == max above.
        if !ty.memory64 {
            let prefix = c.no_access_pages + c.read_only_pages;
            let max_total = prefix + ty.max.unwrap_or(ty.min);
            if prefix + ty.min > 65536 || max_total > 65536 && ty.max.is_some() {
                return Err(line_error(
                    *origin,
                    &line.text,
                    "the protected prefix plus the memory's limits exceed 65536 pages (4 GiB)",
                ));
            }
        }
        ty.control = c;
        let ty = *ty;
        if line.memory < num_imported {
            // The attributes are part of an imported memory's type.
            let mut k = 0;
            for imp in module.info.imports.iter_mut() {
                if let ImportKind::Memory(t) = &mut imp.kind {
                    if k == line.memory {
                        *t = ty;
                    }
                    k += 1;
                }
            }
        }
    }
    resolve_imports(module)
}

/// Checks every import from module `memory-control` and records the
/// intrinsic each one is.
fn resolve_imports(module: &mut Module<'_>) -> Result<(), Error> {
    let mut func_index = 0u32;
    for imp in &module.info.imports {
        let ImportKind::Func(type_index) = imp.kind else {
            if imp.module == IMPORT_MODULE {
                return Err(Error::msg(format!(
                    "import \"{}\" \"{}\": memory-control imports are functions",
                    imp.module, imp.name
                )));
            }
            continue;
        };
        let index = func_index;
        func_index += 1;
        if imp.module != IMPORT_MODULE {
            continue;
        }
        let what = format!("import \"{}\" \"{}\"", imp.module, imp.name);
        let (op, mem) = match imp.name.split_once('@') {
            Some((op, n)) => {
                let mem = n
                    .parse::<u32>()
                    .ok()
                    .filter(|_| !n.starts_with('+') && !n.is_empty())
                    .ok_or_else(|| Error::msg(format!("{what}: bad memory index {n:?}")))?;
                (op, mem)
            }
            None => (imp.name.as_str(), 0),
        };
        let Some(ty) = module.info.memories.get(mem as usize) else {
            return Err(Error::msg(format!(
                "{what}: the module has no memory {mem}"
            )));
        };
        let idx = if ty.memory64 {
            ValType::I64
        } else {
            ValType::I32
        };
        let sig = &module.info.types[type_index as usize];
        use ValType::{I32, I64};
        let (intrinsic, params, results): (Intrinsic, Vec<ValType>, Vec<ValType>) = match op {
            "discard" => (Intrinsic::Discard(mem), vec![idx, idx], vec![]),
            "map" => (Intrinsic::Map(mem), vec![idx, idx, I32], vec![idx]),
            "unmap" => (Intrinsic::Unmap(mem), vec![idx, idx], vec![]),
            "protect" => (Intrinsic::Protect(mem), vec![idx, idx, I32], vec![]),
            "map_handle" => (Intrinsic::MapHandle(mem), vec![idx, idx, I32, I32, I64], vec![idx]),
            _ => {
                return Err(Error::msg(format!(
                    "{what}: unknown memory-control operation {op:?} (known: discard, map, unmap, protect, map_handle)"
                )))
            }
        };
        if sig.params != params || sig.results != results {
            let expected = crate::desc::FuncType { params, results };
            return Err(Error::msg(format!(
                "{what}: wrong signature {sig}, expected {expected}"
            )));
        }
        match intrinsic {
            Intrinsic::Discard(_) if ty.control.immutable => {
                return Err(Error::msg(format!(
                    "{what}: memory {mem} is immutable and cannot be discarded"
                )));
            }
            Intrinsic::Map(_)
            | Intrinsic::Unmap(_)
            | Intrinsic::Protect(_)
            | Intrinsic::MapHandle(_)
                if !ty.control.is_virtual =>
            {
                return Err(Error::msg(format!(
                    "{what}: memory {mem} is not virtual (declare it with `memory {mem} virtual`)"
                )));
            }
            _ => {}
        }
        module.intrinsics.insert(index, intrinsic);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_in_any_order() {
        let l = parse(
            "memory 0 read-only=2 no-access=1 ;\n\n  memory 1   immutable ",
            Origin::Section,
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].control,
            MemoryControl {
                no_access_pages: 1,
                read_only_pages: 2,
                ..Default::default()
            }
        );
        assert!(l[1].control.immutable);
    }

    #[test]
    fn rejects_bad_lines_quoting_them() {
        for (text, needle) in [
            ("memory 0 bogus", "unknown attribute \"bogus\""),
            ("memory x", "bad memory index"),
            ("mem 0", "expected `memory <index>`"),
            ("memory 0 no-access", "needs a page count"),
            ("memory 0 no-access=-1", "bad page count"),
            ("memory 0 immutable read-only=1", "`immutable` stands alone"),
            ("memory 0 virtual immutable", "`virtual` stands alone"),
            ("memory 0; memory 0 immutable", "a second line for memory 0"),
            ("memory 0 immutable=yes", "takes no value"),
        ] {
            let e = parse(text, Origin::Flag).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(e.contains("--memory-control"), "{e}");
        }
    }
}
