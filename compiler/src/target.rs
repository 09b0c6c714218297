//! Target-specific facts in one place: which triples we support, and for
//! each its object format, symbol mangling, calling convention, page size,
//! relocations, how traps are raised, and the ISA flags we compile with.
//! Nothing else in the compiler looks at the triple; tests read these
//! facts (`TargetInfo`) to check the objects they get.

use crate::{abi, Error, OptLevel, Options};
use cranelift_codegen::isa::{self, CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use target_lexicon::Triple;

/// The object file format of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFormat {
    Elf,
    MachO,
}

/// The instruction set of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

/// What differs between the targets wasm2o supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetInfo {
    /// The triple users write (`--target`).
    pub name: &'static str,
    /// The triple handed to Cranelift. Apple triples carry the minimum OS
    /// version (the same as rustc's defaults), which cranelift-object writes
    /// into `LC_BUILD_VERSION`; without one it writes 0.0.0, and Apple's
    /// linker warns about every object.
    pub cranelift_triple: &'static str,
    pub arch: Arch,
    pub format: ObjectFormat,
    /// What the object writer puts before every global symbol name.
    /// Mach-O's C mangling adds `_` (`demo_module` is `_demo_module` in the
    /// object, which is what a C compiler for macOS calls `demo_module`);
    /// the `object` crate applies it (`Mangling::MachO`), so the compiler
    /// always declares the C name. ELF adds nothing.
    pub symbol_prefix: &'static str,
    /// The native calling convention of compiled functions, wrappers and
    /// host calls: the platform's C convention. Apple's arm64 convention
    /// differs from AAPCS64 (stack arguments packed to their size, `x18`
    /// reserved), which Cranelift's `AppleAarch64` handles.
    pub call_conv: CallConv,
    /// The largest page size the target's kernels use. Data images are
    /// aligned to it so that the runtime can map them copy-on-write; Wasm's
    /// 64 KiB page is a whole number of host pages on every target, so
    /// page protections are exact. (x86-64: 4 KiB; aarch64 Linux: 4, 16 or
    /// 64 KiB depending on the kernel; Apple silicon: 16 KiB.)
    pub max_page_size: u64,
    /// How compiled code traps: every `trap`/`trapz`/`trapnz` becomes this
    /// instruction, and the object's trap table records the offset of its
    /// first byte, which is the PC the signal handler sees. Memory accesses
    /// are recorded the same way (offset of the load or store that faults,
    /// SIGSEGV/SIGBUS); on x86-64 `div`/`idiv` fault with SIGFPE at the
    /// recorded offset, aarch64 has explicit divide checks.
    pub trap_instruction: &'static str,
    /// The relocations the objects contain, by cranelift-object's mapping:
    /// calls between functions of the module are PC-relative, calls to the
    /// runtime's builtins and libcalls go through the GOT (objects are
    /// position-independent, for executables and shared libraries alike),
    /// descriptor tables hold absolute 64-bit addresses.
    pub relocations: &'static [&'static str],
    /// Whether the native compare-and-swap writes even when the comparison
    /// fails, so that a failing `cmpxchg` on a page that is not writable
    /// faults like any atomic write (the design: "a failing cmpxchg too").
    /// x86-64's `lock cmpxchg` always writes; aarch64's exclusive-pair loop
    /// (and LSE `cas`) may not, so there the compiler first does a no-op
    /// atomic write (`or 0`) to the same address.
    pub cas_writes_on_failure: bool,
}

/// Every target `--target` accepts, the host's first.
pub const TARGETS: &[TargetInfo] = &[
    TargetInfo {
        name: "x86_64-unknown-linux-gnu",
        cranelift_triple: "x86_64-unknown-linux-gnu",
        arch: Arch::X86_64,
        format: ObjectFormat::Elf,
        symbol_prefix: "",
        call_conv: CallConv::SystemV,
        max_page_size: 4 << 10,
        trap_instruction: "ud2 (SIGILL)",
        relocations: &[
            "R_X86_64_PLT32",
            "R_X86_64_REX_GOTPCRELX",
            "R_X86_64_GOTPCREL",
            "R_X86_64_64",
        ],
        cas_writes_on_failure: true,
    },
    TargetInfo {
        name: "aarch64-unknown-linux-gnu",
        cranelift_triple: "aarch64-unknown-linux-gnu",
        arch: Arch::Aarch64,
        format: ObjectFormat::Elf,
        symbol_prefix: "",
        call_conv: CallConv::SystemV,
        max_page_size: 64 << 10,
        trap_instruction: "udf #0xc11f (SIGILL)",
        relocations: &[
            "R_AARCH64_CALL26",
            "R_AARCH64_ADR_GOT_PAGE",
            "R_AARCH64_LD64_GOT_LO12_NC",
            "R_AARCH64_ABS64",
        ],
        cas_writes_on_failure: false,
    },
    TargetInfo {
        name: "x86_64-apple-darwin",
        cranelift_triple: "x86_64-apple-macosx10.12.0",
        arch: Arch::X86_64,
        format: ObjectFormat::MachO,
        symbol_prefix: "_",
        call_conv: CallConv::SystemV,
        max_page_size: 4 << 10,
        trap_instruction: "ud2 (SIGILL)",
        relocations: &[
            "X86_64_RELOC_BRANCH",
            "X86_64_RELOC_GOT_LOAD",
            "X86_64_RELOC_GOT",
            "X86_64_RELOC_UNSIGNED",
        ],
        cas_writes_on_failure: true,
    },
    TargetInfo {
        name: "aarch64-apple-darwin",
        cranelift_triple: "aarch64-apple-macosx11.0.0",
        arch: Arch::Aarch64,
        format: ObjectFormat::MachO,
        symbol_prefix: "_",
        call_conv: CallConv::AppleAarch64,
        max_page_size: 16 << 10,
        trap_instruction: "udf #0xc11f (SIGILL)",
        relocations: &[
            "ARM64_RELOC_BRANCH26",
            "ARM64_RELOC_GOT_LOAD_PAGE21",
            "ARM64_RELOC_GOT_LOAD_PAGEOFF12",
            "ARM64_RELOC_UNSIGNED",
        ],
        cas_writes_on_failure: false,
    },
];

/// The triples `--target` accepts.
pub fn supported_targets() -> Vec<&'static str> {
    TARGETS.iter().map(|t| t.name).collect()
}

/// The facts of a supported triple; `None` for anything else.
pub fn info(name: &str) -> Option<&'static TargetInfo> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The triple of the machine we run on, if it is a supported target.
pub fn host() -> Option<&'static TargetInfo> {
    let name = match (std::env::consts::ARCH, std::env::consts::OS) {
        ("x86_64", "linux") => "x86_64-unknown-linux-gnu",
        ("aarch64", "linux") => "aarch64-unknown-linux-gnu",
        ("x86_64", "macos") => "x86_64-apple-darwin",
        ("aarch64", "macos") => "aarch64-apple-darwin",
        _ => return None,
    };
    info(name)
}

/// An instruction-set level `--cpu` accepts: the Cranelift ISA flags it
/// enables and the runtime's feature bits (`abi::CPU_FEATURES`) recorded in
/// the object, so that the runtime refuses the module on a CPU without
/// them (an `lzcnt` on a CPU without LZCNT runs as `bsr` and gives wrong
/// results, an AVX instruction faults).
#[derive(Debug, PartialEq, Eq)]
pub struct CpuLevel {
    pub name: &'static str,
    /// Cranelift ISA flags, in groups: a level lists the groups of the
    /// level it extends, then its own.
    pub flags: &'static [&'static [&'static str]],
    pub features: u64,
}

const X86_64_V2_FLAGS: &[&str] = &[
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
];
const X86_64_V2: u64 =
    abi::CPU_SSE3 | abi::CPU_SSSE3 | abi::CPU_SSE41 | abi::CPU_SSE42 | abi::CPU_POPCNT;

impl CpuLevel {
    /// Every Cranelift ISA flag the level enables.
    pub fn isa_flags(&self) -> impl Iterator<Item = &'static str> {
        self.flags.iter().flat_map(|group| group.iter().copied())
    }
}

/// The levels of each architecture, its default (the baseline) first.
/// Named levels, not the features of the compiling machine, so that the
/// output depends only on the input and the flags.
pub fn cpu_levels(arch: Arch) -> &'static [CpuLevel] {
    match arch {
        Arch::X86_64 => &[
            // Every x86-64 CPU since about 2009 (Nehalem, Bulldozer).
            CpuLevel {
                name: "x86-64-v2",
                flags: &[X86_64_V2_FLAGS],
                features: X86_64_V2,
            },
            // Haswell (2013) and Zen and later: VEX encodings, BMI, LZCNT,
            // FMA (Wasm has no fused multiply-add; Cranelift uses the rest).
            CpuLevel {
                name: "x86-64-v3",
                flags: &[
                    X86_64_V2_FLAGS,
                    &[
                        "has_avx",
                        "has_avx2",
                        "has_bmi1",
                        "has_bmi2",
                        "has_lzcnt",
                        "has_fma",
                    ],
                ],
                features: X86_64_V2
                    | abi::CPU_AVX
                    | abi::CPU_AVX2
                    | abi::CPU_BMI1
                    | abi::CPU_BMI2
                    | abi::CPU_LZCNT
                    | abi::CPU_FMA,
            },
        ],
        Arch::Aarch64 => &[
            // Every aarch64 Linux machine, and qemu.
            CpuLevel {
                name: "armv8-a",
                flags: &[],
                features: 0,
            },
            // Large System Extensions: single-instruction atomics.
            CpuLevel {
                name: "armv8.1-a",
                flags: &[&["has_lse"]],
                features: abi::CPU_LSE,
            },
        ],
    }
}

/// The level `--cpu want` names for `info`'s architecture (its baseline
/// for `None`), or an error listing the levels.
pub fn cpu_level(info: &TargetInfo, want: Option<&str>) -> Result<&'static CpuLevel, Error> {
    let levels = cpu_levels(info.arch);
    match want {
        None => Ok(&levels[0]),
        Some(want) => levels.iter().find(|l| l.name == want).ok_or_else(|| {
            Error::msg(format!(
                "unknown --cpu {want:?} for {}; one of: {}",
                info.name,
                levels.iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
            ))
        }),
    }
}

pub struct Target {
    pub info: &'static TargetInfo,
    /// `--cpu`, or the architecture's baseline.
    pub cpu: &'static CpuLevel,
    pub triple: Triple,
    /// The ISA functions are optimised with (and lowered with, when
    /// optimisation is off).
    pub isa: OwnedTargetIsa,
    /// With optimisation on: the same flags with `opt_level=none`, for
    /// lowering after the late rewrites.
    pub lower_isa: Option<OwnedTargetIsa>,
}

impl Target {
    pub fn new(triple: Option<&str>, opts: &Options) -> Result<Target, Error> {
        let info = match triple {
            Some(name) => info(name).ok_or_else(|| {
                Error::msg(format!(
                    "unsupported target {name:?}; supported targets: {}",
                    supported_targets().join(", ")
                ))
            })?,
            None => host().ok_or_else(|| {
                Error::msg(format!(
                    "no default target for host {}-{}; pass --target (one of: {})",
                    std::env::consts::ARCH,
                    std::env::consts::OS,
                    supported_targets().join(", ")
                ))
            })?,
        };
        let cpu = cpu_level(info, opts.cpu.as_deref())?;
        let name = info.name;
        let triple = Triple::from_str(info.cranelift_triple)
            .map_err(|e| Error::msg(format!("bad target {name:?}: {e}")))?;
        let optimize = !matches!(opts.opt_level, OptLevel::None);
        let isa = build_isa(info, cpu, &triple, if optimize { "speed" } else { "none" })?;
        // With optimisation on, functions go through Cranelift's optimiser
        // with `isa`, then through our late rewrites (`crate::latch`), then
        // are lowered with the same flags but `opt_level=none`, so the
        // e-graph does not run a second time and undo them.
        let lower_isa = if optimize {
            Some(build_isa(info, cpu, &triple, "none")?)
        } else {
            None
        };
        Ok(Target {
            info,
            cpu,
            triple,
            isa,
            lower_isa,
        })
    }

    /// Alignment of every compiled function: the ISA's preferred one.
    pub fn function_align(&self) -> u64 {
        u64::from(self.isa.function_alignment().preferred)
    }

    /// Alignment of the data image section (see `TargetInfo::max_page_size`).
    pub fn data_image_align(&self) -> u64 {
        self.info.max_page_size
    }
}

/// Cranelift's ISA for a target, with our fixed flags and `opt_level`.
fn build_isa(
    info: &TargetInfo,
    cpu: &CpuLevel,
    triple: &Triple,
    opt_level: &str,
) -> Result<OwnedTargetIsa, Error> {
    let name = info.name;
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v)
            .unwrap_or_else(|e| panic!("cranelift flag {k}={v}: {e}"))
    };
    set(&mut flags, "opt_level", opt_level);
    // Objects are linked into executables and shared libraries alike.
    set(&mut flags, "is_pic", "true");
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    );
    // Wasm NaN results may be any NaN; no canonicalisation needed.
    set(&mut flags, "enable_nan_canonicalization", "false");
    set(&mut flags, "unwind_info", "false");
    let mut builder =
        isa::lookup(triple.clone()).map_err(|e| Error::msg(format!("target {name}: {e}")))?;
    // ISA extensions come from the CPU level, never probed from the
    // machine that compiles, so output does not depend on where it was
    // built.
    for f in cpu.isa_flags() {
        builder.enable(f).expect("ISA flag exists");
    }
    let isa = builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| Error::msg(format!("target {name}: {e}")))?;
    debug_assert_eq!(
        isa.default_call_conv(),
        info.call_conv,
        "{name}: calling convention"
    );
    Ok(isa)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_builds_an_isa_with_its_calling_convention() {
        for t in TARGETS {
            let target = Target::new(Some(t.name), &Options::default()).expect(t.name);
            assert_eq!(target.isa.default_call_conv(), t.call_conv, "{}", t.name);
            let format = match target.triple.binary_format {
                target_lexicon::BinaryFormat::Elf => ObjectFormat::Elf,
                target_lexicon::BinaryFormat::Macho => ObjectFormat::MachO,
                other => panic!("{}: format {other:?}", t.name),
            };
            assert_eq!(format, t.format, "{}", t.name);
            // 64 KiB Wasm pages are whole host pages.
            assert_eq!((64 << 10) % t.max_page_size, 0, "{}", t.name);
        }
    }

    #[test]
    fn every_cpu_level_builds_an_isa_on_every_target_of_its_architecture() {
        for t in TARGETS {
            let levels = cpu_levels(t.arch);
            for (i, level) in levels.iter().enumerate() {
                let opts = Options {
                    cpu: Some(level.name.to_string()),
                    ..Options::default()
                };
                let target = Target::new(Some(t.name), &opts).expect(level.name);
                assert_eq!(target.cpu, level);
                // Each level has every feature of the ones before it.
                for lower in &levels[..i] {
                    assert_eq!(lower.features & !level.features, 0, "{}", level.name);
                    assert!(lower.isa_flags().all(|f| level.isa_flags().any(|g| g == f)));
                }
            }
            // No --cpu is the first level.
            let target = Target::new(Some(t.name), &Options::default()).unwrap();
            assert_eq!(target.cpu, &levels[0]);
        }
    }

    #[test]
    fn unknown_targets_are_refused_listing_the_supported_ones() {
        for bad in [
            "riscv64gc-unknown-linux-gnu",
            "x86_64-pc-windows-msvc",
            "aarch64-apple-ios",
            "nonsense",
        ] {
            let e = Target::new(Some(bad), &Options::default())
                .err()
                .expect(bad)
                .to_string();
            assert!(e.contains(bad), "{e}");
            for t in TARGETS {
                assert!(e.contains(t.name), "{e} should list {}", t.name);
            }
        }
    }
}
