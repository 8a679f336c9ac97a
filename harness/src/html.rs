//! A failing execution as one self-contained HTML page: a swimlane per thread on a step
//! axis, held locks as bars, waits, preemptions, time jumps, and for a deadlock the
//! waits-for cycle as a graph.
//!
//! Rendered from the typed [`ExecutionReport`] (the same data [`trace::render`] draws its
//! table from), never from the text trace. The page is one file with inline CSS, inline SVG
//! and a few lines of inline script (click an operation to pin its details); it loads
//! nothing. Its DOM is a contract with the browser test (and `tests/html.rs` of the CLI
//! checks it on every saved schedule): `body[data-page]`, `#verdict[data-kind]`, `#replay`,
//! `svg#lanes > g.lane[data-thread] > g.op[data-step]`, `rect.held[data-object]`,
//! `rect.wait[data-wait]`, `g.preempt`, `g.time-mark`, `svg#waits-for` with `g.node` and
//! `g.edge.cycle`, `#generations`, `#source[data-id]`, and on the index `table#index` with
//! `tr.scenario[data-id]` and `td.engine[data-engine][data-verdict]`.
//!
//! [`trace::render`]: crate::trace::render

use crate::engine::execution::failure_message;
use crate::trace::cut_to as cut;
use lockproof::backend::checked::{
    fmt_time, ExecutionReport, Failure, ObjectId, StepKind, Switch, ThreadId, TraceEvent,
};
use lockproof::backend::{Arg, Hold, Outcome};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The tutorial example a corpus scenario models.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The example's id (`ex-3.1-04`).
    pub id: String,
    /// Where it is in the tutorial (the catalogue's `heading`).
    pub heading: String,
    /// The tutorial's code (the catalogue's `source`).
    pub excerpt: String,
}

/// Everything a counterexample page shows besides the execution itself.
#[derive(Clone, Debug, Default)]
pub struct Page<'a> {
    /// The scenario id.
    pub scenario: &'a str,
    /// The scenario's title.
    pub title: &'a str,
    /// The engine and its settings, as the CLI describes them (`loom bound 1`).
    pub engine: String,
    /// The failure kind (`deadlock`, `violation`, …: [`FailureKind`](crate::engine::FailureKind)).
    pub kind: &'a str,
    /// The property the verdict names.
    pub property: &'a str,
    /// The one-line message.
    pub message: &'a str,
    /// The command that replays it.
    pub replay: String,
    /// The tutorial example, for a corpus scenario.
    pub source: Option<Source>,
    /// A link back to the index page, when there is one.
    pub index: Option<String>,
}

/// Escape text for HTML content and attribute values.
///
/// # Examples
///
/// ```
/// assert_eq!(lockproof_harness::html::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// The SVG's coordinate system: the page scales it to the window's width (`width: 100%`),
// so lanes share the width whatever their number and nothing scrolls sideways.
const VIEW_W: f64 = 1180.0;
const AXIS_W: f64 = 84.0;
const HEADER_H: f64 = 30.0;
const ROW_H: f64 = 22.0;
const SLOT_W: f64 = 5.0;
const MAX_SLOTS: usize = 4;
/// Width of one character of the 11 px monospace labels, in SVG units.
const CHAR_W: f64 = 6.7;

/// A traced step shown as a row (thread starts are not shown, as in the text trace).
struct Row<'r> {
    step: usize,
    event: &'r TraceEvent,
}

fn rows(report: &ExecutionReport) -> Vec<Row<'_>> {
    report
        .trace
        .iter()
        .filter(|e| !matches!(e.kind, StepKind::Thread("start")))
        .enumerate()
        .map(|(i, event)| Row { step: i + 1, event })
        .collect()
}

/// The threads with a lane, in the text trace's column order: main, and every thread with
/// a step.
fn lanes(report: &ExecutionReport) -> Vec<usize> {
    let n = report.threads.len().max(1);
    (0..n)
        .filter(|&t| t == 0 || report.trace.iter().any(|e| e.thread.index() == t))
        .collect()
}

fn thread_name(report: &ExecutionReport, t: ThreadId) -> String {
    report
        .thread_name(t)
        .map_or_else(|| t.to_string(), str::to_owned)
}

fn object_name(report: &ExecutionReport, o: Option<ObjectId>) -> String {
    o.and_then(|o| report.object(o))
        .map(|o| o.name.clone())
        .unwrap_or_default()
}

/// The step's label: the call and what it returned, as the text trace words it.
fn label(e: &TraceEvent, report: &ExecutionReport) -> String {
    let obj = object_name(report, e.object);
    let call = if obj.is_empty() {
        format!("{}({})", e.op, e.args)
    } else {
        format!("{obj}.{}({})", e.op, e.args)
    };
    match &e.kind {
        StepKind::Returned(o) => format!("{call} → {o}"),
        StepKind::Blocked => format!("{call} … blocked"),
        StepKind::Woken(why) => format!("{obj}.{} … woken ({why})", e.op),
        StepKind::Thread(what) if matches!(*what, "crashed" | "paused") => {
            format!("{what}: {}({})", e.op, e.args)
        }
        StepKind::Thread(what) => format!("({what})"),
    }
}

/// A span of steps during which a thread held one level of an object.
#[derive(Clone, Copy)]
struct Held {
    thread: usize,
    object: ObjectId,
    from: usize,
    /// The releasing step, or `None` when still held at the end.
    to: Option<usize>,
    /// Held by a thread whose process crashed (from its crash on): never released.
    dead: bool,
}

/// Who held what when, replayed from the steps' typed [`Hold`] effects exactly as the
/// world keeps its holders (a Lock or a permit released by a non-holder: the oldest
/// holder loses it).
///
/// A crashed process's thread keeps what it held (a multiprocessing lock stays held), drawn
/// as dead from the crash on; it is no longer inside a region, whose span ends there.
fn held_spans(rows: &[Row<'_>], report: &ExecutionReport) -> Vec<Held> {
    let mut open: Vec<(ObjectId, Vec<(usize, usize)>)> = Vec::new();
    let mut spans = Vec::new();
    for r in rows {
        let e = r.event;
        let Some(obj) = e.object else { continue };
        if e.hold == Hold::Nothing {
            continue;
        }
        let idx = match open.iter().position(|(o, _)| *o == obj) {
            Some(i) => i,
            None => {
                open.push((obj, Vec::new()));
                open.len() - 1
            }
        };
        let holders = &mut open[idx].1;
        let t = e.thread.index();
        let mut close = |h: (usize, usize)| {
            spans.push(Held {
                thread: h.0,
                object: obj,
                from: h.1,
                to: Some(r.step),
                dead: false,
            })
        };
        match e.hold {
            Hold::Acquired => holders.push((t, r.step)),
            Hold::Released => {
                if let Some(pos) = holders.iter().position(|h| h.0 == t) {
                    close(holders.remove(pos));
                } else if !holders.is_empty() {
                    close(holders.remove(0));
                }
            }
            Hold::ReleasedAll => {
                let (mine, rest): (Vec<_>, Vec<_>) = holders.iter().partition(|h| h.0 == t);
                *holders = rest;
                mine.into_iter().for_each(close);
            }
            Hold::Restored(levels) => {
                let levels = usize::try_from(levels).unwrap_or(1).max(1);
                holders.extend(std::iter::repeat_n((t, r.step), levels));
            }
            _ => {}
        }
    }
    for (obj, holders) in open {
        for (thread, from) in holders {
            spans.push(Held {
                thread,
                object: obj,
                from,
                to: None,
                dead: false,
            });
        }
    }
    let crashes: Vec<(usize, usize)> = rows
        .iter()
        .filter(|r| r.event.kind == StepKind::Thread("crashed"))
        .map(|r| (r.event.thread.index(), r.step))
        .collect();
    let mut dead = Vec::new();
    for h in &mut spans {
        let Some(&(_, at)) = crashes.iter().find(|c| c.0 == h.thread && c.1 >= h.from) else {
            continue;
        };
        if h.to.is_some_and(|to| to <= at) {
            continue;
        }
        let region = report.object(h.object).is_some_and(|o| o.kind == "Region");
        if !region {
            dead.push(Held {
                from: at,
                dead: true,
                ..*h
            });
        }
        h.to = Some(at);
    }
    spans.extend(dead);
    spans.sort_by_key(|h| (h.from, h.thread));
    spans
}

/// A wait: from the step that blocked to the step that ended it.
struct Wait {
    thread: usize,
    from: usize,
    /// The step that ended it, or `None` when it never ended.
    to: Option<usize>,
    kind: &'static str,
    what: String,
}

fn waits(rows: &[Row<'_>], report: &ExecutionReport) -> Vec<Wait> {
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.event.kind != StepKind::Blocked {
            continue;
        }
        let t = r.event.thread;
        let end = rows[i + 1..].iter().find(|n| n.event.thread == t);
        // A timeout argument, or a sleep's deadline.
        let timed = r
            .event
            .args
            .0
            .iter()
            .any(|a| matches!(a, Arg::Secs(..) | Arg::Until(_)));
        let kind = match end.map(|n| &n.event.kind) {
            Some(StepKind::Woken(why)) if why.contains("spurious") => "spurious",
            Some(StepKind::Woken(why)) if why.contains("timeout") => "timed-out",
            _ if timed => "timed",
            _ => "blocked",
        };
        out.push(Wait {
            thread: t.index(),
            from: r.step,
            to: end.map(|n| n.step),
            kind,
            what: label(r.event, report),
        });
    }
    out
}

/// A stable colour per object.
fn colour(o: ObjectId) -> String {
    const HUES: [u32; 10] = [210, 20, 130, 280, 45, 175, 330, 95, 250, 0];
    let h = HUES[o.index() % HUES.len()];
    let l = 42 + (o.index() / HUES.len() % 3) * 10;
    format!("hsl({h},65%,{l}%)")
}

/// Which colour is which held object.
fn held_legend(report: &ExecutionReport, out: &mut String) {
    let mut seen: Vec<ObjectId> = Vec::new();
    for h in held_spans(&rows(report), report) {
        if !seen.contains(&h.object) {
            seen.push(h.object);
        }
    }
    if seen.is_empty() {
        return;
    }
    out.push_str(r##"<div class="legend held-objects">held:"##);
    for o in seen {
        let (name, kind) = report
            .object(o)
            .map_or((String::new(), ""), |i| (i.name.clone(), i.kind));
        let _ = write!(
            out,
            r##"<span title="{}"><i class="sw" style="background:{}"></i>{} <small>({})</small></span>"##,
            escape(&name),
            colour(o),
            escape(&cut(&name, 40)),
            escape(kind)
        );
    }
    out.push_str("</div>");
}

/// The swimlanes: `svg#lanes`.
fn lanes_svg(report: &ExecutionReport, out: &mut String) {
    let rows = rows(report);
    let lanes = lanes(report);
    let n_steps = rows.len();
    let lane_w = (VIEW_W - AXIS_W) / lanes.len().max(1) as f64;
    let lane_x = |t: usize| -> Option<f64> {
        lanes
            .iter()
            .position(|&l| l == t)
            .map(|i| AXIS_W + i as f64 * lane_w)
    };
    let row_y = |step: usize| HEADER_H + (step.saturating_sub(1)) as f64 * ROW_H;
    let height = HEADER_H + n_steps.max(1) as f64 * ROW_H + 18.0;
    let bottom = HEADER_H + n_steps as f64 * ROW_H;
    let spans = held_spans(&rows, report);
    let waits = waits(&rows, report);
    // Each thread's held objects get a slot (a column of bars) in order of first holding.
    let mut slots: Vec<Vec<ObjectId>> = vec![Vec::new(); report.threads.len().max(1)];
    for h in &spans {
        if let Some(s) = slots.get_mut(h.thread) {
            if !s.contains(&h.object) {
                s.push(h.object);
            }
        }
    }
    let slot_of = |t: usize, o: ObjectId| -> usize {
        slots
            .get(t)
            .and_then(|s| s.iter().position(|&x| x == o))
            .unwrap_or(0)
            .min(MAX_SLOTS - 1)
    };
    let bars_w = |t: usize| -> f64 {
        let n = slots.get(t).map_or(0, Vec::len).min(MAX_SLOTS);
        if n == 0 {
            0.0
        } else {
            n as f64 * SLOT_W + 3.0
        }
    };

    let _ = write!(
        out,
        r##"<svg id="lanes" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEW_W} {height}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="the execution, one lane per thread">"##
    );
    out.push_str(
        r##"<defs><pattern id="hatch-timed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e8f0fb"/><line x1="0" y1="0" x2="0" y2="6" stroke="#7da7d9" stroke-width="2"/></pattern><pattern id="hatch-blocked" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>"##,
    );
    // The step axis.
    let _ = write!(
        out,
        r##"<g class="axis"><text x="6" y="18" class="head">step</text><text x="{}" y="18" class="head" text-anchor="end">time</text>"##,
        AXIS_W - 6.0
    );
    for r in &rows {
        let y = row_y(r.step) + ROW_H * 0.68;
        let _ = write!(
            out,
            r##"<text x="6" y="{y:.1}" class="stepno">{}</text>"##,
            r.step
        );
    }
    out.push_str("</g>");

    for (i, &t) in lanes.iter().enumerate() {
        let x = AXIS_W + i as f64 * lane_w;
        let name = report
            .threads
            .get(t)
            .cloned()
            .unwrap_or_else(|| t.to_string());
        let max_chars = ((lane_w - 10.0) / CHAR_W).floor().max(3.0) as usize;
        let _ = write!(
            out,
            r##"<g class="lane" data-thread="{}"><rect class="lane-bg{}" x="{x:.1}" y="0" width="{lane_w:.1}" height="{height:.1}"/><text class="head" x="{:.1}" y="18"><title>{}</title>{}</text>"##,
            escape(&name),
            if i % 2 == 1 { " odd" } else { "" },
            x + 6.0,
            escape(&name),
            escape(&cut(&name, max_chars)),
        );
        // Held spans, as bars in the thread's slots.
        let crashed_at = |s: usize| {
            rows.iter()
                .any(|r| r.step == s && r.event.kind == StepKind::Thread("crashed"))
        };
        for h in spans.iter().filter(|h| h.thread == t) {
            let obj = report.object(h.object);
            let oname = obj.map_or_else(String::new, |o| o.name.clone());
            let okind = obj.map_or("", |o| o.kind);
            let bx = x + 3.0 + slot_of(t, h.object) as f64 * SLOT_W;
            let y0 = row_y(h.from) + ROW_H * 0.5;
            let y1 = h.to.map_or(bottom, |s| row_y(s) + ROW_H * 0.5);
            let until = match (h.dead, h.to) {
                (true, _) => "its process crashed: held forever, never released".to_owned(),
                (false, None) => "still held at the end".to_owned(),
                (false, Some(s)) if crashed_at(s) => {
                    format!("its process crashed at step {s}")
                }
                (false, Some(s)) => format!("released at step {s}"),
            };
            let _ = write!(
                out,
                r##"<rect class="held{}" data-object="{}" x="{bx:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} holds {} ({}) from step {}: {}</title></rect>"##,
                if h.dead { " dead" } else { "" },
                escape(&oname),
                SLOT_W - 1.0,
                (y1 - y0).max(2.0),
                colour(h.object),
                escape(&name),
                escape(&oname),
                escape(okind),
                h.from,
                until
            );
        }
        let box_x = x + 4.0 + bars_w(t);
        let box_w = (lane_w - 8.0 - bars_w(t)).max(10.0);
        // Waits, behind the operations.
        for w in waits.iter().filter(|w| w.thread == t) {
            let y0 = row_y(w.from) + 2.0;
            let y1 = w.to.map_or(bottom, |s| row_y(s) + ROW_H - 2.0);
            let how = match (w.kind, w.to) {
                ("blocked", None) => "blocked, never woken".to_owned(),
                ("blocked", Some(s)) => format!("blocked until step {s}"),
                ("timed", Some(s)) => format!("timed wait, woken at step {s}"),
                ("timed", None) => "timed wait, never ended".to_owned(),
                ("spurious", Some(s)) => format!("woken spuriously at step {s}"),
                ("timed-out", Some(s)) => format!("timed out at step {s}"),
                (k, _) => k.to_owned(),
            };
            let _ = write!(
                out,
                r##"<rect class="wait {}" data-wait="{}" x="{box_x:.1}" y="{y0:.1}" width="{box_w:.1}" height="{:.1}" rx="3"><title>{} waits from step {}: {} — {}</title></rect>"##,
                w.kind,
                w.kind,
                (y1 - y0).max(2.0),
                escape(&name),
                w.from,
                escape(&w.what),
                escape(&how)
            );
        }
        // The operations.
        let max_label = ((box_w - 8.0) / CHAR_W).floor().max(3.0) as usize;
        for r in rows.iter().filter(|r| r.event.thread.index() == t) {
            let e = r.event;
            let full = label(e, report);
            let class = match &e.kind {
                StepKind::Returned(Outcome::Error(_)) => "op raised",
                StepKind::Returned(_) => "op",
                StepKind::Blocked => "op blocked",
                StepKind::Woken(why) if why.contains("spurious") => "op woken spurious",
                StepKind::Woken(why) if why.contains("timeout") => "op woken timed-out",
                StepKind::Woken(_) => "op woken",
                StepKind::Thread("crashed") => "op crash",
                StepKind::Thread("paused") => "op pause",
                StepKind::Thread(_) => "op thread",
            };
            let y = row_y(r.step) + 2.0;
            let _ = write!(
                out,
                r##"<g class="{class}" data-step="{}"><title>{}</title><rect x="{box_x:.1}" y="{y:.1}" width="{box_w:.1}" height="{:.1}" rx="3"/><text x="{:.1}" y="{:.1}">{}</text></g>"##,
                r.step,
                escape(&details(r, report)),
                ROW_H - 4.0,
                box_x + 4.0,
                y + ROW_H * 0.56,
                escape(&cut(&full, max_label)),
            );
        }
        out.push_str("</g>");
    }

    // Time marks: where virtual time moved.
    let mut now = 0u64;
    for r in &rows {
        if r.event.time != now {
            now = r.event.time;
            let y = row_y(r.step);
            let _ = write!(
                out,
                r##"<g class="time-mark" data-time="{now}"><title>virtual time moves to {} at step {}</title><line x1="2" y1="{y:.1}" x2="{VIEW_W}" y2="{y:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text></g>"##,
                fmt_time(now),
                r.step,
                AXIS_W - 6.0,
                y + ROW_H * 0.68,
                escape(&fmt_time(now)),
            );
        }
    }
    // Where the execution failed: under its last step.
    if let Some(f) = &report.failure {
        let y = bottom + 2.0;
        let _ = write!(
            out,
            r##"<g class="failure-mark"><title>{}</title><line x1="2" y1="{y:.1}" x2="{VIEW_W}" y2="{y:.1}"/><text x="6" y="{:.1}">✗ {}</text></g>"##,
            escape(&failure_message(f, Some(report))),
            y + 11.0,
            escape(f.kind()),
        );
    }
    // Preemptions: an arrow from the preempted thread's lane to the thread that ran.
    for r in &rows {
        let Some(Switch::Preempted(p)) = r.event.switch else {
            continue;
        };
        let Some(to_x) = lane_x(r.event.thread.index()) else {
            continue;
        };
        let y = row_y(r.step) + 1.0;
        let to = to_x + 4.0 + bars_w(r.event.thread.index());
        let from =
            lane_x(p.index()).map_or(
                to - 12.0,
                |x| {
                    if x < to_x {
                        x + lane_w - 6.0
                    } else {
                        x + 6.0
                    }
                },
            );
        let _ = write!(
            out,
            r##"<g class="preempt" data-step="{}"><title>step {}: the scheduler preempted {} (it could have gone on) and ran {}</title><line x1="{from:.1}" y1="{y:.1}" x2="{to:.1}" y2="{y:.1}" marker-end="url(#arrow)"/><text x="{:.1}" y="{:.1}">⚡</text></g>"##,
            r.step,
            r.step,
            escape(&thread_name(report, p)),
            escape(&thread_name(report, r.event.thread)),
            to - 12.0,
            y + 9.0,
        );
    }
    out.push_str("</svg>");
}

/// The hover text of a step: everything the trace knows about it.
fn details(r: &Row<'_>, report: &ExecutionReport) -> String {
    let e = r.event;
    let mut s = format!(
        "step {} · {} · t={}\n{}",
        r.step,
        thread_name(report, e.thread),
        fmt_time(e.time),
        label(e, report)
    );
    if let Some(o) = e.object.and_then(|o| report.object(o)) {
        let _ = write!(s, "\nobject: {} ({})", o.name, o.kind);
    }
    match e.hold {
        Hold::Acquired => s.push_str("\nholds one more level of it"),
        Hold::Released => s.push_str("\nreleases one level of it"),
        Hold::ReleasedAll => s.push_str("\nreleases every level it held"),
        Hold::Restored(n) => {
            let _ = write!(s, "\nholds {n} level(s) again");
        }
        _ => {}
    }
    if let Some(sw) = e.switch {
        let (what, t) = match sw {
            Switch::Preempted(t) => ("preempted", t),
            Switch::Blocked(t) => ("after the block of", t),
            Switch::Finished(t) => ("after the end of", t),
            Switch::Resumed(t) => ("resumed after", t),
        };
        let _ = write!(s, "\nscheduler: {what} {}", thread_name(report, t));
    }
    s
}

/// The waits-for graph of a deadlock: `svg#waits-for`.
fn waits_for_svg(report: &ExecutionReport, out: &mut String) {
    let Some(Failure::Deadlock(d)) = &report.failure else {
        return;
    };
    // The cycle, if any (each waits for the next); else every blocked thread and whom it
    // waits for.
    let mut nodes: Vec<ThreadId> = Vec::new();
    let mut edges: Vec<(ThreadId, ThreadId, bool)> = Vec::new();
    if let Some(cycle) = &d.cycle {
        let mut c = cycle.clone();
        if c.len() > 1 && c.first() == c.last() {
            c.pop();
        }
        for (i, &t) in c.iter().enumerate() {
            nodes.push(t);
            edges.push((t, c[(i + 1) % c.len()], true));
        }
    } else {
        for b in &d.threads {
            if !nodes.contains(&b.thread) {
                nodes.push(b.thread);
            }
            for &h in &b.held_by {
                if !nodes.contains(&h) {
                    nodes.push(h);
                }
                edges.push((b.thread, h, false));
            }
        }
    }
    if nodes.is_empty() {
        return;
    }
    let (w, h) = (420.0f64, 300.0f64);
    let (cx, cy, rad) = (w / 2.0, h / 2.0, if nodes.len() == 1 { 0.0 } else { 105.0 });
    let pos = |t: ThreadId| -> (f64, f64) {
        let i = nodes.iter().position(|&n| n == t).unwrap_or(0);
        let a =
            -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / nodes.len() as f64;
        (cx + rad * a.cos(), cy + rad * a.sin())
    };
    let _ = write!(
        out,
        r##"<svg id="waits-for" data-cycle="{}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="waits-for graph">"##,
        d.cycle.is_some()
    );
    out.push_str(r##"<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>"##);
    const R: f64 = 34.0;
    for &(a, b, cyc) in &edges {
        let blocked = d.threads.iter().find(|x| x.thread == a);
        let on = blocked.map_or_else(String::new, |x| {
            let obj = object_name(report, x.object);
            if obj.is_empty() {
                format!("{}()", x.op)
            } else {
                format!("{obj}.{}()", x.op)
            }
        });
        let ((x1, y1), (x2, y2)) = (pos(a), pos(b));
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Two opposite edges between the same pair are bent apart.
        let (nx, ny) = (-uy * 14.0, ux * 14.0);
        let (sx, sy, ex, ey) = (
            x1 + ux * R + nx * 0.5,
            y1 + uy * R + ny * 0.5,
            x2 - ux * R + nx * 0.5,
            y2 - uy * R + ny * 0.5,
        );
        let (mx, my) = ((sx + ex) / 2.0 + nx, (sy + ey) / 2.0 + ny);
        let anchor = if nx > 0.5 {
            "start"
        } else if nx < -0.5 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r##"<g class="edge{}" data-from="{}" data-to="{}"><title>{} waits in {} for {}</title><path d="M{sx:.1},{sy:.1} Q{mx:.1},{my:.1} {ex:.1},{ey:.1}" marker-end="url(#wf-arrow)"/><text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"##,
            if cyc { " cycle" } else { "" },
            escape(&thread_name(report, a)),
            escape(&thread_name(report, b)),
            escape(&thread_name(report, a)),
            escape(&on),
            escape(&thread_name(report, b)),
            mx + nx * 0.4,
            my + ny * 0.4 + 4.0,
            escape(&cut(&on, 24)),
        );
    }
    for &t in &nodes {
        let (x, y) = pos(t);
        let name = thread_name(report, t);
        let _ = write!(
            out,
            r##"<g class="node" data-thread="{}"><title>{}</title><circle cx="{x:.1}" cy="{y:.1}" r="{R}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text></g>"##,
            escape(&name),
            escape(&name),
            y + 4.0,
            escape(&cut(&name, 9)),
        );
    }
    out.push_str("</svg>");
}

/// The generations of every Barrier (and the rounds of every `Rounds`), as a table:
/// `table#generations`. Empty when the execution used none.
fn generations_table(report: &ExecutionReport) -> String {
    let rows = rows(report);
    let mut body = String::new();
    // Per barrier: the generation number and the indices returned in it (as the
    // barrier-generation monitor counts them).
    let mut gens: Vec<(ObjectId, usize, BTreeSet<i64>)> = Vec::new();
    // Per `Rounds` object and round: the parties arrived so far.
    let mut arrived: Vec<(ObjectId, i64, i64)> = Vec::new();
    for r in &rows {
        let e = r.event;
        let Some(obj) = e.object else { continue };
        let Some(info) = report.object(obj) else {
            continue;
        };
        let parties = e.args.get_int("parties").unwrap_or(0);
        let cell = |gen: String, state: String| {
            format!(
                "<tr data-step=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.step,
                escape(&info.name),
                escape(&gen),
                r.step,
                escape(&thread_name(report, e.thread)),
                escape(&label(e, report)),
                escape(&state)
            )
        };
        match (info.kind, e.op) {
            ("Barrier", "wait" | "reset" | "abort" | "action") => {
                let i = match gens.iter().position(|g| g.0 == obj) {
                    Some(i) => i,
                    None => {
                        gens.push((obj, 0, BTreeSet::new()));
                        gens.len() - 1
                    }
                };
                let gen = gens[i].1.to_string();
                match (&e.kind, e.op) {
                    (StepKind::Returned(Outcome::Int(x)), "wait") => {
                        let again = !gens[i].2.insert(*x);
                        let n = gens[i].2.len() as i64;
                        let state = format!(
                            "index {x}{}; {n} of {parties} returned",
                            if again { " AGAIN" } else { "" }
                        );
                        if parties > 0 && n >= parties {
                            gens[i].1 += 1;
                            gens[i].2.clear();
                        }
                        body.push_str(&cell(gen, state));
                    }
                    (StepKind::Returned(_), "reset" | "abort") => {
                        gens[i].2.clear();
                        body.push_str(&cell(gen, "generation broken".into()));
                    }
                    _ => body.push_str(&cell(gen, String::new())),
                }
            }
            ("Rounds", "arrive" | "depart") => {
                let round = e.args.get_int("round").unwrap_or(0);
                let i = match arrived.iter().position(|a| a.0 == obj && a.1 == round) {
                    Some(i) => i,
                    None => {
                        arrived.push((obj, round, 0));
                        arrived.len() - 1
                    }
                };
                if e.op == "arrive" {
                    arrived[i].2 += 1;
                }
                let n = arrived[i].2;
                let state = if e.op == "depart" && n < parties {
                    format!("left with {n} of {parties} arrived: TOO EARLY")
                } else {
                    format!("{n} of {parties} arrived")
                };
                body.push_str(&cell(format!("round {round}"), state));
            }
            _ => {}
        }
    }
    if body.is_empty() {
        return String::new();
    }
    format!(
        r##"<h2>Barrier generations</h2><table id="generations"><thead><tr><th>barrier</th><th>generation</th><th>step</th><th>thread</th><th>operation</th><th>state</th></tr></thead><tbody>{body}</tbody></table>"##
    )
}

const CSS: &str = r##"
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:12px 16px;max-width:1240px;color:#222;background:#fff}
h1{font-size:20px;margin:4px 0 8px;overflow-wrap:anywhere}
h2{font-size:16px;margin:18px 0 6px}
a{color:#1a5fb4}
pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
#verdict{border-left:6px solid #c0392b;background:#fdf0ee;padding:8px 12px;margin:8px 0;overflow-wrap:anywhere}
#verdict .kind{font-weight:bold;text-transform:uppercase;color:#c0392b;margin-right:8px}
table{border-collapse:collapse;font-size:13px;max-width:100%}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.meta td:first-child{color:#666;white-space:nowrap}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#444;margin:6px 0}
.legend span{display:inline-flex;align-items:center;gap:4px}
.sw{display:inline-block;width:16px;height:11px;border:1px solid #999;border-radius:2px}
svg{display:block}
#lanes{width:100%;height:auto;font:11px ui-monospace,"DejaVu Sans Mono",Menlo,monospace}
#lanes .lane-bg{fill:#fff}
#lanes .lane-bg.odd{fill:#fafafa}
#lanes text.head{font-weight:bold;font-size:12px;fill:#222}
#lanes .stepno{fill:#888}
#lanes .op rect{fill:#e9f3e6;stroke:#6a9a5b;stroke-width:1}
#lanes .op text{fill:#111}
#lanes .op.blocked rect{fill:#fff;stroke:#888;stroke-dasharray:3 2}
#lanes .op.woken rect{fill:#fff4dc;stroke:#d39a2c}
#lanes .op.woken.spurious rect{fill:#f3e6fb;stroke:#8e44ad}
#lanes .op.woken.timed-out rect{fill:#fff0db;stroke:#e67e22}
#lanes .failure-mark line{stroke:#c0392b;stroke-width:2}
#lanes .failure-mark text{fill:#c0392b;font-weight:bold}
#lanes .op.raised rect{fill:#fde2df;stroke:#c0392b}
#lanes .op.thread rect{fill:#eee;stroke:#bbb}
#lanes .op.crash rect{fill:#c0392b;stroke:#7b1f15}
#lanes .op.crash text{fill:#fff;font-weight:bold}
#lanes .op.pause rect{fill:#f5d76e;stroke:#a88712}
#lanes .op:hover rect,#lanes .op.pinned rect{stroke:#1a5fb4;stroke-width:2}
#lanes .op{cursor:pointer}
#lanes rect.held{opacity:.85}
#lanes rect.held.dead{opacity:.45;stroke:#7b1f15;stroke-dasharray:2 2}
#lanes rect.wait{stroke-width:1.2}
#lanes rect.wait.blocked{fill:url(#hatch-blocked);stroke:#999;stroke-dasharray:4 2}
#lanes rect.wait.timed{fill:url(#hatch-timed);stroke:#5b8fd0;stroke-dasharray:4 2}
#lanes rect.wait.spurious{fill:#f3e6fb;stroke:#8e44ad;stroke-dasharray:2 2}
#lanes rect.wait.timed-out{fill:#fff0db;stroke:#e67e22;stroke-dasharray:6 2}
#lanes .time-mark line{stroke:#1a5fb4;stroke-dasharray:2 3;stroke-width:1}
#lanes .time-mark text{fill:#1a5fb4;font-weight:bold}
#lanes .preempt line{stroke:#c0392b;stroke-width:1.5}
#lanes .preempt text{fill:#c0392b;font-size:11px}
#waits-for{width:100%;max-width:420px;height:auto;font:12px system-ui,sans-serif}
#waits-for circle{fill:#fdf0ee;stroke:#c0392b;stroke-width:2}
#waits-for .edge path{fill:none;stroke:#888;stroke-width:1.5}
#waits-for .edge.cycle path{stroke:#c0392b;stroke-width:2.2}
#waits-for .edge text{fill:#555;font-size:11px}
#detail{position:sticky;bottom:0;background:#fffbe6;border:1px solid #e0c96b;padding:6px 10px;font:12px ui-monospace,monospace;white-space:pre-wrap;display:none}
#index td.engine.met{background:#eef7ec}
#index td.engine.unmet{background:#fde2df}
#index td.engine.unsupported{color:#888}
"##;

const SCRIPT: &str = r##"
(function(){var d=document.getElementById('detail');if(!d)return;
document.querySelectorAll('#lanes g.op').forEach(function(g){g.addEventListener('click',function(){
document.querySelectorAll('#lanes g.op.pinned').forEach(function(p){p.classList.remove('pinned');});
g.classList.add('pinned');var t=g.querySelector('title');d.textContent=t?t.textContent:'';d.style.display='block';});});})();
"##;

fn head(title: &str, page: &str, out: &mut String) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body data-page=\"{page}\">",
        escape(title)
    );
}

fn legend(out: &mut String) {
    out.push_str(concat!(
        r##"<div class="legend">"##,
        r##"<span><i class="sw" style="background:#e9f3e6;border-color:#6a9a5b"></i>operation → result</span>"##,
        r##"<span><i class="sw" style="background:hsl(210,65%,42%)"></i>lock / permit held (a colour per object)</span>"##,
        r##"<span><i class="sw" style="background:#f3f3f3;border-style:dashed"></i>blocked</span>"##,
        r##"<span><i class="sw" style="background:#e8f0fb;border-color:#5b8fd0;border-style:dashed"></i>timed wait</span>"##,
        r##"<span><i class="sw" style="background:#f3e6fb;border-color:#8e44ad;border-style:dashed"></i>woken spuriously</span>"##,
        r##"<span><i class="sw" style="background:#fff0db;border-color:#e67e22;border-style:dashed"></i>timed out</span>"##,
        r##"<span style="color:#c0392b">⚡→ preemption</span>"##,
        r##"<span style="color:#1a5fb4">┄ virtual time moves</span>"##,
        r##"<span><i class="sw" style="background:#c0392b"></i>crash</span>"##,
        r##"<span><i class="sw" style="background:#f5d76e"></i>pause</span>"##,
        r##"</div>"##
    ));
}

/// Render one counterexample as a self-contained HTML page.
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
/// use lockproof_harness::{check, html, Check, Family};
///
/// let out = check::run_family(&Check::new(Abba).as_scenario(), Family::Dfs, &request());
/// let found = out.found.unwrap();
/// let page = html::Page { scenario: "abba", kind: found.kind.as_str(), ..Default::default() };
/// let text = html::render(found.report.as_ref().unwrap(), &page);
/// assert!(text.contains(r##"<g class="lane" data-thread="t">"##));
/// assert!(text.contains(r##"<svg id="waits-for""##) && text.contains(r##"class="edge cycle""##));
/// ```
pub fn render(report: &ExecutionReport, page: &Page<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024 + report.trace.len() * 900);
    let kind = if page.kind.is_empty() {
        report.failure.as_ref().map_or("passed", Failure::kind)
    } else {
        page.kind
    };
    head(
        &format!("{} — {} — lockproof", page.scenario, kind),
        "counterexample",
        &mut out,
    );
    if let Some(ix) = &page.index {
        let _ = write!(
            out,
            r##"<p><a href="{}">← every scenario</a></p>"##,
            escape(ix)
        );
    }
    let _ = write!(
        out,
        "<h1>{}{}{}</h1>",
        escape(page.scenario),
        if page.title.is_empty() { "" } else { " — " },
        escape(page.title)
    );
    let detail = report
        .failure
        .as_ref()
        .map(|f| failure_message(f, Some(report)))
        .unwrap_or_default();
    let message = if page.message.is_empty() {
        detail.clone()
    } else {
        page.message.to_owned()
    };
    let _ = write!(
        out,
        r##"<div id="verdict" data-kind="{}" data-property="{}"><span class="kind">{}</span>{}{}</div>"##,
        escape(kind),
        escape(page.property),
        escape(kind),
        escape(&message),
        if detail.is_empty() || detail == message {
            String::new()
        } else {
            format!("<br><small>{}</small>", escape(&detail))
        }
    );
    out.push_str(r##"<table class="meta">"##);
    let mut meta = |k: &str, v: &str| {
        if !v.is_empty() {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", escape(k), escape(v));
        }
    };
    meta("engine", &page.engine);
    meta("property", page.property);
    let lane_count = lanes(report).len();
    let steps = rows(report).len();
    meta(
        "execution",
        &format!(
            "{lane_count} thread(s), {steps} step(s), {} preemption(s), virtual time at the end {}",
            report.preemptions,
            fmt_time(report.time)
        ),
    );
    if report.timeouts_fired > 0 || report.spurious_injected > 0 {
        meta(
            "injected",
            &format!(
                "{} timeout(s) fired, {} spurious wakeup(s)",
                report.timeouts_fired, report.spurious_injected
            ),
        );
    }
    for l in &report.limitations {
        meta("note", l);
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        r##"<h2>Replay</h2><pre id="replay">{}</pre>"##,
        escape(&page.replay)
    );
    out.push_str("<h2>Execution</h2>");
    legend(&mut out);
    held_legend(report, &mut out);
    lanes_svg(report, &mut out);
    out.push_str(r##"<div id="detail"></div>"##);
    if matches!(report.failure, Some(Failure::Deadlock(_))) {
        out.push_str("<h2>Who waits for whom</h2>");
        waits_for_svg(report, &mut out);
        if let Some(Failure::Deadlock(d)) = &report.failure {
            out.push_str(r##"<ul class="blocked">"##);
            for b in &d.threads {
                let obj = object_name(report, b.object);
                let holders: Vec<String> =
                    b.held_by.iter().map(|&t| thread_name(report, t)).collect();
                let _ = write!(
                    out,
                    "<li>{} waits in {}{}{}(){}</li>",
                    escape(&thread_name(report, b.thread)),
                    escape(&obj),
                    if obj.is_empty() { "" } else { "." },
                    escape(b.op),
                    if holders.is_empty() {
                        String::new()
                    } else {
                        format!(", held by {}", escape(&holders.join(", ")))
                    }
                );
            }
            out.push_str("</ul>");
        }
    }
    let gens = generations_table(report);
    let barrier_failure = page.property.contains("barrier")
        || matches!(&report.failure, Some(Failure::Violation { property, .. }) if property.contains("barrier"));
    if barrier_failure || !gens.is_empty() {
        out.push_str(&gens);
    }
    if let Some(src) = &page.source {
        let _ = write!(
            out,
            r##"<h2>The tutorial's example</h2><div id="source" data-id="{}"><p>{} — {}</p><pre>{}</pre></div>"##,
            escape(&src.id),
            escape(&src.id),
            escape(&src.heading),
            escape(&src.excerpt)
        );
    }
    let _ = writeln!(out, "<script>{SCRIPT}</script></body></html>");
    out
}

/// One engine's result for one scenario, on the index page.
#[derive(Clone, Debug, Default)]
pub struct IndexCell {
    /// The engine family (`loom`, `random`, `pct`, `dfs`).
    pub engine: String,
    /// `met`, `unmet` or `unsupported`: whether the run met the scenario's expectation.
    pub verdict: String,
    /// What the run found (`deadlock`, a property) or `holds`.
    pub found: String,
    /// A line of detail (the message, why not run).
    pub note: String,
    /// The counterexample page, relative to the index.
    pub link: Option<String>,
}

/// One scenario on the index page.
#[derive(Clone, Debug, Default)]
pub struct IndexRow {
    /// The scenario id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it expects (`deadlock`, `holds`, …).
    pub expect: String,
    /// One cell per engine run.
    pub engines: Vec<IndexCell>,
}

/// The index page of a `check` run: every scenario, its verdict per engine, and links to
/// the counterexample pages.
///
/// # Examples
///
/// ```
/// use lockproof_harness::html::{index, IndexCell, IndexRow};
///
/// let rows = [IndexRow {
///     id: "abba".into(),
///     expect: "deadlock".into(),
///     engines: vec![IndexCell {
///         engine: "loom".into(),
///         verdict: "met".into(),
///         found: "deadlock".into(),
///         link: Some("abba--loom.html".into()),
///         ..Default::default()
///     }],
///     ..Default::default()
/// }];
/// let page = index(&rows, "1 scenario");
/// assert!(page.contains(r##"<tr class="scenario" data-id="abba">"##));
/// assert!(page.contains(r##"href="abba--loom.html""##));
/// ```
pub fn index(rows: &[IndexRow], summary: &str) -> String {
    let mut out = String::new();
    head("lockproof check", "index", &mut out);
    let _ = write!(
        out,
        "<h1>lockproof check</h1><p>{}</p><table id=\"index\"><thead><tr><th>scenario</th><th>expect</th><th colspan=\"4\">verdict per engine</th></tr></thead><tbody>",
        escape(summary)
    );
    for r in rows {
        let _ = write!(
            out,
            r##"<tr class="scenario" data-id="{}"><td><b>{}</b><br><small>{}</small></td><td>{}</td>"##,
            escape(&r.id),
            escape(&r.id),
            escape(&r.title),
            escape(&r.expect)
        );
        for c in &r.engines {
            let found = match &c.link {
                Some(l) => format!(r##"<a href="{}">{}</a>"##, escape(l), escape(&c.found)),
                None => escape(&c.found),
            };
            let _ = write!(
                out,
                r##"<td class="engine {}" data-engine="{}" data-verdict="{}" title="{}"><b>{}</b> {}<br><small>{}</small></td>"##,
                escape(&c.verdict),
                escape(&c.engine),
                escape(&c.verdict),
                escape(&c.note),
                escape(&c.engine),
                found,
                escape(&c.verdict)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}
