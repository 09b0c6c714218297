//! Every target's objects, checked as a linker would see them: format and
//! architecture, symbol names (Mach-O's leading underscore), sections,
//! relocation kinds (those `TargetInfo` lists), and byte-identical output
//! whatever the job count. The facts come from `wasm2o_compiler::target`,
//! so a new target is checked by adding it there.

use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, SymbolKind};
use wasm2o_compiler::target::{Arch, ObjectFormat, TargetInfo, TARGETS};
use wasm2o_compiler::{compile, wat_to_wasm, Options};

/// A module touching every kind of code the compiler emits: calls between
/// functions and through a table, runtime builtins (grow, fill, copy,
/// init), traps (divide, unreachable, memory), data and element segments,
/// globals, imports and exports.
const MODULE: &str = r#"
(module
  (import "env" "log" (func $log (param i32)))
  (import "env" "g" (global $g i32))
  (memory (export "memory") 1 4)
  (table 4 funcref)
  (global $counter (mut i32) (i32.const 0))
  (data (i32.const 16) "hello, targets")
  (data $passive "passive bytes")
  (elem (i32.const 0) $add $div)
  (type $bin (func (param i32 i32) (result i32)))
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "indirect") (param i32 i32 i32) (result i32)
    (call_indirect (type $bin) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "bulk") (param i32)
    (memory.fill (local.get 0) (i32.const 7) (i32.const 64))
    (memory.copy (i32.const 128) (local.get 0) (i32.const 64))
    (memory.init $passive (i32.const 256) (i32.const 0) (i32.const 4)))
  (func (export "load") (param i32) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "float") (param f64) (result i32) (i32.trunc_f64_s (f64.floor (local.get 0))))
  (func (export "tick") (result i32)
    (global.set $counter (i32.add (global.get $counter) (global.get $g)))
    (call $log (global.get $counter))
    (if (i32.gt_s (global.get $counter) (i32.const 1000)) (then unreachable))
    (global.get $counter))
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
)"#;

fn build(t: &TargetInfo, jobs: usize) -> (Vec<u8>, String) {
    let wasm = wat_to_wasm(MODULE.as_bytes(), "targets.wat").expect("valid wat");
    let opts = Options {
        prefix: "tmod".to_string(),
        target: Some(t.name.to_string()),
        jobs,
        header: true,
        ..Options::default()
    };
    let out = compile(&wasm, &opts).unwrap_or_else(|e| panic!("{}: {e}", t.name));
    (out.object, out.header.expect("header requested"))
}

#[test]
fn output_is_byte_identical_across_runs_and_job_counts() {
    for t in TARGETS {
        let (obj1, h1) = build(t, 1);
        for jobs in [1, 2, 4, 0] {
            let (obj, h) = build(t, jobs);
            assert!(obj == obj1, "{}: object differs with --jobs {jobs}", t.name);
            assert_eq!(h, h1, "{}: header differs with --jobs {jobs}", t.name);
        }
        // Nothing of the machine or the run leaks in.
        let text = String::from_utf8_lossy(&obj1);
        for leak in [env!("CARGO_MANIFEST_DIR"), "/tmp", "/home", "/root"] {
            assert!(!text.contains(leak), "{}: object contains {leak:?}", t.name);
        }
    }
}

#[test]
fn objects_are_what_a_linker_expects() {
    for t in TARGETS {
        let (bytes, _) = build(t, 0);
        let file = object::File::parse(&*bytes)
            .unwrap_or_else(|e| panic!("{}: unparsable object: {e}", t.name));
        let name = t.name;
        let format = match t.format {
            ObjectFormat::Elf => object::BinaryFormat::Elf,
            ObjectFormat::MachO => object::BinaryFormat::MachO,
        };
        assert_eq!(file.format(), format, "{name}");
        let arch = match t.arch {
            Arch::X86_64 => object::Architecture::X86_64,
            Arch::Aarch64 => object::Architecture::Aarch64,
        };
        assert_eq!(file.architecture(), arch, "{name}");
        assert!(file.is_little_endian() && file.is_64(), "{name}");

        // Symbols: the one global definition is the module getter, in the
        // text section; every undefined symbol is a runtime builtin or a
        // libcall; all carry the target's C prefix.
        let p = t.symbol_prefix;
        let getter = format!("{p}tmod_module");
        let text_name = match t.format {
            ObjectFormat::Elf => ".text",
            ObjectFormat::MachO => "__text",
        };
        let mut found_getter = false;
        for s in file.symbols() {
            let sname = s.name().expect("UTF-8 symbol name");
            if s.kind() == SymbolKind::File || sname.is_empty() {
                continue;
            }
            if s.is_undefined() {
                assert!(s.is_global(), "{name}: undefined {sname} is global");
                assert!(
                    sname.starts_with(&format!("{p}wasm2o_rt_")) || is_libcall(sname, p),
                    "{name}: unexpected undefined symbol {sname}"
                );
            } else if s.is_global() {
                assert_eq!(sname, getter, "{name}: the only global definition");
                let section = file
                    .section_by_index(s.section_index().expect("defined"))
                    .expect("section");
                assert_eq!(
                    section.name().expect("section name"),
                    text_name,
                    "{name}: getter section"
                );
                found_getter = true;
            } else if t.format == ObjectFormat::MachO && s.kind() != SymbolKind::Section {
                // Local definitions are mangled too (`_tmod_f3`), as clang does.
                assert!(sname.starts_with(p), "{name}: local {sname} lacks {p:?}");
            }
        }
        assert!(found_getter, "{name}: no {getter}");
        assert!(
            file.symbols()
                .any(|s| s.is_undefined() && s.name() == Ok(&format!("{p}wasm2o_rt_memory_grow"))),
            "{name}: no reference to the runtime's memory.grow"
        );

        // Sections: code, read-only data (descriptor tables are relocated,
        // so writable data on ELF with PIC is fine too); no section a
        // linker would not know.
        let mut saw_text = false;
        for section in file.sections() {
            let sname = section.name().expect("section name");
            if sname == text_name {
                saw_text = true;
                assert_eq!(section.kind(), object::SectionKind::Text, "{name}");
            }
            if t.format == ObjectFormat::MachO {
                let seg = section.segment_name().expect("segment").unwrap_or("");
                assert!(
                    seg == "__TEXT" || seg == "__DATA" || seg == "__DWARF",
                    "{name}: segment {seg} of {sname}"
                );
            }
            // Relocations are of the kinds TargetInfo lists.
            for (offset, r) in section.relocations() {
                let kind = reloc_name(t, r.flags());
                assert!(
                    t.relocations.contains(&kind.as_str()),
                    "{name}: relocation {kind} at {sname}+{offset:#x} is not in TargetInfo::relocations {:?}",
                    t.relocations
                );
            }
        }
        assert!(saw_text, "{name}: no {text_name}");
        let data_align = file
            .symbols()
            .find(|s| s.name().is_ok_and(|n| n.ends_with("tmod_data")))
            .and_then(|s| s.section_index())
            .and_then(|i| file.section_by_index(i).ok())
            .map(|s| s.align())
            .expect("data image symbol");
        assert!(
            data_align >= t.max_page_size,
            "{name}: data image aligned to {data_align}"
        );
    }
}

#[test]
fn macho_objects_carry_a_minimum_os_version() {
    use object::macho;
    use object::macho::MachHeader64;
    use object::read::macho::MachHeader;
    for t in TARGETS.iter().filter(|t| t.format == ObjectFormat::MachO) {
        let (bytes, _) = build(t, 1);
        let header = MachHeader64::<object::Endianness>::parse(&*bytes, 0).expect("Mach-O header");
        let endian = header.endian().expect("endian");
        let mut commands = header
            .load_commands(endian, &*bytes, 0)
            .expect("load commands");
        let mut minos = None;
        while let Some(cmd) = commands.next().expect("load command") {
            if let Some(v) = cmd.build_version().expect("build version") {
                assert_eq!(v.platform.get(endian), macho::PLATFORM_MACOS, "{}", t.name);
                minos = Some(v.minos.get(endian));
            }
        }
        let minos = minos.unwrap_or_else(|| panic!("{}: no LC_BUILD_VERSION", t.name));
        assert!(minos >= 10 << 16, "{}: minos {minos:#x}", t.name);
    }
}

fn is_libcall(sym: &str, prefix: &str) -> bool {
    let Some(bare) = sym.strip_prefix(prefix) else {
        return false;
    };
    [
        "floor",
        "floorf",
        "ceil",
        "ceilf",
        "trunc",
        "truncf",
        "nearbyint",
        "nearbyintf",
        "fma",
        "fmaf",
        "memcpy",
        "memset",
        "memmove",
    ]
    .contains(&bare)
}

fn reloc_name(t: &TargetInfo, flags: RelocationFlags) -> String {
    use object::{elf, macho};
    match flags {
        RelocationFlags::Elf { r_type } => match (t.arch, r_type) {
            (Arch::X86_64, elf::R_X86_64_PLT32) => "R_X86_64_PLT32".into(),
            (Arch::X86_64, elf::R_X86_64_PC32) => "R_X86_64_PC32".into(),
            (Arch::X86_64, elf::R_X86_64_REX_GOTPCRELX) => "R_X86_64_REX_GOTPCRELX".into(),
            (Arch::X86_64, elf::R_X86_64_GOTPCREL) => "R_X86_64_GOTPCREL".into(),
            (Arch::X86_64, elf::R_X86_64_64) => "R_X86_64_64".into(),
            (Arch::Aarch64, elf::R_AARCH64_CALL26) => "R_AARCH64_CALL26".into(),
            (Arch::Aarch64, elf::R_AARCH64_ADR_GOT_PAGE) => "R_AARCH64_ADR_GOT_PAGE".into(),
            (Arch::Aarch64, elf::R_AARCH64_LD64_GOT_LO12_NC) => "R_AARCH64_LD64_GOT_LO12_NC".into(),
            (Arch::Aarch64, elf::R_AARCH64_ABS64) => "R_AARCH64_ABS64".into(),
            (_, other) => format!("ELF type {other}"),
        },
        RelocationFlags::MachO { r_type, .. } => match (t.arch, r_type) {
            (Arch::X86_64, macho::X86_64_RELOC_BRANCH) => "X86_64_RELOC_BRANCH".into(),
            (Arch::X86_64, macho::X86_64_RELOC_GOT_LOAD) => "X86_64_RELOC_GOT_LOAD".into(),
            (Arch::X86_64, macho::X86_64_RELOC_GOT) => "X86_64_RELOC_GOT".into(),
            (Arch::X86_64, macho::X86_64_RELOC_SIGNED) => "X86_64_RELOC_SIGNED".into(),
            (Arch::X86_64, macho::X86_64_RELOC_UNSIGNED) => "X86_64_RELOC_UNSIGNED".into(),
            (Arch::Aarch64, macho::ARM64_RELOC_BRANCH26) => "ARM64_RELOC_BRANCH26".into(),
            (Arch::Aarch64, macho::ARM64_RELOC_GOT_LOAD_PAGE21) => {
                "ARM64_RELOC_GOT_LOAD_PAGE21".into()
            }
            (Arch::Aarch64, macho::ARM64_RELOC_GOT_LOAD_PAGEOFF12) => {
                "ARM64_RELOC_GOT_LOAD_PAGEOFF12".into()
            }
            (Arch::Aarch64, macho::ARM64_RELOC_PAGE21) => "ARM64_RELOC_PAGE21".into(),
            (Arch::Aarch64, macho::ARM64_RELOC_PAGEOFF12) => "ARM64_RELOC_PAGEOFF12".into(),
            (Arch::Aarch64, macho::ARM64_RELOC_UNSIGNED) => "ARM64_RELOC_UNSIGNED".into(),
            (_, other) => format!("Mach-O type {other}"),
        },
        other => format!("{other:?}"),
    }
}
