//! `lockproof check --format junit`: the check's results as JUnit XML, so CI shows them natively.
//!
//! The document follows the usual JUnit schema (Jenkins' junit-4; `tests/junit.rs` checks it
//! with `xmllint --schema`):
//!
//! - `<testsuites>` holds one `<testsuite>` per scenario (`name` = the scenario id), whose
//!   `<properties>` say what the scenario expects and what each engine ran, and whose
//!   `<system-out>` says per engine what was found, where the schedule was saved and how to
//!   replay it (that schema has no per-test-case output);
//! - one `<testcase>` per engine run: `classname` = the scenario id, `name` = the engine and
//!   the bounds or depths it tried (`loom bound 0-2`, `pct depth 1-3`, `random seed 1`,
//!   `dfs bound 0-2`): the same name from one CI run to the next, whatever was found;
//! - a verdict as expected is a passing test case: an expected violation found is a pass;
//! - a verdict not as expected is a `<failure>` (message: what was seen; text: the deciding
//!   run, the failure's message and trace, the saved schedule and its replay command);
//! - an engine declared unable to run the scenario is `<skipped>` with the reason.

use lockproof_harness::check::{Budget, EngineResult, Family, Verdict};
use lockproof_scenario::Scenario;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// One scenario's results and when its check started.
#[derive(Debug)]
pub struct Suite<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// One result per engine family run.
    pub results: &'a [EngineResult],
    /// When its check started.
    pub started: SystemTime,
}

/// The test case name of an engine's run under `budget`: the engine and the bounds or
/// depths it tries, not the one that decided (that is in the output), so that a test case
/// keeps its name from one CI run to the next.
///
/// # Examples
///
/// ```
/// use lockproof_cli::junit::case_name;
/// use lockproof_harness::{Budget, Family};
///
/// assert_eq!(case_name(Family::Loom, &Budget::ci()), "loom bound 0-2");
/// assert_eq!(case_name(Family::Pct, &Budget::ci()), "pct depth 1-3");
/// assert_eq!(case_name(Family::Random, &Budget::ci()), "random seed 1");
/// let one = Budget { max_bound: 0, pct_max_depth: 1, ..Budget::ci() };
/// assert_eq!(case_name(Family::Dfs, &one), "dfs bound 0");
/// assert_eq!(case_name(Family::Pct, &one), "pct depth 1");
/// ```
pub fn case_name(family: Family, budget: &Budget) -> String {
    let range = |lo: usize, hi: usize| {
        if hi <= lo {
            hi.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    };
    match family {
        Family::Loom | Family::Dfs => format!("{family} bound {}", range(0, budget.max_bound)),
        Family::Pct => format!("pct depth {}", range(1, budget.pct_max_depth)),
        Family::Random => format!("random seed {}", budget.seed),
    }
}

/// Escape `s` for XML text (`attr` false) or a double-quoted attribute (`attr` true).
///
/// Characters XML 1.0 cannot hold at all (control characters other than tab, newline and
/// carriage return, U+FFFE, U+FFFF) are written as `\u{…}` so that the text stays readable and
/// the document stays well-formed. In an attribute, tab, newline and carriage return are
/// written as character references so that a parser keeps them.
///
/// # Examples
///
/// ```
/// use lockproof_cli::junit::escape;
///
/// assert_eq!(escape("a<b & \"c\"", true), "a&lt;b &amp; &quot;c&quot;");
/// assert_eq!(escape("x\ny\u{1b}", true), "x&#10;y\\u{1b}");
/// assert_eq!(escape("x\ny", false), "x\ny");
/// ```
pub fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `t` as the schema's timestamp: UTC, `YYYY-MM-DDTHH:MM:SS`, no zone.
///
/// # Examples
///
/// ```
/// use lockproof_cli::junit::timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
/// assert_eq!(timestamp(UNIX_EPOCH + Duration::from_secs(1_772_323_200 + 3_661)), "2026-03-01T01:01:01");
/// ```
pub fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// What the run that decided was, with its execution count (`loom bound 1, 4 executions`).
fn deciding_run(r: &EngineResult) -> String {
    let o = &r.outcome;
    let run = match r.family {
        Family::Random => format!("random seed {}", o.settings.seed),
        _ => o.settings.engine.describe(),
    };
    format!(
        "{run}, {} execution{}{}",
        o.executions,
        if o.executions == 1 { "" } else { "s" },
        if o.exhausted { ", space exhausted" } else { "" }
    )
}

/// The lines saying where the counterexample is and how to replay it.
fn schedule_lines(r: &EngineResult, out: &mut String) {
    if let Some(p) = &r.saved {
        let _ = writeln!(out, "  saved:  {}", p.display());
        let _ = writeln!(out, "  replay: lockproof replay {}", p.display());
    }
    if let Some(p) = &r.already_saved {
        let _ = writeln!(out, "  same as the saved {}", p.display());
        let _ = writeln!(out, "  replay: lockproof replay {}", p.display());
    }
}

/// One engine's paragraph of the suite's `<system-out>`.
fn engine_note(r: &EngineResult) -> String {
    let o = &r.outcome;
    let mut s = String::new();
    let _ = match (&r.verdict, &o.found) {
        (Verdict::Unsupported(why), _) => writeln!(s, "{}: not run: {why}", r.family),
        (Verdict::Met, Some(f)) => writeln!(
            s,
            "{}: PASS, {} found as expected ({}; execution {}, {} preemption{}): {}",
            r.family,
            f.property,
            deciding_run(r),
            f.execution,
            f.preemptions,
            if f.preemptions == 1 { "" } else { "s" },
            f.message
        ),
        (Verdict::Met, None) => writeln!(s, "{}: PASS, holds ({})", r.family, deciding_run(r)),
        (Verdict::Unmet(why), _) => {
            writeln!(s, "{}: FAIL, {why} ({})", r.family, deciding_run(r))
        }
    };
    schedule_lines(r, &mut s);
    for l in &o.limitations {
        let _ = writeln!(s, "  note: {l}");
    }
    s
}

/// The text of a `<failure>`: the deciding run, the failure found (with its trace), the
/// saved schedule and its replay command.
fn failure_text(r: &EngineResult) -> String {
    let o = &r.outcome;
    let mut s = format!("run: {}\n", deciding_run(r));
    if let Some(f) = &o.found {
        let _ = writeln!(
            s,
            "found: {} ({}) at execution {}, {} preemptions: {}",
            f.property, f.kind, f.execution, f.preemptions, f.message
        );
    } else {
        let _ = writeln!(s, "found: nothing");
    }
    schedule_lines(r, &mut s);
    for l in &o.limitations {
        let _ = writeln!(s, "note: {l}");
    }
    if let Some(t) = o.found.as_ref().and_then(|f| f.trace.as_deref()) {
        let _ = write!(s, "\n{t}");
    }
    s
}

fn property(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "      <property name=\"{}\" value=\"{}\"/>",
        escape(name, true),
        escape(value, true)
    );
}

/// The JUnit document of a check run.
///
/// # Examples
///
/// ```
/// use lockproof_cli::junit::render;
/// use lockproof_harness::Budget;
///
/// let xml = render(&[], &Budget::ci());
/// assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"));
/// ```
pub fn render(suites: &[Suite<'_>], budget: &Budget) -> String {
    let host = escape(&hostname(), true);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (i, suite) in suites.iter().enumerate() {
        let s = suite.scenario;
        let rs = suite.results;
        let failures = rs
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Unmet(_)))
            .count();
        let time: f64 = rs.iter().map(|r| r.outcome.elapsed.as_secs_f64()).sum();
        let id = escape(s.id, true);
        let _ = writeln!(
            x,
            "  <testsuite name=\"{id}\" package=\"lockproof\" id=\"{i}\" timestamp=\"{}\" \
             hostname=\"{host}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" \
             time=\"{time:.3}\">",
            timestamp(suite.started),
            rs.len(),
        );
        x.push_str("    <properties>\n");
        property(&mut x, "title", s.title);
        property(&mut x, "expect", &s.expect.describe());
        property(&mut x, "reason", s.reason);
        if let Some(src) = s.source {
            property(&mut x, "source", src);
        }
        property(&mut x, "time-mode", &format!("{:?}", s.time).to_lowercase());
        property(
            &mut x,
            "spurious",
            &format!("{:?}", s.spurious).to_lowercase(),
        );
        property(&mut x, "threads", &s.threads.to_string());
        property(
            &mut x,
            "budget",
            &format!(
                "loom {} executions per bound, bound 0-{}; shuttle {} executions per run, pct depth 1-{}, seed {}",
                budget.loom_executions,
                budget.max_bound,
                budget.shuttle_executions,
                budget.pct_max_depth,
                budget.seed
            ),
        );
        for r in rs {
            let e = r.family.as_str();
            let verdict = match &r.verdict {
                Verdict::Met => "met".to_owned(),
                Verdict::Unmet(w) => format!("unmet: {w}"),
                Verdict::Unsupported(w) => format!("not run: {w}"),
            };
            property(&mut x, &format!("{e}.verdict"), &verdict);
            if !matches!(r.verdict, Verdict::Unsupported(_)) {
                property(&mut x, &format!("{e}.run"), &deciding_run(r));
                property(
                    &mut x,
                    &format!("{e}.executions"),
                    &r.outcome.executions.to_string(),
                );
                property(
                    &mut x,
                    &format!("{e}.seconds"),
                    &format!("{:.3}", r.outcome.elapsed.as_secs_f64()),
                );
            }
            if let Some(f) = &r.outcome.found {
                property(&mut x, &format!("{e}.found"), &f.property);
            }
            if let Some(p) = r.saved.as_ref().or(r.already_saved.as_ref()) {
                property(&mut x, &format!("{e}.schedule"), &p.display().to_string());
            }
        }
        x.push_str("    </properties>\n");
        for r in rs {
            let name = escape(&case_name(r.family, budget), true);
            let open = format!(
                "    <testcase classname=\"{id}\" name=\"{name}\" time=\"{:.3}\"",
                r.outcome.elapsed.as_secs_f64()
            );
            match &r.verdict {
                Verdict::Met => {
                    let _ = writeln!(x, "{open}/>");
                }
                Verdict::Unsupported(why) => {
                    // The reason as text only: Jenkins' junit-4 schema allows no attribute
                    // on `<skipped>`.
                    let _ = writeln!(
                        x,
                        "{open}>\n      <skipped>{}</skipped>\n    </testcase>",
                        escape(&format!("{} cannot run {}: {why}", r.family, s.id), false)
                    );
                }
                Verdict::Unmet(why) => {
                    let kind = r
                        .outcome
                        .found
                        .as_ref()
                        .map(|f| f.kind.as_str())
                        .unwrap_or("not-found");
                    let _ = writeln!(
                        x,
                        "{open}>\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>",
                        escape(why, true),
                        escape(&failure_text(r), false)
                    );
                }
            }
        }
        let notes: String = rs.iter().map(engine_note).collect();
        let _ = writeln!(
            x,
            "    <system-out>{}</system-out>\n    <system-err/>\n  </testsuite>",
            escape(
                &format!(
                    "{}  {}\nexpect: {}\n{notes}",
                    s.id,
                    s.title,
                    s.expect.describe()
                ),
                false
            )
        );
    }
    x.push_str("</testsuites>\n");
    x
}
