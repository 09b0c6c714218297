//! Script values: `invoke` arguments to runtime values, and expected results
//! (with NaN patterns and reference forms) matched against what came back.
//!
//! Host externrefs: the script's `ref.extern N` is passed as `N + 1`, so
//! that 0 stays the null reference.

use wasm2o_runtime::Val;
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

use crate::values::{format_f32, format_f64, format_val};

/// Converts an argument; `Err` names what wasm2o cannot pass.
pub fn arg(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("component-model argument".to_string());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::RefNull(ht) => match heap_kind(ht) {
            RefKind::Extern => Val::ExternRef(0),
            _ => Val::FuncRef(0),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(*n as usize + 1),
        WastArgCore::V128(_) => return Err("v128 arguments are not supported".to_string()),
        WastArgCore::RefHost(_) => return Err("ref.host arguments are not supported".to_string()),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Func,
    Extern,
    Other,
}

fn heap_kind(ht: &HeapType<'_>) -> RefKind {
    match ht {
        HeapType::Abstract {
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
            ..
        } => RefKind::Func,
        HeapType::Abstract {
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
            ..
        } => RefKind::Extern,
        HeapType::Concrete(_) | HeapType::Exact(_) => RefKind::Func,
        _ => RefKind::Other,
    }
}

/// Do all results match?
pub fn results_match(expected: &[WastRet<'_>], got: &[Val]) -> bool {
    expected.len() == got.len() && expected.iter().zip(got).all(|(e, g)| ret_matches(e, g))
}

fn ret_matches(e: &WastRet<'_>, g: &Val) -> bool {
    match e {
        WastRet::Core(c) => core_matches(c, g),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

fn core_matches(e: &WastRetCore<'_>, g: &Val) -> bool {
    match (e, g) {
        (WastRetCore::I32(e), Val::I32(g)) => e == g,
        (WastRetCore::I64(e), Val::I64(g)) => e == g,
        (WastRetCore::F32(p), Val::F32(bits)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(f) => f.bits == *bits,
        },
        (WastRetCore::F64(p), Val::F64(bits)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(f) => f.bits == *bits,
        },
        (WastRetCore::RefNull(None), Val::FuncRef(0) | Val::ExternRef(0)) => true,
        (WastRetCore::RefNull(Some(ht)), Val::FuncRef(0)) => heap_kind(ht) != RefKind::Extern,
        (WastRetCore::RefNull(Some(ht)), Val::ExternRef(0)) => heap_kind(ht) != RefKind::Func,
        (WastRetCore::RefExtern(None), Val::ExternRef(x)) => *x != 0,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(x)) => *x == *n as usize + 1,
        // The function's identity is not checked: a script's index names a
        // function of its own module, which we cannot map to a pointer.
        (WastRetCore::RefFunc(_), Val::FuncRef(x)) => *x != 0,
        (WastRetCore::Either(cases), _) => cases.iter().any(|c| core_matches(c, g)),
        _ => false,
    }
}

/// `[1 : i32, nan:canonical : f32]`.
pub fn describe_expected(expected: &[WastRet<'_>]) -> String {
    let items: Vec<String> = expected
        .iter()
        .map(|e| match e {
            WastRet::Core(c) => describe_core(c),
            #[allow(unreachable_patterns)]
            _ => "<component value>".to_string(),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn nan<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => value(v),
    }
}

fn describe_core(c: &WastRetCore<'_>) -> String {
    match c {
        WastRetCore::I32(v) => format!("{v} : i32"),
        WastRetCore::I64(v) => format!("{v} : i64"),
        WastRetCore::F32(p) => format!("{} : f32", nan(p, |f| format_f32(f.bits))),
        WastRetCore::F64(p) => format!("{} : f64", nan(p, |f| format_f64(f.bits))),
        WastRetCore::RefNull(_) => "ref.null".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::Either(cases) => {
            format!(
                "either({})",
                cases
                    .iter()
                    .map(describe_core)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        }
        other => format!("{other:?}"),
    }
}

/// `[0 : i32]`; host externrefs are shown as the script wrote them.
pub fn describe_got(got: &[Val]) -> String {
    let items: Vec<String> = got
        .iter()
        .map(|v| match *v {
            Val::ExternRef(x) if x != 0 => format!("ref.extern {}", x - 1),
            _ => format_val(v),
        })
        .collect();
    format!("[{}]", items.join(", "))
}
