//! JSON <-> Rhai values. Numbers never pass through `f64`: integer text that fits `i64` becomes
//! an `INT`, every other number becomes a `Decimal` parsed from its exact text.

use std::str::FromStr;

use rhai::{Array, Dynamic, INT, Map};
use rust_decimal::Decimal;
use serde_json::{Number, Value};

/// Parses exact number text (JSON or YAML spelling: `12`, `-0.10`, `1e3`, `+.5`) into a
/// `Decimal` without rounding. Returns `None` if the value has more precision or range than a
/// `Decimal` holds.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.contains('_') {
        return None;
    }
    if t.contains(['e', 'E']) {
        let (mantissa, exp) = t.split_once(['e', 'E'])?;
        let exp: i64 = exp.strip_prefix('+').unwrap_or(exp).parse().ok()?;
        let m = parse_plain_decimal(mantissa)?;
        return scale_by_power_of_ten(m, exp);
    }
    parse_plain_decimal(t)
}

fn parse_plain_decimal(t: &str) -> Option<Decimal> {
    // `.5` and `-.5` are valid YAML floats; give rust_decimal a leading zero.
    let owned;
    let t = if let Some(rest) = t.strip_prefix("-.") {
        owned = format!("-0.{rest}");
        owned.as_str()
    } else if let Some(rest) = t.strip_prefix('.') {
        owned = format!("0.{rest}");
        owned.as_str()
    } else {
        t
    };
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

fn scale_by_power_of_ten(m: Decimal, exp: i64) -> Option<Decimal> {
    if exp.unsigned_abs() > 56 {
        return None;
    }
    let mut d = m;
    let ten = Decimal::TEN;
    if exp >= 0 {
        for _ in 0..exp {
            d = d.checked_mul(ten)?;
        }
        Some(d)
    } else {
        // Dividing by ten is exact as long as the scale stays within 28 digits.
        let new_scale = i64::from(d.scale()) - exp;
        if new_scale > 28 {
            // Trailing zeros may still make it fit: normalize and retry.
            let n = d.normalize();
            let ns = i64::from(n.scale()) - exp;
            if ns > 28 {
                return None;
            }
            let mut r = n;
            r.set_scale(u32::try_from(ns).ok()?).ok()?;
            return Some(r);
        }
        let mut r = d;
        r.set_scale(u32::try_from(new_scale).ok()?).ok()?;
        Some(r)
    }
}

/// Converts one JSON number to a Rhai value (`INT` or `Decimal`), exactly.
pub(crate) fn number_to_dynamic(n: &Number) -> Result<Dynamic, String> {
    let text = n.as_str();
    if !text.contains(['.', 'e', 'E'])
        && let Ok(i) = text.parse::<INT>()
    {
        return Ok(Dynamic::from_int(i));
    }
    parse_decimal(text).map(Dynamic::from_decimal).ok_or_else(|| {
        format!("the number {text} cannot be represented exactly as a decimal (at most 28 significant digits)")
    })
}

/// Fallible conversion used by the host: fails on a number a `Decimal` cannot hold exactly.
pub(crate) fn try_json_to_dynamic(v: &Value) -> Result<Dynamic, String> {
    Ok(match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => number_to_dynamic(n)?,
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => {
            let mut arr = Array::with_capacity(items.len());
            for item in items {
                arr.push(try_json_to_dynamic(item)?);
            }
            Dynamic::from_array(arr)
        }
        Value::Object(obj) => {
            let mut map = Map::new();
            for (k, v) in obj {
                map.insert(k.as_str().into(), try_json_to_dynamic(v)?);
            }
            Dynamic::from_map(map)
        }
    })
}

/// Converts a JSON value into a Rhai value. Numbers: integer text that fits `i64` becomes
/// `INT`; anything else (`1200.50`, `1e3`, integers beyond `i64`) becomes a `Decimal` parsed from
/// the exact text, never through `f64`. A number that no `Decimal` can hold exactly (more than 28
/// significant digits) is passed as its text, a string; [`crate::RuleHost::evaluate`] rejects
/// such inputs instead with [`crate::RuleError::BadInput`].
pub fn json_to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Number(n) => {
            // Documented above: the lenient form passes such a number as its text; evaluate() refuses it.
            number_to_dynamic(n).unwrap_or_else(|_| Dynamic::from(n.as_str().to_string()))
        }
        Value::Array(items) => Dynamic::from_array(items.iter().map(json_to_dynamic).collect()),
        Value::Object(obj) => Dynamic::from_map(
            obj.iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect(),
        ),
        // Null, bool and string always convert; the fallback is never taken.
        other => try_json_to_dynamic(other).unwrap_or(Dynamic::UNIT),
    }
}

/// JSON number with the exact decimal text of `d` (e.g. `1000.10` keeps its scale).
pub(crate) fn decimal_to_number(d: Decimal) -> Result<Number, String> {
    let text = d.to_string();
    Number::from_str(&text).map_err(|e| format!("decimal {text} is not a JSON number: {e}"))
}

/// Converts a Rhai value into JSON: `Decimal` -> exact JSON number, `INT` -> number, strings and
/// characters -> strings, booleans, arrays, object maps, `()` -> `null`. Other types (function
/// pointers, blobs, timestamps, custom types) are an error naming the type.
pub fn dynamic_to_json(d: &Dynamic) -> Result<Value, String> {
    if d.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = d.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = d.as_int() {
        return Ok(Value::Number(i.into()));
    }
    if let Ok(dec) = d.as_decimal() {
        return decimal_to_number(dec).map(Value::Number);
    }
    if let Ok(c) = d.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if d.is_string() {
        let s = d
            .read_lock::<rhai::ImmutableString>()
            .ok_or("string value is locked")?;
        return Ok(Value::String(s.to_string()));
    }
    if d.is_array() {
        let arr = d.read_lock::<Array>().ok_or("array value is locked")?;
        return arr
            .iter()
            .map(dynamic_to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if d.is_map() {
        let map = d.read_lock::<Map>().ok_or("map value is locked")?;
        let mut out = serde_json::Map::with_capacity(map.len());
        for (k, v) in map.iter() {
            let v = dynamic_to_json(v).map_err(|e| format!("{k}: {e}"))?;
            out.insert(k.to_string(), v);
        }
        return Ok(Value::Object(out));
    }
    Err(format!(
        "a value of type `{}` cannot be turned into JSON",
        d.type_name()
    ))
}

/// Numeric-aware equality: numbers compare by value (`5` == `5.00`), objects and arrays
/// recursively, everything else exactly.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (xs, ys) = (x.as_str(), y.as_str());
            match (parse_decimal(xs), parse_decimal(ys)) {
                (Some(dx), Some(dy)) => dx == dy,
                _ => xs == ys,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
