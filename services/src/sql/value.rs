//! Values, rows, expressions and predicates of the SQL twin: typed, never parsed.

use std::cmp::Ordering;
use std::fmt;

use super::reply::SqlError;

/// One column value. Timestamps are `timestamptz` in nanoseconds since the Unix epoch (UTC,
/// microsecond precision as PostgreSQL keeps them); intervals are nanoseconds.
///
/// `Display` is how `psql` prints a value in a result (`t`/`f` for booleans, an empty string
/// for NULL, `2026-12-05 23:13:34.5+00` for a timestamp); [`Value::literal`] is how it is
/// written inside a statement.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::Value;
///
/// assert_eq!(Value::Bool(true).to_string(), "t");
/// assert_eq!(Value::Timestamp(1_500_000_000).to_string(), "1970-01-01 00:00:01.5+00");
/// assert_eq!(Value::from("job").literal(), "'job'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `boolean`.
    Bool(bool),
    /// `bigint` (also used for `int`).
    Int(i64),
    /// `text`.
    Text(String),
    /// `timestamptz`, nanoseconds since the epoch.
    Timestamp(i64),
    /// `interval`, nanoseconds.
    Interval(i64),
}

impl Value {
    /// The value written as a SQL literal (`'job'`, `42`, `true`, `NULL`,
    /// `'1970-01-01 00:00:01+00'::timestamptz`, `interval '30 s'`).
    pub fn literal(&self) -> String {
        match self {
            Value::Null => "NULL".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Timestamp(_) => format!("'{self}'::timestamptz"),
            Value::Interval(ns) => {
                if ns % 1_000_000_000 == 0 {
                    format!("interval '{} s'", ns / 1_000_000_000)
                } else {
                    format!("interval '{} ms'", ns / 1_000_000)
                }
            }
        }
    }

    /// The SQL type name PostgreSQL uses in operator errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "unknown",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "bigint",
            Value::Text(_) => "text",
            Value::Timestamp(_) => "timestamp with time zone",
            Value::Interval(_) => "interval",
        }
    }

    /// The boolean inside, if this is a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer inside, if this is an `Int`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text inside, if this is a `Text`.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The timestamp inside (ns since the epoch), if this is a `Timestamp`.
    pub fn as_timestamp(&self) -> Option<i64> {
        match self {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        }
    }

    /// SQL comparison: `None` when either side is NULL (the result is NULL), an error when
    /// the types have no comparison operator.
    pub fn compare(&self, other: &Value, op: &str) -> Result<Option<Ordering>, SqlError> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => Ok(None),
            (Value::Bool(a), Value::Bool(b)) => Ok(Some(a.cmp(b))),
            (Value::Int(a), Value::Int(b)) => Ok(Some(a.cmp(b))),
            (Value::Text(a), Value::Text(b)) => Ok(Some(a.cmp(b))),
            (Value::Timestamp(a), Value::Timestamp(b)) => Ok(Some(a.cmp(b))),
            (Value::Interval(a), Value::Interval(b)) => Ok(Some(a.cmp(b))),
            (a, b) => Err(SqlError::no_operator(a.type_name(), op, b.type_name())),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => f.write_str(if *b { "t" } else { "f" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
            Value::Timestamp(ns) => write_timestamp(f, *ns),
            Value::Interval(ns) => write_interval(f, *ns),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_fraction(f: &mut fmt::Formatter<'_>, micros: i64) -> fmt::Result {
    if micros != 0 {
        let s = format!("{micros:06}");
        write!(f, ".{}", s.trim_end_matches('0'))?;
    }
    Ok(())
}

fn write_timestamp(f: &mut fmt::Formatter<'_>, ns: i64) -> fmt::Result {
    let micros_total = ns.div_euclid(1_000);
    let secs = micros_total.div_euclid(1_000_000);
    let micros = micros_total.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    write!(
        f,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )?;
    write_fraction(f, micros)?;
    f.write_str("+00")
}

fn write_interval(f: &mut fmt::Formatter<'_>, ns: i64) -> fmt::Result {
    let sign = if ns < 0 { "-" } else { "" };
    let micros_total = (ns / 1_000).abs();
    let secs = micros_total / 1_000_000;
    write!(
        f,
        "{sign}{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )?;
    write_fraction(f, micros_total % 1_000_000)
}

/// One row: column names with their values, in the table's column order.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{Row, Value};
///
/// let r = Row::new(vec![("lock_name", Value::from("job")), ("identifier", Value::from("A"))]);
/// assert_eq!(r.get("identifier"), Some(&Value::from("A")));
/// assert_eq!(r.to_string(), "job|A");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Row(pub Vec<(String, Value)>);

impl Row {
    /// A row from (column, value) pairs.
    pub fn new<S: Into<String>>(cols: Vec<(S, Value)>) -> Self {
        Row(cols.into_iter().map(|(c, v)| (c.into(), v)).collect())
    }

    /// The value of `col`, if the row has that column.
    pub fn get(&self, col: &str) -> Option<&Value> {
        self.0.iter().find(|(c, _)| c == col).map(|(_, v)| v)
    }

    /// Sets `col` (adding it if missing).
    pub fn set(&mut self, col: &str, v: Value) {
        match self.0.iter_mut().find(|(c, _)| c == col) {
            Some(slot) => slot.1 = v,
            None => self.0.push((col.to_owned(), v)),
        }
    }

    /// The column names, in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(c, _)| c.as_str())
    }

    /// The row cut down to `cols` (in that order; a missing column gives NULL).
    pub fn project(&self, cols: &[String]) -> Row {
        Row(cols
            .iter()
            .map(|c| (c.clone(), self.get(c).cloned().unwrap_or(Value::Null)))
            .collect())
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (_, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// A scalar expression: a literal, a column of the row, a column of `excluded` (the row an
/// `INSERT … ON CONFLICT DO UPDATE` proposed), `now()`, or a sum/difference.
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, now, secs};
///
/// assert_eq!(now().plus(secs(30)).to_string(), "now() + interval '30 s'");
/// assert_eq!(col("acquire_count").plus(1).to_string(), "acquire_count + 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A constant.
    Lit(Value),
    /// A column of the row being read or written.
    Col(String),
    /// `excluded.<col>`: the proposed row in `ON CONFLICT DO UPDATE`.
    Excluded(String),
    /// `now()`: the transaction's start time in the server's wall clock.
    Now,
    /// `a + b` (integers, or timestamp + interval).
    Add(Box<Expr>, Box<Expr>),
    /// `a - b` (integers, timestamp − interval, or timestamp − timestamp = interval).
    Sub(Box<Expr>, Box<Expr>),
}

/// A column reference.
pub fn col(name: &str) -> Expr {
    Expr::Col(name.to_owned())
}

/// `excluded.<name>` in `ON CONFLICT DO UPDATE`.
pub fn excluded(name: &str) -> Expr {
    Expr::Excluded(name.to_owned())
}

/// `now()`.
pub fn now() -> Expr {
    Expr::Now
}

/// A literal.
pub fn lit(v: impl Into<Value>) -> Expr {
    Expr::Lit(v.into())
}

/// An interval of whole seconds.
pub fn secs(s: i64) -> Value {
    Value::Interval(s * 1_000_000_000)
}

/// An interval of milliseconds.
pub fn millis(ms: i64) -> Value {
    Value::Interval(ms * 1_000_000)
}

impl<T: Into<Value>> From<T> for Expr {
    fn from(v: T) -> Self {
        Expr::Lit(v.into())
    }
}

/// What an expression is evaluated against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EvalCtx<'a> {
    pub row: Option<&'a Row>,
    pub excluded: Option<&'a Row>,
    pub now: i64,
}

impl Expr {
    /// `self + rhs`.
    pub fn plus(self, rhs: impl Into<Expr>) -> Expr {
        Expr::Add(Box::new(self), Box::new(rhs.into()))
    }

    /// `self - rhs`.
    pub fn minus(self, rhs: impl Into<Expr>) -> Expr {
        Expr::Sub(Box::new(self), Box::new(rhs.into()))
    }

    /// `self = rhs`.
    pub fn eq(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Eq, rhs.into())
    }

    /// `self <> rhs`.
    pub fn ne(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Ne, rhs.into())
    }

    /// `self < rhs`.
    pub fn lt(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Lt, rhs.into())
    }

    /// `self <= rhs`.
    pub fn le(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Le, rhs.into())
    }

    /// `self > rhs`.
    pub fn gt(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Gt, rhs.into())
    }

    /// `self >= rhs`.
    pub fn ge(self, rhs: impl Into<Expr>) -> Pred {
        Pred::Cmp(self, CmpOp::Ge, rhs.into())
    }

    /// `self IS NULL`.
    pub fn is_null(self) -> Pred {
        Pred::IsNull(self)
    }

    /// The columns of the row this expression reads.
    pub(crate) fn columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::Col(c) => out.push(c.clone()),
            Expr::Add(a, b) | Expr::Sub(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Lit(_) | Expr::Excluded(_) | Expr::Now => {}
        }
    }

    pub(crate) fn eval(&self, cx: EvalCtx<'_>) -> Result<Value, SqlError> {
        match self {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Col(c) => cx
                .row
                .and_then(|r| r.get(c))
                .cloned()
                .ok_or_else(|| SqlError::undefined_column(c)),
            Expr::Excluded(c) => cx
                .excluded
                .and_then(|r| r.get(c))
                .cloned()
                .ok_or_else(|| SqlError::undefined_column(&format!("excluded.{c}"))),
            Expr::Now => Ok(Value::Timestamp(cx.now)),
            Expr::Add(a, b) => {
                let (a, b) = (a.eval(cx)?, b.eval(cx)?);
                match (&a, &b) {
                    (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                    (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.saturating_add(*y))),
                    (Value::Timestamp(t), Value::Interval(i))
                    | (Value::Interval(i), Value::Timestamp(t)) => {
                        Ok(Value::Timestamp(t.saturating_add(*i)))
                    }
                    (Value::Interval(x), Value::Interval(y)) => {
                        Ok(Value::Interval(x.saturating_add(*y)))
                    }
                    _ => Err(SqlError::no_operator(a.type_name(), "+", b.type_name())),
                }
            }
            Expr::Sub(a, b) => {
                let (a, b) = (a.eval(cx)?, b.eval(cx)?);
                match (&a, &b) {
                    (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                    (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.saturating_sub(*y))),
                    (Value::Timestamp(t), Value::Interval(i)) => {
                        Ok(Value::Timestamp(t.saturating_sub(*i)))
                    }
                    (Value::Timestamp(x), Value::Timestamp(y)) => {
                        Ok(Value::Interval(x.saturating_sub(*y)))
                    }
                    (Value::Interval(x), Value::Interval(y)) => {
                        Ok(Value::Interval(x.saturating_sub(*y)))
                    }
                    _ => Err(SqlError::no_operator(a.type_name(), "-", b.type_name())),
                }
            }
        }
    }
}

impl Expr {
    /// The expression with every plain column written as `table.column`: how
    /// `ON CONFLICT … DO UPDATE` must name the existing row's columns, since PostgreSQL finds an
    /// unqualified one there ambiguous with `excluded` (`42702`).
    pub(crate) fn qualified(&self, table: &str) -> Expr {
        match self {
            Expr::Col(c) if !c.contains('.') => Expr::Col(format!("{table}.{c}")),
            Expr::Add(a, b) => {
                Expr::Add(Box::new(a.qualified(table)), Box::new(b.qualified(table)))
            }
            Expr::Sub(a, b) => {
                Expr::Sub(Box::new(a.qualified(table)), Box::new(b.qualified(table)))
            }
            other => other.clone(),
        }
    }
}

impl Pred {
    /// The predicate with every plain column written as `table.column` (see
    /// [`Expr::qualified`]).
    pub(crate) fn qualified(&self, table: &str) -> Pred {
        match self {
            Pred::True => Pred::True,
            Pred::Cmp(a, op, b) => Pred::Cmp(a.qualified(table), *op, b.qualified(table)),
            Pred::IsNull(e) => Pred::IsNull(e.qualified(table)),
            Pred::Not(p) => Pred::Not(Box::new(p.qualified(table))),
            Pred::And(v) => Pred::And(v.iter().map(|p| p.qualified(table)).collect()),
            Pred::Or(v) => Pred::Or(v.iter().map(|p| p.qualified(table)).collect()),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(v) => f.write_str(&v.literal()),
            Expr::Col(c) => f.write_str(c),
            Expr::Excluded(c) => write!(f, "excluded.{c}"),
            Expr::Now => f.write_str("now()"),
            Expr::Add(a, b) => write!(f, "{a} + {b}"),
            Expr::Sub(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// A `WHERE` predicate with SQL's three-valued logic (a comparison with NULL is unknown, and
/// a row passes only when the predicate is true).
///
/// # Examples
///
/// ```
/// use lockproof_services::sql::{col, now};
///
/// let p = col("lock_name").eq("job").and(col("expires_at").lt(now()));
/// assert_eq!(p.to_string(), "lock_name = 'job' AND expires_at < now()");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pred {
    /// Always true (no `WHERE`).
    True,
    /// `a op b`.
    Cmp(Expr, CmpOp, Expr),
    /// `a IS NULL`.
    IsNull(Expr),
    /// `NOT p`.
    Not(Box<Pred>),
    /// `p AND q AND …`.
    And(Vec<Pred>),
    /// `p OR q OR …`.
    Or(Vec<Pred>),
}

impl Pred {
    /// `self AND other`.
    pub fn and(self, other: Pred) -> Pred {
        match self {
            Pred::True => other,
            Pred::And(mut v) => {
                v.push(other);
                Pred::And(v)
            }
            p => Pred::And(vec![p, other]),
        }
    }

    /// `self OR other`.
    pub fn or(self, other: Pred) -> Pred {
        match self {
            Pred::Or(mut v) => {
                v.push(other);
                Pred::Or(v)
            }
            p => Pred::Or(vec![p, other]),
        }
    }

    /// `NOT self`.
    pub fn negate(self) -> Pred {
        Pred::Not(Box::new(self))
    }

    /// The columns of the row this predicate reads.
    pub(crate) fn columns(&self, out: &mut Vec<String>) {
        match self {
            Pred::True => {}
            Pred::Cmp(a, _, b) => {
                a.columns(out);
                b.columns(out);
            }
            Pred::IsNull(e) => e.columns(out),
            Pred::Not(p) => p.columns(out),
            Pred::And(v) | Pred::Or(v) => v.iter().for_each(|p| p.columns(out)),
        }
    }

    /// Three-valued evaluation: `Some(true)`, `Some(false)` or `None` (unknown).
    pub(crate) fn eval(&self, cx: EvalCtx<'_>) -> Result<Option<bool>, SqlError> {
        Ok(match self {
            Pred::True => Some(true),
            Pred::Cmp(a, op, b) => {
                let (a, b) = (a.eval(cx)?, b.eval(cx)?);
                a.compare(&b, op.symbol())?.map(|o| op.holds(o))
            }
            Pred::IsNull(e) => Some(e.eval(cx)? == Value::Null),
            Pred::Not(p) => p.eval(cx)?.map(|b| !b),
            Pred::And(v) => {
                let mut out = Some(true);
                for p in v {
                    match p.eval(cx)? {
                        Some(false) => return Ok(Some(false)),
                        None => out = None,
                        Some(true) => {}
                    }
                }
                out
            }
            Pred::Or(v) => {
                let mut out = Some(false);
                for p in v {
                    match p.eval(cx)? {
                        Some(true) => return Ok(Some(true)),
                        None => out = None,
                        Some(false) => {}
                    }
                }
                out
            }
        })
    }
}

impl fmt::Display for Pred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pred::True => f.write_str("true"),
            Pred::Cmp(a, op, b) => write!(f, "{a} {} {b}", op.symbol()),
            Pred::IsNull(e) => write!(f, "{e} IS NULL"),
            Pred::Not(p) => write!(f, "NOT ({p})"),
            Pred::And(v) => join(f, v, " AND "),
            Pred::Or(v) => {
                f.write_str("(")?;
                join(f, v, " OR ")?;
                f.write_str(")")
            }
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, v: &[Pred], sep: &str) -> fmt::Result {
    for (i, p) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if matches!(p, Pred::And(_)) {
            write!(f, "({p})")?;
        } else {
            write!(f, "{p}")?;
        }
    }
    Ok(())
}
