//! Does our trap satisfy the message a script expects?
//!
//! Scripts name traps by the reference interpreter's messages; ours are
//! `abi::TrapCode::message()`. A trap matches when the expected message
//! starts with our message, or with one of its equivalents below (the spec
//! and the runtime word a few traps differently). "access denied" satisfies
//! an expected out-of-bounds access (DESIGN.md: memory model).
//! memory-control refusals carry a reason, so there the expected text must
//! be a prefix of the trap's full message.

use wasm2o_runtime::abi::TrapCode;
use wasm2o_runtime::Trap;

/// Other spec wordings a trap code satisfies.
fn equivalents(code: TrapCode) -> &'static [&'static str] {
    match code {
        TrapCode::TableOutOfBounds => &["undefined element", "out of bounds table access"],
        TrapCode::UninitializedElement => &["uninitialized element"],
        TrapCode::MemoryOutOfBounds => &["out of bounds memory access"],
        TrapCode::MemoryAccessDenied => &["out of bounds memory access", "access denied"],
        TrapCode::StackOverflow => &["call stack exhausted"],
        TrapCode::IntegerOverflow => &["integer overflow"],
        TrapCode::BadConversionToInteger => &["invalid conversion to integer"],
        TrapCode::NullReference => &["null reference", "null function reference"],
        _ => &[],
    }
}

pub fn trap_matches(trap: &Trap, expected: &str) -> bool {
    code_matches(trap.code, &trap.message, expected)
}

pub fn code_matches(code: TrapCode, full_message: &str, expected: &str) -> bool {
    if code == TrapCode::MemoryControlRefused {
        return if full_message.is_empty() {
            expected.starts_with(code.message())
        } else {
            full_message.starts_with(expected)
        };
    }
    expected.starts_with(code.message())
        || equivalents(code).iter().any(|e| expected.starts_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_wordings() {
        assert!(code_matches(
            TrapCode::TableOutOfBounds,
            "",
            "undefined element"
        ));
        assert!(code_matches(
            TrapCode::UninitializedElement,
            "",
            "uninitialized element 2"
        ));
        assert!(code_matches(
            TrapCode::MemoryAccessDenied,
            "",
            "out of bounds memory access"
        ));
        assert!(code_matches(
            TrapCode::StackOverflow,
            "",
            "call stack exhausted"
        ));
        assert!(code_matches(
            TrapCode::IntegerDivideByZero,
            "",
            "integer divide by zero"
        ));
        assert!(!code_matches(
            TrapCode::MemoryOutOfBounds,
            "",
            "undefined element"
        ));
        assert!(!code_matches(TrapCode::Unreachable, "", "integer overflow"));
    }

    #[test]
    fn refusals_compare_reasons() {
        let full = "memory-control request refused: unaligned";
        assert!(code_matches(
            TrapCode::MemoryControlRefused,
            full,
            "memory-control request refused: unaligned"
        ));
        assert!(code_matches(
            TrapCode::MemoryControlRefused,
            full,
            "memory-control request refused"
        ));
        assert!(!code_matches(
            TrapCode::MemoryControlRefused,
            full,
            "memory-control request refused: zero size"
        ));
    }
}
