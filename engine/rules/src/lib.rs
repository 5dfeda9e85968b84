//! Rhai rule host: compile once, sandbox limits, typed inputs, rule test cases (pure, no I/O).
//!
//! Business analysts edit `rules/NAME.rhai`; callers pass `(path, source)` strings and get
//! either a compiled [`Rule`] or a [`Diagnostic`] (`rules/x.rhai:line:col: message`). Rules are
//! evaluated in a sandbox (operation budget, call depth, sizes, wall time) with read-only inputs
//! in which money is a `Decimal`, never a float.
//!
//! Header syntax (first lines of the file, before any code):
//!
//! ```text
//! //! inputs: order, customer
//! //! outcomes: approved, review, rejected
//! ```
//!
//! Rules never block and never read the wall clock: `sleep` and `timestamp` are refused (at
//! compile time when called by name, at run time otherwise); `now()` returns the engine's
//! business time as an ISO 8601 UTC string (`2026-03-01T09:00:00Z`), given by the caller of
//! [`RuleHost::evaluate_at`] (a test case's `now:`).

mod convert;
mod header;
mod testfile;

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{AST, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Position, Scope};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

pub use convert::{dynamic_to_json, json_to_dynamic};
pub use testfile::CaseResult;

/// A located error in a rule file or a rule test file; displays as `path:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for Diagnostic {}

/// Sandbox limits applied to every evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deterministic budget of Rhai operations per evaluation (0 = unlimited; don't).
    pub max_operations: u64,
    /// Maximum function call nesting.
    pub max_call_levels: usize,
    /// Maximum expression nesting (also used for nesting inside functions).
    pub max_expr_depth: usize,
    /// Maximum string length (bytes).
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    /// Wall-clock backstop per evaluation, checked every 1024 operations.
    pub wall_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
            wall_time: Duration::from_millis(100),
        }
    }
}

/// A compiled rule. Cloning is cheap (the AST is shared).
#[derive(Clone)]
pub struct Rule {
    pub name: String,
    pub path: String,
    /// Lower-case hex SHA-256 of the source text (record it with each decision).
    pub hash: String,
    /// Names from the `//! inputs:` header, in order.
    pub inputs: Vec<String>,
    /// Names from the `//! outcomes:` header, if present.
    pub outcomes: Option<Vec<String>>,
    ast: Arc<AST>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("hash", &self.hash)
            .field("inputs", &self.inputs)
            .field("outcomes", &self.outcomes)
            .finish_non_exhaustive()
    }
}

/// What a rule decided: its outcome and any other values it returned in its map.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: String,
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// Why an evaluation failed. The rule step fails; the engine does not.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(
        "the rule used up its operation budget (Limits::max_operations) before returning; look for a loop that never ends"
    )]
    TooManyOperations,
    #[error(
        "the rule ran longer than its wall-time limit of {ms} ms and was stopped; look for a loop that never ends"
    )]
    WallTimeExceeded { ms: u64 },
    #[error("{path}:{line}:{col}: {message}")]
    Runtime {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{0}")]
    BadReturn(String),
    #[error(
        "{path}: the rule returned outcome '{outcome}', which is not declared in its `//! outcomes:` header ({})",
        declared.join(", ")
    )]
    UndeclaredOutcome {
        path: String,
        outcome: String,
        declared: Vec<String>,
    },
    #[error(
        "missing input `{0}`: the rule declares it in `//! inputs:` but the caller did not provide it"
    )]
    MissingInput(String),
    #[error("input `{input}` cannot be given to the rule: {message}")]
    BadInput { input: String, message: String },
}

thread_local! {
    /// Deadline of the evaluation running on this thread (the progress callback is per Engine,
    /// evaluations run concurrently on many threads).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Business time (`now()`) of the evaluation running on this thread.
    static NOW: std::cell::RefCell<Option<ImmutableString>> = const { std::cell::RefCell::new(None) };
}

/// Sets this thread's business time for one evaluation; restores the previous one.
struct NowGuard(Option<ImmutableString>);

impl NowGuard {
    fn set(now: Option<&str>) -> Self {
        NowGuard(NOW.with(|n| n.replace(now.map(ImmutableString::from))))
    }
}

impl Drop for NowGuard {
    fn drop(&mut self) {
        NOW.with(|n| *n.borrow_mut() = self.0.take());
    }
}

/// Built-ins a rule may not call, and why. `sleep` would hold the step's transaction (on SQLite
/// the only writer) past every limit; `timestamp` reads the wall clock, so a decision would
/// depend on when it ran rather than on business time.
const FORBIDDEN: [(&str, &str); 2] = [
    (
        "sleep",
        "rules may not sleep: a rule must decide at once (a step that has to wait for something uses `wait:` or a timer in the workflow)",
    ),
    (
        "timestamp",
        "rules may not read the wall clock: use `now()`, the engine's business time, so results do not depend on when the rule runs",
    ),
];

fn forbidden(name: &str) -> Box<EvalAltResult> {
    let why = FORBIDDEN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, w)| *w)
        // Message text only: every listed name has its reason; the generic one is a fallback.
        .unwrap_or("not allowed in rules");
    Box::new(EvalAltResult::ErrorRuntime(
        format!("`{name}()`: {why}").into(),
        Position::NONE,
    ))
}

/// Registers `now()` and replaces the blocking and wall-clock built-ins with functions that
/// fail with the reason (registered functions are found before the standard packages').
fn register_time(e: &mut Engine) {
    e.register_fn("now", || -> Result<ImmutableString, Box<EvalAltResult>> {
        NOW.with(|n| n.borrow().clone()).ok_or_else(|| {
            Box::new(EvalAltResult::ErrorRuntime(
                "`now()`: no business time was given to this evaluation (in a rule test case, set `now:`)"
                    .into(),
                Position::NONE,
            ))
        })
    });
    e.register_fn("sleep", |_: INT| -> Result<(), Box<EvalAltResult>> {
        Err(forbidden("sleep"))
    });
    e.register_fn("sleep", |_: Decimal| -> Result<(), Box<EvalAltResult>> {
        Err(forbidden("sleep"))
    });
    e.register_fn("sleep", |_: Dynamic| -> Result<(), Box<EvalAltResult>> {
        Err(forbidden("sleep"))
    });
    e.register_fn("timestamp", || -> Result<(), Box<EvalAltResult>> {
        Err(forbidden("timestamp"))
    });
}

/// Finds a call of a forbidden built-in by name in the source (outside comments and strings),
/// so `ordo check` reports it with its place before the rule ever runs.
fn find_forbidden_call(src: &str) -> Option<(usize, usize, &'static str)> {
    for (i, line) in src.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut in_str: Option<char> = None;
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            if let Some(q) = in_str {
                if c == '\\' {
                    k += 1;
                } else if c == q {
                    in_str = None;
                }
                k += 1;
                continue;
            }
            if c == '/' && chars.get(k + 1) == Some(&'/') {
                break;
            }
            if c == '"' || c == '`' || c == '\'' {
                in_str = Some(c);
                k += 1;
                continue;
            }
            let starts_word = k == 0 || !(chars[k - 1].is_alphanumeric() || chars[k - 1] == '_');
            if starts_word {
                for (name, _) in FORBIDDEN {
                    let n: Vec<char> = name.chars().collect();
                    if chars[k..].starts_with(&n) {
                        let rest = &chars[k + n.len()..];
                        let after = rest.iter().find(|c| !c.is_whitespace());
                        let word_ends = rest
                            .first()
                            .is_none_or(|c| !(c.is_alphanumeric() || *c == '_'));
                        if word_ends && after == Some(&'(') {
                            return Some((i + 1, k + 1, name));
                        }
                    }
                }
            }
            k += 1;
        }
    }
    None
}

/// Sets this thread's deadline for the duration of one evaluation; restores the previous one.
struct DeadlineGuard(Option<Instant>);

impl DeadlineGuard {
    fn set(deadline: Instant) -> Self {
        DeadlineGuard(DEADLINE.with(|d| d.replace(Some(deadline))))
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}

const WALL_TIME_TOKEN: &str = "ordo-rules: wall time exceeded";

/// Compiles and evaluates rules with one shared, sandboxed Rhai engine. `Send + Sync`.
pub struct RuleHost {
    engine: Engine,
    limits: Limits,
}

impl fmt::Debug for RuleHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleHost")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RuleHost {
    pub fn new(limits: Limits) -> Self {
        let mut e = Engine::new();
        e.set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.max_call_levels)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_max_variables(256)
            .set_max_functions(64)
            .set_max_modules(0)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true);
        e.disable_symbol("eval");
        e.disable_symbol("import");
        e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
        e.on_print(|_| {});
        e.on_debug(|_, _, _| {});
        e.on_progress(|ops| {
            if ops & 1023 != 0 {
                return None;
            }
            let expired = DEADLINE.with(|d| d.get().is_some_and(|dl| Instant::now() >= dl));
            expired.then(|| Dynamic::from(WALL_TIME_TOKEN))
        });
        // Registered functions must get the first chance at operators, otherwise the built-in
        // "mismatched types compare as false" wins over register_strict_comparisons.
        e.set_fast_operators(false);
        register_strict_comparisons(&mut e);
        register_time(&mut e);
        RuleHost { engine: e, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Parses the header and compiles the rule once (strict variables: only declared inputs and
    /// the rule's own `let`s may be used).
    pub fn compile(&self, name: &str, path: &str, src: &str) -> Result<Rule, Diagnostic> {
        let header = header::parse(path, src)?;
        if let Some((line, col, name)) = find_forbidden_call(src) {
            let (_, why) = FORBIDDEN
                .iter()
                .find(|(n, _)| *n == name)
                .copied()
                // Message text only (as in forbidden()).
                .unwrap_or((name, "not allowed in rules"));
            return Err(Diagnostic {
                path: path.to_string(),
                line,
                col,
                message: format!("`{name}()`: {why}"),
            });
        }
        let mut decl = Scope::new();
        for input in &header.inputs {
            // Plain variables, not constants: constants could be folded into the AST.
            decl.push_dynamic(input.as_str(), Dynamic::UNIT);
        }
        let ast = self.engine.compile_with_scope(&decl, src).map_err(|err| {
            let (line, col) = line_col(err.position());
            Diagnostic {
                path: path.to_string(),
                line,
                col,
                message: parse_error_message(&err.0),
            }
        })?;
        let hash = Sha256::digest(src.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Rule {
            name: name.to_string(),
            path: path.to_string(),
            hash,
            inputs: header.inputs,
            outcomes: header.outcomes,
            ast: Arc::new(ast),
        })
    }

    /// Evaluates a compiled rule with a fresh scope holding the declared inputs as constants.
    /// Extra keys in `inputs` are ignored. `now()` is not available (see [`Self::evaluate_at`]).
    pub fn evaluate(
        &self,
        rule: &Rule,
        inputs: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Decision, RuleError> {
        self.evaluate_at(rule, inputs, None)
    }

    /// [`Self::evaluate`] with the business time `now()` returns (ISO 8601 UTC).
    pub fn evaluate_at(
        &self,
        rule: &Rule,
        inputs: &serde_json::Map<String, serde_json::Value>,
        now: Option<&str>,
    ) -> Result<Decision, RuleError> {
        let mut scope = Scope::with_capacity(rule.inputs.len());
        for name in &rule.inputs {
            let value = inputs
                .get(name)
                .ok_or_else(|| RuleError::MissingInput(name.clone()))?;
            let value =
                convert::try_json_to_dynamic(value).map_err(|message| RuleError::BadInput {
                    input: name.clone(),
                    message,
                })?;
            scope.push_constant_dynamic(name.as_str(), value);
        }
        let result = {
            let _guard = DeadlineGuard::set(Instant::now() + self.limits.wall_time);
            let _now = NowGuard::set(now);
            self.engine
                .eval_ast_with_scope::<Dynamic>(&mut scope, &rule.ast)
        };
        match result {
            Ok(value) => self.decision(rule, value),
            Err(err) => Err(self.runtime_error(rule, *err)),
        }
    }

    /// Runs the cases of a `rules/NAME.test.yaml` file against `rule`. A malformed test file is
    /// a [`Diagnostic`]; a case whose rule errors is a failed case with the error as `actual`.
    pub fn run_tests(
        &self,
        rule: &Rule,
        test_path: &str,
        test_src: &str,
    ) -> Result<Vec<CaseResult>, Diagnostic> {
        let cases = testfile::parse(rule, test_path, test_src)?;
        Ok(cases
            .into_iter()
            .map(|case| {
                let result = self.evaluate_at(rule, &case.input, case.now.as_deref());
                testfile::check(case, result)
            })
            .collect())
    }

    fn decision(&self, rule: &Rule, value: Dynamic) -> Result<Decision, RuleError> {
        let bad = |what: String| {
            RuleError::BadReturn(format!(
                "{}: the rule returned {what}; it must return an outcome string (e.g. \"approved\") or a map with an `outcome` key (e.g. #{{ outcome: \"review\", reason: \"...\" }})",
                rule.path
            ))
        };
        let (outcome, values) = if value.is_string() {
            (
                // is_string() was checked just above.
                value.into_string().unwrap_or_default(),
                serde_json::Map::new(),
            )
        } else if value.is_map() {
            let map = value.cast::<rhai::Map>();
            let mut outcome = None;
            let mut values = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                if k == "outcome" {
                    if !v.is_string() {
                        return Err(bad(format!("a map whose `outcome` is {}", describe(&v))));
                    }
                    outcome = v.into_string().ok();
                } else {
                    let json = dynamic_to_json(&v).map_err(|e| {
                        bad(format!("a map whose value `{k}` is not plain data ({e})"))
                    })?;
                    values.insert(k.to_string(), json);
                }
            }
            match outcome {
                Some(o) => (o, values),
                None => return Err(bad("a map without an `outcome` key".into())),
            }
        } else {
            return Err(bad(describe(&value)));
        };
        if outcome.is_empty() {
            return Err(bad("an empty outcome string".into()));
        }
        if let Some(declared) = &rule.outcomes
            && !declared.contains(&outcome)
        {
            return Err(RuleError::UndeclaredOutcome {
                path: rule.path.clone(),
                outcome,
                declared: declared.clone(),
            });
        }
        Ok(Decision { outcome, values })
    }

    fn runtime_error(&self, rule: &Rule, err: EvalAltResult) -> RuleError {
        // Function-call wrappers: name the functions, report the innermost error and position.
        let mut functions = Vec::new();
        let mut outer_pos = err.position();
        let mut inner = err;
        loop {
            match inner {
                EvalAltResult::ErrorInFunctionCall(name, _, e, pos) => {
                    functions.push(name);
                    if !pos.is_none() {
                        outer_pos = pos;
                    }
                    inner = *e;
                }
                EvalAltResult::ErrorInModule(_, e, pos) => {
                    if !pos.is_none() {
                        outer_pos = pos;
                    }
                    inner = *e;
                }
                other => {
                    inner = other;
                    break;
                }
            }
        }
        let pos = if inner.position().is_none() {
            outer_pos
        } else {
            inner.position()
        };
        let mut message = match inner {
            EvalAltResult::ErrorTooManyOperations(_) => return RuleError::TooManyOperations,
            EvalAltResult::ErrorTerminated(ref token, _)
                if token.clone().into_string().ok().as_deref() == Some(WALL_TIME_TOKEN) =>
            {
                return RuleError::WallTimeExceeded {
                    // Message only: a limit beyond u64 milliseconds saturates.
                    ms: u64::try_from(self.limits.wall_time.as_millis()).unwrap_or(u64::MAX),
                };
            }
            EvalAltResult::ErrorStackOverflow(_) => format!(
                "function calls nested deeper than {} levels (stack overflow); does a function call itself without end?",
                self.limits.max_call_levels
            ),
            EvalAltResult::ErrorDataTooLarge(what, _) => format!(
                "{what} grew beyond the rule limits (strings {} bytes, arrays {} items, maps {} entries)",
                self.limits.max_string_size, self.limits.max_array_size, self.limits.max_map_size
            ),
            EvalAltResult::ErrorRuntime(value, _) => {
                format!("the rule threw an error: {value}")
            }
            mut other => {
                other.clear_position();
                other.to_string()
            }
        };
        for f in functions.iter().rev() {
            message.push_str(&format!(" (in function `{f}`)"));
        }
        let (line, col) = line_col(pos);
        RuleError::Runtime {
            path: rule.path.clone(),
            line,
            col,
            message,
        }
    }
}

impl Default for RuleHost {
    fn default() -> Self {
        RuleHost::new(Limits::default())
    }
}

fn line_col(pos: Position) -> (usize, usize) {
    // Error position only: an error without a position is reported at 1:1.
    (pos.line().unwrap_or(1), pos.position().unwrap_or(1))
}

fn parse_error_message(err: &rhai::ParseErrorType) -> String {
    match err {
        rhai::ParseErrorType::VariableUndefined(name) => format!(
            "unknown variable `{name}`: declare it with `let`, or add it to the `//! inputs:` header if the caller provides it"
        ),
        other => other.to_string(),
    }
}

fn describe(v: &Dynamic) -> String {
    if v.is_unit() {
        "nothing (`()`)".to_string()
    } else {
        format!("a value of type `{}` ({v})", v.type_name())
    }
}

/// Rhai answers `false`, without an error, to an ordering comparison between mismatched types
/// (`"1200.00" > 1000`, `() > 0`). For money rules that is a silent wrong decision, so ordering
/// comparisons between a number and a string, `()` or a bool raise an error instead.
fn register_strict_comparisons(e: &mut Engine) {
    fn fail(op: &str, a: &str, b: &str) -> Result<bool, Box<EvalAltResult>> {
        // ErrorArithmetic displays as just its message; the caller fills in the position.
        Err(Box::new(EvalAltResult::ErrorArithmetic(
            format!(
                "cannot compare {a} {op} {b}: the values have different types (is a number missing or written as text?)"
            ),
            Position::NONE,
        )))
    }
    macro_rules! strict {
        ($num:ty, $num_name:literal, $other:ty, $other_name:literal) => {
            for op in ["<", ">", "<=", ">="] {
                e.register_fn(op, move |_: $num, _: $other| {
                    fail(op, $num_name, $other_name)
                });
                e.register_fn(op, move |_: $other, _: $num| {
                    fail(op, $other_name, $num_name)
                });
            }
        };
    }
    strict!(INT, "a number", ImmutableString, "a string");
    strict!(INT, "a number", (), "nothing (`()`)");
    strict!(INT, "a number", bool, "a boolean");
    strict!(Decimal, "a number", ImmutableString, "a string");
    strict!(Decimal, "a number", (), "nothing (`()`)");
    strict!(Decimal, "a number", bool, "a boolean");
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn rule(host: &RuleHost, src: &str) -> Result<Rule, Diagnostic> {
        host.compile("r", "rules/r.rhai", &format!("//! inputs: x\n{src}"))
    }

    fn x() -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("x".into(), serde_json::json!(1));
        m
    }

    #[test]
    fn sleep_and_timestamp_are_refused_at_compile_time_with_their_place() {
        let host = RuleHost::default();
        let d = rule(
            &host,
            "//! outcomes: ok\nlet x = 1;\n  sleep(100000);\n\"ok\"",
        )
        .unwrap_err();
        assert_eq!((d.line, d.col), (4, 3), "{d}");
        assert!(d.message.contains("rules may not sleep"), "{d}");
        let d = rule(&host, "//! outcomes: ok\nlet t = timestamp();\n\"ok\"").unwrap_err();
        assert_eq!((d.line, d.col), (3, 9), "{d}");
        assert!(d.message.contains("use `now()`"), "{d}");
        // Names in comments and strings, or as part of other names, are fine.
        assert!(
            rule(
                &host,
                "//! outcomes: ok\n// sleep(1)\nlet s = \"sleep(1)\";\nlet no_sleep = 1;\n\"ok\""
            )
            .is_ok()
        );
    }

    #[test]
    fn sleep_called_indirectly_fails_at_once_instead_of_blocking() {
        let host = RuleHost::default();
        // Through a function pointer the name is not visible to the compile-time check.
        let r = rule(
            &host,
            "//! outcomes: ok\nlet f = Fn(\"sl\" + \"eep\");\nf.call(100000);\n\"ok\"",
        )
        .expect("compiles");
        let t0 = Instant::now();
        let e = host.evaluate(&r, &x()).unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(5), "it did not sleep");
        assert!(e.to_string().contains("rules may not sleep"), "{e}");
    }

    #[test]
    fn now_is_the_business_time_given() {
        let host = RuleHost::default();
        let r = rule(
            &host,
            "//! outcomes: early, late\nif now() < \"2026-06-01\" { \"early\" } else { \"late\" }",
        )
        .expect("compiles");
        let at = |t| host.evaluate_at(&r, &x(), Some(t)).map(|d| d.outcome);
        assert_eq!(at("2026-03-01T09:00:00Z").ok().as_deref(), Some("early"));
        assert_eq!(at("2026-07-01T09:00:00Z").ok().as_deref(), Some("late"));
        let e = host.evaluate(&r, &x()).unwrap_err();
        assert!(e.to_string().contains("no business time"), "{e}");
    }

    #[test]
    fn host_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RuleHost>();
        assert_send_sync::<Rule>();
    }
}
