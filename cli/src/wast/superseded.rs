//! Spec assertions that later proposals wasm2o implements have reversed.
//!
//! The WebAssembly 2.0 scripts reject some modules that multi-memory or
//! memory64 make valid, and wasm2o implements both; the threads scripts,
//! older still, also reject several tables, which reference types allow.
//! For the directives listed here the expectation is inverted: the module
//! must compile. Each entry names the script (`suite/file`, as `wasm2o
//! spec-files` lays them out), the line of the directive, the message the
//! script expects (a guard against the entry drifting onto another
//! directive) and the reason.
//! An entry that matches no directive of its script is itself reported as
//! a failure, so the list cannot silently go stale.

/// (script, line, expected message, why the module is valid for wasm2o).
pub const SUPERSEDED: &[(&str, usize, &str, &str)] = &[
    ("wasm-v2/memory.wast", 10, "multiple memories", MULTI_MEMORY),
    ("wasm-v2/memory.wast", 11, "multiple memories", MULTI_MEMORY),
    (
        "wasm-v2/imports.wast",
        487,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "wasm-v2/imports.wast",
        491,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "wasm-v2/imports.wast",
        495,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "memory64/memory.wast",
        10,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "memory64/memory.wast",
        11,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "memory64/memory64.wast",
        8,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "memory64/memory64.wast",
        9,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "wasm-v2/binary.wast",
        145,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        165,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        184,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        203,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        242,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        261,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        279,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary.wast",
        297,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        876,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        896,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        915,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        934,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        973,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        992,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        1010,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "memory64/binary.wast",
        1028,
        "zero byte expected",
        MEMORY_INDEX_LEB,
    ),
    (
        "wasm-v2/binary-leb128.wast",
        217,
        "integer representation too long",
        LIMITS_U64,
    ),
    (
        "wasm-v2/binary-leb128.wast",
        225,
        "integer representation too long",
        LIMITS_U64,
    ),
    ("threads/imports.wast", 309, "multiple tables", MULTI_TABLE),
    ("threads/imports.wast", 313, "multiple tables", MULTI_TABLE),
    ("threads/imports.wast", 317, "multiple tables", MULTI_TABLE),
    (
        "threads/imports.wast",
        404,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "threads/imports.wast",
        408,
        "multiple memories",
        MULTI_MEMORY,
    ),
    (
        "threads/imports.wast",
        412,
        "multiple memories",
        MULTI_MEMORY,
    ),
    ("threads/memory.wast", 14, "multiple memories", MULTI_MEMORY),
    ("threads/memory.wast", 15, "multiple memories", MULTI_MEMORY),
];

const MULTI_MEMORY: &str = "multi-memory: a module may define and import several memories";
const MULTI_TABLE: &str =
    "reference types (WebAssembly 2.0; the threads scripts predate it): a module may define and import several tables";
const MEMORY_INDEX_LEB: &str =
    "multi-memory: the byte after memory.size/memory.grow is a memory index, and a multi-byte LEB128 zero is index 0";
const LIMITS_U64: &str =
    "memory64: memory limits are u64 LEB128, so a 6-byte encoding is well-formed";

/// `suite/file` of a script path (its last two components).
pub fn script_key(path: &std::path::Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(suite) => format!("{}/{file}", suite.to_string_lossy()),
        None => file,
    }
}

/// The reason, if the directive of `script` at `line` expecting `message`
/// is superseded.
pub fn lookup(script: &str, line: usize, message: &str) -> Option<&'static str> {
    SUPERSEDED
        .iter()
        .find(|(s, l, m, _)| *s == script && *l == line && *m == message)
        .map(|e| e.3)
}

/// The entries for `script`: (line, message).
pub fn entries(script: &str) -> impl Iterator<Item = (usize, &'static str)> + '_ {
    SUPERSEDED
        .iter()
        .filter(move |e| e.0 == script)
        .map(|e| (e.1, e.2))
}
