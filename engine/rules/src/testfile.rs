//! Rule test files (`rules/NAME.test.yaml`):
//!
//! ```yaml
//! cases:
//!   - name: small order from a good customer
//!     input: { order: { total: 100.00 }, customer: { credit_limit: 5000 } }
//!     expect: approved
//!   - name: over the limit
//!     input: { ... }
//!     expect: { outcome: review, values: { reason: "over credit by 0.01" } }
//!     now: 2026-03-01T09:00:00Z     # optional: what `now()` returns (business time)
//! ```
//!
//! YAML numbers reach the rule exactly: every node is deserialized together with its source
//! span, and a fractional number (which serde-saphyr would otherwise hand over as an `f64`) is
//! re-read from its exact source text and parsed as a `Decimal`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use serde_saphyr::{Location, MessageFormatter, Spanned};

use crate::convert::{decimal_to_number, json_equal, parse_decimal};
use crate::{Decision, Diagnostic, Rule, RuleError};

/// The result of one test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub passed: bool,
    /// What the case expects, e.g. `approved` or `review with values {"reason":"..."}`.
    pub expected: String,
    /// What the rule did, in the same form, or `error: <message>` if it failed.
    pub actual: String,
    /// Human-readable differences, e.g. `outcome: expected 'review', got 'approved'`.
    pub diff: Vec<String>,
}

pub(crate) struct Case {
    name: String,
    pub input: serde_json::Map<String, Value>,
    outcome: String,
    /// What `now()` returns in this case.
    pub now: Option<String>,
    /// Only these keys are compared.
    values: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    cases: Spanned<Vec<Spanned<RawCase>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    input: Spanned<Node>,
    expect: Spanned<Node>,
    /// Business time for `now()` in this case (a rule's result must not depend on the day the
    /// tests run).
    #[serde(default)]
    now: Option<String>,
}

/// A YAML node, with positions on every child.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// Placeholder: the exact text is re-read from the source span.
    Float,
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::UInt(_) | Node::Float => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D2: de::Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(i64::try_from(v).map_or(Node::UInt(v), Node::Int))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Float)
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<Node>>()?;
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

struct Ctx<'a> {
    path: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn diag(&self, loc: &Location, message: impl Into<String>) -> Diagnostic {
        let (line, col) = line_col(loc);
        Diagnostic {
            path: self.path.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    /// The exact source text of a scalar node.
    fn scalar_text(&self, loc: &Location) -> Option<&str> {
        let span = loc.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        self.src.get(start..start.checked_add(len)?)
    }

    fn to_json(&self, node: &Spanned<Node>) -> Result<Value, Diagnostic> {
        Ok(match &node.value {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Number((*i).into()),
            Node::UInt(u) => Value::Number((*u).into()),
            Node::Float => {
                let text = self.scalar_text(&node.defined).ok_or_else(|| {
                    self.diag(&node.defined, "cannot read the exact text of this number")
                })?;
                Value::Number(self.exact_number(&node.defined, text)?)
            }
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.to_json(i))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.value.clone(), self.to_json(v)?);
                }
                Value::Object(map)
            }
        })
    }

    fn exact_number(&self, loc: &Location, text: &str) -> Result<Number, Diagnostic> {
        // A tagged scalar (`!!float 1.5`) may include the tag in its span.
        // rsplit always yields a last item; the fallback is never taken.
        let t = text.rsplit(char::is_whitespace).next().unwrap_or(text);
        let dec = parse_decimal(t).ok_or_else(|| {
            self.diag(
                loc,
                format!(
                    "the number `{text}` cannot be represented exactly as a decimal (at most 28 significant digits); write it with fewer digits"
                ),
            )
        })?;
        decimal_to_number(dec).map_err(|e| self.diag(loc, e))
    }
}

fn line_col(loc: &Location) -> (usize, usize) {
    // Error position only.
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    (line, col)
}

fn yaml_error(path: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let inner = err.without_snippet();
    let message: Cow<'_, str> = serde_saphyr::DefaultMessageFormatter.format_message(inner);
    let (line, col) = err.location().map_or((1, 1), |l| line_col(&l));
    Diagnostic {
        path: path.to_string(),
        line,
        col,
        message: message.replace(['\n', '\r'], " "),
    }
}

pub(crate) fn parse(rule: &Rule, path: &str, src: &str) -> Result<Vec<Case>, Diagnostic> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    if src.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    }) {
        return Err(Diagnostic {
            path: path.to_string(),
            line: 1,
            col: 1,
            message: "the test file is empty; it needs `cases:` with a list of test cases".into(),
        });
    }
    let raw: RawFile =
        serde_saphyr::from_str_with_options(src, options).map_err(|e| yaml_error(path, &e))?;
    let ctx = Ctx { path, src };
    if raw.cases.value.is_empty() {
        return Err(ctx.diag(&raw.cases.referenced, "`cases:` lists no test cases"));
    }
    let mut cases: Vec<Case> = Vec::with_capacity(raw.cases.value.len());
    for case in &raw.cases.value {
        let case = &case.value;
        let name = case.name.value.trim().to_string();
        if name.is_empty() {
            return Err(ctx.diag(
                &case.name.referenced,
                "a test case needs a non-empty `name`",
            ));
        }
        if cases.iter().any(|c| c.name == name) {
            return Err(ctx.diag(
                &case.name.referenced,
                format!("two test cases are named '{name}'; give each case its own name"),
            ));
        }
        let input = parse_input(&ctx, rule, &case.input)?;
        let (outcome, values) = parse_expect(&ctx, rule, &case.expect)?;
        cases.push(Case {
            name,
            input,
            now: case.now.clone(),
            outcome,
            values,
        });
    }
    Ok(cases)
}

fn parse_input(
    ctx: &Ctx<'_>,
    rule: &Rule,
    node: &Spanned<Node>,
) -> Result<serde_json::Map<String, Value>, Diagnostic> {
    let Node::Map(entries) = &node.value else {
        return Err(ctx.diag(
            &node.referenced,
            format!(
                "`input` must be a mapping from input names ({}) to values, not {}",
                rule.inputs.join(", "),
                node.value.kind()
            ),
        ));
    };
    let mut input = serde_json::Map::with_capacity(entries.len());
    for (key, value) in entries {
        if !rule.inputs.contains(&key.value) {
            return Err(ctx.diag(
                &key.referenced,
                format!(
                    "`{}` is not an input of {} (its `//! inputs:` are: {})",
                    key.value,
                    rule.path,
                    rule.inputs.join(", ")
                ),
            ));
        }
        input.insert(key.value.clone(), ctx.to_json(value)?);
    }
    Ok(input)
}

fn parse_expect(
    ctx: &Ctx<'_>,
    rule: &Rule,
    node: &Spanned<Node>,
) -> Result<(String, serde_json::Map<String, Value>), Diagnostic> {
    const SHAPE: &str = "`expect` must be an outcome (e.g. `expect: approved`) or a mapping `{ outcome: ..., values: { ... } }`";
    let check_outcome = |outcome: &str, loc: &Location| -> Result<(), Diagnostic> {
        if outcome.is_empty() {
            return Err(ctx.diag(loc, "the expected outcome is empty"));
        }
        if let Some(declared) = &rule.outcomes
            && !declared.iter().any(|o| o == outcome)
        {
            return Err(ctx.diag(
                loc,
                format!(
                    "expected outcome '{outcome}' is not declared in {} (`//! outcomes: {}`)",
                    rule.path,
                    declared.join(", ")
                ),
            ));
        }
        Ok(())
    };
    match &node.value {
        Node::Str(s) => {
            check_outcome(s, &node.referenced)?;
            Ok((s.clone(), serde_json::Map::new()))
        }
        Node::Map(entries) => {
            let mut outcome = None;
            let mut values = serde_json::Map::new();
            for (key, value) in entries {
                match key.value.as_str() {
                    "outcome" => {
                        let Node::Str(s) = &value.value else {
                            return Err(ctx.diag(
                                &value.referenced,
                                format!(
                                    "`outcome` must be an outcome name, not {}",
                                    value.value.kind()
                                ),
                            ));
                        };
                        check_outcome(s, &value.referenced)?;
                        outcome = Some(s.clone());
                    }
                    "values" => {
                        let Node::Map(vals) = &value.value else {
                            return Err(ctx.diag(
                                &value.referenced,
                                format!(
                                    "`values` must be a mapping of the values to compare, not {}",
                                    value.value.kind()
                                ),
                            ));
                        };
                        for (k, v) in vals {
                            if k.value == "outcome" {
                                return Err(ctx.diag(
                                    &k.referenced,
                                    "put `outcome` next to `values`, not inside it",
                                ));
                            }
                            values.insert(k.value.clone(), ctx.to_json(v)?);
                        }
                    }
                    other => {
                        return Err(ctx.diag(
                            &key.referenced,
                            format!(
                                "unknown key `{other}` in `expect` (known keys: outcome, values)"
                            ),
                        ));
                    }
                }
            }
            let outcome = outcome.ok_or_else(|| {
                ctx.diag(&node.referenced, "`expect` mapping needs an `outcome` key")
            })?;
            Ok((outcome, values))
        }
        _ => Err(ctx.diag(&node.referenced, SHAPE)),
    }
}

fn show(outcome: &str, values: &serde_json::Map<String, Value>) -> String {
    if values.is_empty() {
        outcome.to_string()
    } else {
        format!("{outcome} with values {}", Value::Object(values.clone()))
    }
}

pub(crate) fn check(case: Case, result: Result<Decision, RuleError>) -> CaseResult {
    let expected = show(&case.outcome, &case.values);
    let decision = match result {
        Ok(d) => d,
        Err(err) => {
            return CaseResult {
                name: case.name,
                passed: false,
                diff: vec![format!(
                    "outcome: expected '{}', but the rule failed: {err}",
                    case.outcome
                )],
                expected,
                actual: format!("error: {err}"),
            };
        }
    };
    let mut diff = Vec::new();
    if decision.outcome != case.outcome {
        diff.push(format!(
            "outcome: expected '{}', got '{}'",
            case.outcome, decision.outcome
        ));
    }
    for (key, want) in &case.values {
        match decision.values.get(key) {
            None => diff.push(format!(
                "values.{key}: expected {want}, got nothing (the rule returned no `{key}`)"
            )),
            Some(got) if !json_equal(want, got) => {
                diff.push(format!("values.{key}: expected {want}, got {got}"));
            }
            Some(_) => {}
        }
    }
    CaseResult {
        name: case.name,
        passed: diff.is_empty(),
        expected,
        actual: show(&decision.outcome, &decision.values),
        diff,
    }
}
