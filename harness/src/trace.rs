//! Rendering a failing execution as a table with one column per thread.
//!
//! ```text
//!  step  main                     t1                       t2
//!     1  a.acquire() → True
//!     2                                                    b.acquire() → True      ⟵ preempted main
//!     3  b.acquire() … blocked
//!     4                                                    a.acquire() … blocked
//!  deadlock: main waits in b.acquire() (held by t2) · t2 waits in a.acquire() (held by main)
//! ```
//!
//! Each row is one step: the operation, its arguments and what it returned (`… blocked`
//! when the thread had to wait, `… woken (timeout)` when the checker ended a wait), the
//! virtual time when it is not zero, and why the scheduler switched threads.

use crate::engine::execution::failure_message;
use lockproof::backend::checked::{
    fmt_time, ExecutionReport, Failure, Lasso, StepKind, Switch, ThreadId, TraceEvent,
};
use std::fmt::Write;

/// The widest a column gets; longer cells are cut with `…`.
const MAX_CELL: usize = 46;

/// Render `report` as the trace table, ending with the verdict line.
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::{check, trace, Check, Family};
///
/// let out = check::run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// let report = out.found.unwrap().report.unwrap();
/// let table = trace::render(&report);
/// assert!(table.lines().next().unwrap().starts_with(" step  main"));
/// assert!(table.contains("deadlock (lock cycle)"));
/// ```
pub fn render(report: &ExecutionReport) -> String {
    let threads = report.threads.len().max(1);
    // Columns for main and for every thread with a step (not the checker's own thread).
    let shown: Vec<bool> = (0..threads)
        .map(|t| t == 0 || report.trace.iter().any(|e| e.thread.index() == t))
        .collect();
    let lasso = match &report.failure {
        Some(Failure::Livelock(l)) | Some(Failure::Starvation { lasso: l, .. }) => Some(*l),
        _ => None,
    };
    let rows: Vec<(usize, String, String)> = report
        .trace
        .iter()
        .enumerate()
        .filter(|(_, e)| !matches!(e.kind, StepKind::Thread("start")))
        .map(|(i, e)| {
            let mut n = note(e, report);
            if let Some(mark) = lasso.and_then(|l| cycle_mark(&l, i)) {
                n = if n.is_empty() {
                    mark
                } else {
                    format!("{n}; {mark}")
                };
            }
            (e.thread.index(), cell(e, report), n)
        })
        .collect();
    let mut widths = vec![0usize; threads];
    for (i, name) in report.threads.iter().enumerate() {
        widths[i] = name.chars().count();
    }
    for (t, c, _) in &rows {
        widths[*t] = widths[*t].max(c.chars().count());
    }
    let mut out = String::new();
    let _ = write!(out, " step");
    let timed = report.trace.iter().any(|e| e.time > 0);
    if timed {
        let _ = write!(out, "  {:>8}", "time");
    }
    for (i, name) in report.threads.iter().enumerate() {
        if shown[i] {
            let _ = write!(out, "  {:<w$}", name, w = widths[i]);
        }
    }
    out = out.trim_end().to_owned();
    out.push('\n');
    for (step, (t, c, n)) in rows.iter().enumerate() {
        let mut line = format!("{:>5}", step + 1);
        if timed {
            let time = report
                .trace
                .iter()
                .filter(|e| !matches!(e.kind, StepKind::Thread("start")))
                .nth(step)
                .map(|e| fmt_time(e.time))
                .unwrap_or_default();
            let _ = write!(line, "  {time:>8}");
        }
        for (i, w) in widths.iter().enumerate().filter(|(i, _)| shown[*i]) {
            let text = if i == *t { c.as_str() } else { "" };
            let _ = write!(line, "  {:<w$}", text, w = *w);
        }
        let mut line = line.trim_end().to_owned();
        if !n.is_empty() {
            let _ = write!(line, "   ⟵ {n}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(f) = &report.failure {
        out.push_str(&format!(" {}\n", failure_message(f, Some(report))));
    }
    if report.preemptions > 0 {
        // Counted at the engine's scheduling points (a mark above sits on the first traced
        // step after each); the count is what loom's and dfs's bounds limit.
        out.push_str(&format!(" preemptions: {}\n", report.preemptions));
    }
    for l in &report.limitations {
        out.push_str(&format!(" note: {l}\n"));
    }
    out
}

fn object_name(e: &TraceEvent, report: &ExecutionReport) -> String {
    e.object
        .and_then(|o| report.object(o))
        .map(|o| o.name.clone())
        .unwrap_or_default()
}

fn cell(e: &TraceEvent, report: &ExecutionReport) -> String {
    let obj = object_name(e, report);
    let call = if obj.is_empty() {
        format!("{}({})", e.op, e.args)
    } else {
        format!("{obj}.{}({})", e.op, e.args)
    };
    let text = match &e.kind {
        StepKind::Returned(o) => format!("{call} → {o}"),
        StepKind::Blocked => format!("{call} … blocked"),
        StepKind::Woken(why) => format!("{obj}.{} … woken ({why})", e.op),
        StepKind::Thread(what) => format!("({what})"),
    };
    cut(&text)
}

/// `s` on one line: a reply of several lines (a SQL result and its command tag, etcd's
/// key and value) keeps its breaks as marks, so a trace row or a page label is one step.
pub(crate) fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\n') {
        std::borrow::Cow::Owned(s.replace('\n', " ⏎ "))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn cut(s: &str) -> String {
    cut_to(s, MAX_CELL)
}

/// `s` on one line, cut to `max` characters and ending in `…` when cut.
pub(crate) fn cut_to(s: &str, max: usize) -> String {
    let s = one_line(s);
    if s.chars().count() <= max {
        s.into_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The note on the first step of each copy of a lasso's cycle (event index `i`).
fn cycle_mark(lasso: &Lasso, i: usize) -> Option<String> {
    lasso
        .copies()
        .position(|r| r.start == i)
        .map(|k| format!("cycle, copy {} of {}", k + 1, lasso.repeats))
}

fn note(e: &TraceEvent, report: &ExecutionReport) -> String {
    let name = |t: ThreadId| {
        report
            .thread_name(t)
            .map_or_else(|| t.to_string(), str::to_owned)
    };
    match e.switch {
        Some(Switch::Preempted(t)) => format!("preempted {}", name(t)),
        _ => String::new(),
    }
}

/// A stable 64-bit digest (FNV-1a) of a rendered trace, for schedule files.
///
/// # Examples
///
/// ```
/// use lockproof_harness::trace::digest;
///
/// assert_eq!(digest(""), "cbf29ce484222325");
/// assert_ne!(digest("a"), digest("b"));
/// ```
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// How many times the engine preempted a thread that could have gone on, counted at the
/// engine's own scheduling points (see `ExecutionReport::preemptions`).
///
/// # Examples
///
/// ```
/// # use lockproof::backend::{Backend, JoinHandle};
/// # use std::sync::Arc;
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba {
/// #     fn run<B: Backend>(&self) {
/// #         let (a, b) = (Arc::new(lockproof::Lock::<B>::new()), Arc::new(lockproof::Lock::<B>::new()));
/// #         let (a2, b2) = (a.clone(), b.clone());
/// #         let t = B::spawn("t", move || { let _b = b2.lock(); let _a = a2.lock(); });
/// #         { let _a = a.lock(); let _b = b.lock(); }
/// #         t.join();
/// #     }
/// # }
/// # fn request() -> lockproof_harness::check::Request {
/// #     lockproof_harness::check::Request {
/// #         families: vec![lockproof_harness::Family::Dfs],
/// #         budget: lockproof_harness::Budget::ci(),
/// #         save_root: None,
/// #         runner: lockproof_harness::child::Runner::InProcess,
/// #     }
/// # }
/// use lockproof_harness::{check, trace, Check, Family};
///
/// let out = check::run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// let found = out.found.unwrap();
/// // ABBA needs one preemption: the other thread must run between main's two acquires.
/// assert_eq!(trace::preemptions(found.report.as_ref().unwrap()), 1);
/// assert_eq!(found.preemptions, 1);
/// ```
pub fn preemptions(report: &ExecutionReport) -> usize {
    report.preemptions as usize
}
