//! The YAML as written, with spans: serde-saphyr structs, a generic node tree for `with:`,
//! and the conversion of serde-saphyr errors into located messages.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, MessageFormatter, Options, Spanned};

use crate::suggest;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDoc {
    pub workflow: S<String>,
    pub version: S<i64>,
    #[serde(default)]
    pub description: Option<S<String>>,
    #[serde(default)]
    pub trigger: Option<S<RawTrigger>>,
    #[serde(default)]
    pub defaults: Option<S<RawDefaults>>,
    #[serde(default)]
    pub start: Option<S<String>>,
    pub steps: S<Entries<S<RawStep>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    #[serde(default)]
    pub event: Option<S<String>>,
    #[serde(default)]
    pub key: Option<S<String>>,
    #[serde(default)]
    pub cron: Option<S<String>>,
    #[serde(default)]
    pub timezone: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    #[serde(default)]
    pub retry: Option<S<RawRetry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    #[serde(default)]
    pub attempts: Option<S<i64>>,
    #[serde(default)]
    pub backoff: Option<S<String>>,
    #[serde(default)]
    pub max: Option<S<String>>,
}

/// A step: exactly one of the kind fields must be set (checked after parsing, so that the
/// message can say which ones clash; an enum would lose spans or give serde's wording).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    #[serde(default)]
    pub rule: Option<S<String>>,
    #[serde(default)]
    pub connector: Option<S<String>>,
    #[serde(default)]
    pub task: Option<S<RawTask>>,
    #[serde(default)]
    pub wait: Option<S<RawWait>>,
    #[serde(default)]
    pub end: Option<S<String>>,
    #[serde(default)]
    pub on: Option<S<Entries<S<String>>>>,
    #[serde(default)]
    pub then: Option<S<String>>,
    #[serde(default)]
    pub retry: Option<S<RawRetry>>,
    #[serde(default)]
    pub with: Option<S<Node>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    pub role: S<String>,
    #[serde(default)]
    pub timeout: Option<S<String>>,
    #[serde(default)]
    pub outcomes: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWait {
    pub event: S<String>,
    #[serde(default)]
    pub timeout: Option<S<String>>,
    #[serde(default)]
    pub until: Option<S<String>>,
    #[serde(default)]
    pub outcomes: Option<S<Vec<S<String>>>>,
}

/// A mapping with string keys, kept in file order with the key spans.
#[derive(Debug)]
pub struct Entries<V>(pub Vec<(S<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// Any YAML value, with spans, for `with:` parameters.
#[derive(Debug)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<S<Node>>),
    Map(Vec<(S<String>, S<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
                i128::try_from(v)
                    .map(Node::Int)
                    .map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(Node::Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Node::Map(out))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// A 1-based source position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl From<&Location> for Pos {
    /// Unknown locations map to 1:1.
    fn from(loc: &Location) -> Pos {
        let line = usize::try_from(loc.line()).unwrap_or(usize::MAX);
        let col = usize::try_from(loc.column()).unwrap_or(usize::MAX);
        if line == 0 {
            Pos { line: 1, col: 1 }
        } else {
            Pos {
                line,
                col: col.max(1),
            }
        }
    }
}

/// The exact source text of a scalar, when serde-saphyr recorded byte offsets for it.
pub fn source_text<'a>(src: &'a str, loc: &Location) -> Option<&'a str> {
    let span = loc.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    src.get(start..start.checked_add(len)?)
}

/// Convert a `with:` node to JSON. Numbers keep their YAML text when it is a valid JSON
/// number (serde_json's `arbitrary_precision`), so `0.05` stays `0.05`.
pub fn to_json(src: &str, node: &S<Node>) -> Result<serde_json::Value, (Location, String)> {
    use serde_json::{Number, Value};
    Ok(match &node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => {
            let exact = source_text(src, &node.referenced).and_then(json_number_text);
            // Without its source text an integer is written from its parsed value (the same number).
            let num = exact.or_else(|| i.to_string().parse::<Number>().ok());
            match num {
                Some(n) => Value::Number(n),
                None => return Err((node.referenced, format!("integer {i} is not supported"))),
            }
        }
        Node::Float(f) => {
            let exact = source_text(src, &node.referenced).and_then(json_number_text);
            match exact.or_else(|| Number::from_f64(*f)) {
                Some(n) => Value::Number(n),
                None => {
                    return Err((node.referenced, "number must be finite".to_string()));
                }
            }
        }
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(
            items
                .iter()
                .map(|item| to_json(src, item))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(entries) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in entries {
                obj.insert(k.value.clone(), to_json(src, v)?);
            }
            Value::Object(obj)
        }
    })
}

/// The YAML number text as a JSON number: `+` and `_` dropped, `.5` -> `0.5`; `None` when
/// it still is not JSON (hex, octal, `1.`): then the parsed value is used.
fn json_number_text(text: &str) -> Option<serde_json::Number> {
    let mut t: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(rest) = t.strip_prefix('+') {
        t = rest.to_string();
    }
    if t.starts_with('.') {
        t.insert(0, '0');
    } else if t.starts_with("-.") {
        t.insert(1, '0');
    }
    t.parse::<serde_json::Number>().ok()
}

/// A serde-saphyr error as (location, message without the location suffix).
pub fn error_message(err: &serde_saphyr::Error) -> (Location, String) {
    let mut inner = err;
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = inner
    {
        inner = error;
    }
    let loc = err
        .location()
        .or_else(|| inner.location())
        .unwrap_or(Location::UNKNOWN);
    let message = match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => unknown_name("field", field, expected),
        serde_saphyr::Error::SerdeUnknownVariant {
            variant, expected, ..
        } => unknown_name("value", variant, expected),
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            format!("missing field '{field}'")
        }
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "a workflow file holds one YAML document: remove the second one (after '---')"
                .to_string()
        }
        serde_saphyr::Error::InvalidScalar { ty, .. } => match *ty {
            "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128"
            | "isize" | "usize" => "expected an integer".to_string(),
            "f32" | "f64" => "expected a number".to_string(),
            "bool" => "expected true or false".to_string(),
            other => format!("invalid {other}"),
        },
        serde_saphyr::Error::Unexpected { expected, .. } => match *expected {
            "mapping start" => "expected a mapping".to_string(),
            "sequence start" => "expected a list".to_string(),
            "string scalar" => "expected a string".to_string(),
            other => format!("expected {other}"),
        },
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => match key {
            Some(k) => format!("duplicate key '{k}'"),
            None => "duplicate key".to_string(),
        },
        other => {
            let text = serde_saphyr::DefaultMessageFormatter.format_message(other);
            // One line, no control characters.
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    (loc, message)
}

fn unknown_name(what: &str, name: &str, expected: &[&'static str]) -> String {
    match suggest::closest(name, expected.iter().copied()) {
        Some(c) => format!("unknown {what} '{name}' (did you mean '{c}'?)"),
        None if expected.is_empty() => format!("unknown {what} '{name}'"),
        None => format!(
            "unknown {what} '{name}', expected one of: {}",
            expected.join(", ")
        ),
    }
}

/// serde-saphyr with duplicate keys as errors; a duplicate gets its first position added.
pub fn parse_raw(src: &str) -> Result<RawDoc, (Location, String)> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        serde_saphyr::from_str_with_options::<RawDoc>(src, Options::default())
    }));
    let err = match result {
        Ok(Ok(doc)) => return Ok(doc),
        Ok(Err(err)) => err,
        Err(_) => {
            return Err((
                Location::UNKNOWN,
                "internal error in the YAML parser".to_string(),
            ));
        }
    };
    let (loc, mut message) = error_message(&err);
    if let serde_saphyr::Error::DuplicateMappingKey { .. } = err.without_snippet()
        && let Some((first, in_steps)) = first_occurrence(src, &loc)
    {
        let Pos { line, col } = Pos::from(&first.referenced);
        message = if in_steps {
            format!(
                "duplicate step '{}' (first defined at {line}:{col})",
                first.value
            )
        } else {
            format!("{message} (first defined at {line}:{col})")
        };
    }
    Err((loc, message))
}

/// For a duplicate key reported at `dup`: the first occurrence of that key and whether the
/// mapping is the top-level `steps:`. Re-reads the file with duplicates passed through.
fn first_occurrence(src: &str, dup: &Location) -> Option<(S<String>, bool)> {
    let mut opts = Options::default();
    opts.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    let tree = catch_unwind(AssertUnwindSafe(|| {
        serde_saphyr::from_str_with_options::<S<Node>>(src, opts)
    }))
    .ok()?
    .ok()?;
    find_first(&tree, dup, false, true)
}

fn find_first(
    node: &S<Node>,
    dup: &Location,
    in_steps: bool,
    is_root: bool,
) -> Option<(S<String>, bool)> {
    let same = |a: &Location, b: &Location| a.line() == b.line() && a.column() == b.column();
    match &node.value {
        Node::Map(entries) => {
            for (i, (key, _)) in entries.iter().enumerate() {
                if same(&key.referenced, dup)
                    && let Some((first, _)) =
                        entries[..i].iter().find(|(k, _)| k.value == key.value)
                {
                    return Some((first.clone(), in_steps));
                }
            }
            entries.iter().find_map(|(key, value)| {
                find_first(value, dup, is_root && key.value == "steps", false)
            })
        }
        Node::Seq(items) => items
            .iter()
            .find_map(|item| find_first(item, dup, false, false)),
        _ => None,
    }
}
