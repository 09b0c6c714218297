//! Values on the command line: parsing `run` arguments by type, printing results.

use wasm2o_runtime::desc::ValType;
use wasm2o_runtime::Val;

use crate::error::err;
use crate::Result;

/// Parses one command-line argument as a value of type `ty`.
pub fn parse_arg(s: &str, ty: ValType) -> Result<Val> {
    let bad = || err!("argument {s:?} is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => {
            let v = parse_int(s).ok_or_else(bad)?;
            if !(i32::MIN as i128..=u32::MAX as i128).contains(&v) {
                return Err(bad());
            }
            Val::I32(v as i64 as i32)
        }
        ValType::I64 => {
            let v = parse_int(s).ok_or_else(bad)?;
            if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                return Err(bad());
            }
            Val::I64(v as i64)
        }
        ValType::F32 => match s.strip_prefix("bits:") {
            Some(b) => Val::F32(u32::try_from(parse_int(b).ok_or_else(bad)?).map_err(|_| bad())?),
            None => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        },
        ValType::F64 => match s.strip_prefix("bits:") {
            Some(b) => Val::F64(u64::try_from(parse_int(b).ok_or_else(bad)?).map_err(|_| bad())?),
            None => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        },
        ValType::FuncRef if s == "null" => Val::FuncRef(0),
        ValType::ExternRef if s == "null" => Val::ExternRef(0),
        ValType::FuncRef | ValType::ExternRef => {
            return Err(err!("argument {s:?}: only `null` can be passed as a {ty}"))
        }
    })
}

/// Decimal or `0x` hex, with an optional sign; `_` separators allowed.
fn parse_int(s: &str) -> Option<i128> {
    let s = s.replace('_', "");
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// `42 : i32`, `-0.5 : f64`, `nan:0x7fc00000 : f32`, `null : funcref`.
pub fn format_val(v: &Val) -> String {
    match *v {
        Val::I32(x) => format!("{x} : i32"),
        Val::I64(x) => format!("{x} : i64"),
        Val::F32(b) => format!("{} : f32", format_f32(b)),
        Val::F64(b) => format!("{} : f64", format_f64(b)),
        Val::FuncRef(0) => "null : funcref".to_string(),
        Val::FuncRef(p) => format!("ref.func {p:#x} : funcref"),
        Val::ExternRef(0) => "null : externref".to_string(),
        Val::ExternRef(p) => format!("ref.extern {p:#x} : externref"),
    }
}

pub fn format_f32(bits: u32) -> String {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        format!(
            "{}nan:{:#x}",
            if bits >> 31 != 0 { "-" } else { "" },
            bits & 0x7fff_ffff
        )
    } else {
        format!("{f:?}")
    }
}

pub fn format_f64(bits: u64) -> String {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        format!(
            "{}nan:{:#x}",
            if bits >> 63 != 0 { "-" } else { "" },
            bits & 0x7fff_ffff_ffff_ffff
        )
    } else {
        format!("{f:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_type() {
        assert!(matches!(
            parse_arg("42", ValType::I32).unwrap(),
            Val::I32(42)
        ));
        assert!(matches!(
            parse_arg("-1", ValType::I32).unwrap(),
            Val::I32(-1)
        ));
        assert!(matches!(
            parse_arg("0xffffffff", ValType::I32).unwrap(),
            Val::I32(-1)
        ));
        assert!(matches!(
            parse_arg("4294967295", ValType::I32).unwrap(),
            Val::I32(-1)
        ));
        assert!(parse_arg("4294967296", ValType::I32).is_err());
        assert!(parse_arg("x", ValType::I64).is_err());
        assert!(
            matches!(parse_arg("1.5", ValType::F64).unwrap(), Val::F64(b) if b == 1.5f64.to_bits())
        );
        assert!(matches!(
            parse_arg("bits:0x7fc00000", ValType::F32).unwrap(),
            Val::F32(0x7fc0_0000)
        ));
        assert!(matches!(
            parse_arg("null", ValType::ExternRef).unwrap(),
            Val::ExternRef(0)
        ));
    }

    #[test]
    fn formats_results() {
        assert_eq!(format_val(&Val::I32(42)), "42 : i32");
        assert_eq!(format_val(&Val::F32(0x7fc0_0000)), "nan:0x7fc00000 : f32");
        assert_eq!(format_val(&Val::F64(1.0f64.to_bits())), "1.0 : f64");
    }
}
