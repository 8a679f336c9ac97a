//! The arguments of a traced call, typed: monitors read their fields, and the text Python
//! would show (`blocking=False, timeout=0.5`) is rendered only when a trace is shown.

use std::fmt;

/// A number of seconds as a call received it, shown as Python shows a float (`0.5`,
/// `1.0`). Compared by its bits, so that a trace record can be `Eq`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::Secs;
///
/// assert_eq!(Secs(0.5).to_string(), "0.5");
/// assert_eq!(Secs(1.0).to_string(), "1.0"); // a whole number keeps its `.0`, as Python shows it
/// assert_eq!(Secs(f64::NAN), Secs(f64::NAN)); // compared by bits
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Secs(pub f64);

impl PartialEq for Secs {
    fn eq(&self, other: &Secs) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Secs {}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        if t == t.trunc() && t.abs() < 1e15 {
            write!(f, "{t:.1}")
        } else {
            write!(f, "{t}")
        }
    }
}

/// One argument.
///
/// # Examples
///
/// ```
/// use lockproof::backend::{Arg, Secs};
///
/// assert_eq!(Arg::Bool("blocking", false).to_string(), "blocking=False");
/// assert_eq!(Arg::Secs("", Secs(0.5)).to_string(), "0.5");
/// assert_eq!(Arg::State { count: 2, owner: 7 }.to_string(), "(2, 7)");
/// assert_eq!(Arg::Until(1_500_000_000).to_string(), "until t=1.5s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `name=True` / `name=False`.
    Bool(&'static str, bool),
    /// `name=7` (`n`, `capacity`, `parties`, `round`; `action` is 0 or 1); with an empty
    /// name, the bare value (an integer a `Shared` write stored).
    Int(&'static str, i64),
    /// `name=0.5`; with an empty name, the bare value (`Event.wait(0.5)`).
    Secs(&'static str, Secs),
    /// An RLock's saved state, `(count, owner)`.
    State {
        /// Recursion level.
        count: u64,
        /// Owner thread id.
        owner: u64,
    },
    /// A model's value as its `Debug` shows it (`Shared.set`).
    Value(String),
    /// A wait's deadline on the virtual clock, in nanoseconds: `until t=1.5s`.
    Until(u64),
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Bool(k, b) => write!(f, "{k}={}", if *b { "True" } else { "False" }),
            Arg::Int("", v) => write!(f, "{v}"),
            Arg::Int(k, v) => write!(f, "{k}={v}"),
            Arg::Secs("", s) => write!(f, "{s}"),
            Arg::Secs(k, s) => write!(f, "{k}={s}"),
            Arg::State { count, owner } => write!(f, "({count}, {owner})"),
            Arg::Value(v) => f.write_str(v),
            Arg::Until(t) => write!(f, "until t={}", fmt_time(*t)),
        }
    }
}

/// The arguments of one call, in order (empty: no allocation).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Args;
///
/// let a = Args::new().bool("blocking", false).secs("timeout", 0.5);
/// assert_eq!(a.to_string(), "blocking=False, timeout=0.5");
/// assert_eq!(Args::new().int("capacity", 2).get_int("capacity"), Some(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(pub Vec<Arg>);

impl Args {
    /// No arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// let a = Args::new();
    /// assert!(a.is_empty());
    /// assert_eq!(a.to_string(), "");
    /// ```
    pub const fn new() -> Args {
        Args(Vec::new())
    }

    /// Add `name=True/False`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().bool("blocking", true).to_string(), "blocking=True");
    /// ```
    pub fn bool(mut self, name: &'static str, v: bool) -> Args {
        self.0.push(Arg::Bool(name, v));
        self
    }

    /// Add `name=v`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().int("n", 3).to_string(), "n=3");
    /// ```
    pub fn int(mut self, name: &'static str, v: i64) -> Args {
        self.0.push(Arg::Int(name, v));
        self
    }

    /// Add `name=seconds` (an empty name: the bare value).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().secs("timeout", 2.0).to_string(), "timeout=2.0");
    /// assert_eq!(Args::new().secs("", 0.25).to_string(), "0.25"); // `Event.wait(0.25)`
    /// ```
    pub fn secs(mut self, name: &'static str, t: f64) -> Args {
        self.0.push(Arg::Secs(name, Secs(t)));
        self
    }

    /// Add an RLock state `(count, owner)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// let a = Args::new().state(1, 42);
    /// assert_eq!(a.to_string(), "(1, 42)");
    /// assert_eq!(a.get_state(), Some((1, 42)));
    /// ```
    pub fn state(mut self, count: u64, owner: u64) -> Args {
        self.0.push(Arg::State { count, owner });
        self
    }

    /// Add a value shown as text.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().value(format!("{:?}", [1, 2])).to_string(), "[1, 2]");
    /// ```
    pub fn value(mut self, text: String) -> Args {
        self.0.push(Arg::Value(text));
        self
    }

    /// Add a deadline `until t=…`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().until(2_000_000_000).to_string(), "until t=2s");
    /// ```
    pub fn until(mut self, nanos: u64) -> Args {
        self.0.push(Arg::Until(nanos));
        self
    }

    /// The integer argument `name`, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// let a = Args::new().int("parties", 3).int("round", 1);
    /// assert_eq!(a.get_int("round"), Some(1));
    /// assert_eq!(a.get_int("n"), None);
    /// ```
    pub fn get_int(&self, name: &str) -> Option<i64> {
        self.0.iter().find_map(|a| match a {
            Arg::Int(k, v) if *k == name => Some(*v),
            _ => None,
        })
    }

    /// The RLock state argument, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert_eq!(Args::new().state(3, 9).get_state(), Some((3, 9)));
    /// assert_eq!(Args::new().int("n", 1).get_state(), None);
    /// ```
    pub fn get_state(&self) -> Option<(u64, u64)> {
        self.0.iter().find_map(|a| match a {
            Arg::State { count, owner } => Some((*count, *owner)),
            _ => None,
        })
    }

    /// True when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof::backend::Args;
    ///
    /// assert!(Args::new().is_empty());
    /// assert!(!Args::new().int("n", 1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// Virtual time as the trace shows it: seconds with up to 9 decimals, trailing zeros cut.
///
/// # Examples
///
/// ```
/// use lockproof::backend::checked::fmt_time; // re-exported where the checker's traces use it
///
/// assert_eq!(fmt_time(0), "0s");
/// assert_eq!(fmt_time(1_500_000_000), "1.5s");
/// assert_eq!(fmt_time(2_000_000_001), "2.000000001s");
/// ```
pub fn fmt_time(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        format!("{secs}s")
    } else {
        let f = format!("{frac:09}");
        format!("{secs}.{}s", f.trim_end_matches('0'))
    }
}
