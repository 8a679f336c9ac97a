//! The HTML report (issue 15): every saved counterexample of the corpus renders to a page
//! that keeps the DOM contract the browser test relies on (`REPORT-CONTRACT`: lanes, ops,
//! the waits-for cycle, the index), checked here with string scans; `check --report` writes
//! an index that links existing pages; bad paths are a one-line error with exit code 2.

mod common;

use lockproof::backend::checked::{
    ExecutionReport, ObjectId, ObjectInfo, StepKind, ThreadId, TraceEvent,
};
use lockproof::backend::{Args, Hold, Outcome};
use lockproof_harness::html;
use std::path::PathBuf;
use std::process::Command;

fn lockproof(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockproof"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every start tag of the page: (name, the whole tag text).
fn tags(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').expect("every tag closes");
        let tag = &rest[..=end];
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!' || *c == '-')
            .collect();
        out.push((name, tag.to_owned()));
        rest = &rest[end + 1..];
    }
    out
}

/// An attribute of a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..j]))
}

fn has_class(tag: &str, class: &str) -> bool {
    attr(tag, "class").is_some_and(|c| c.split(' ').any(|x| x == class))
}

/// The tags are balanced (every text was escaped: a stray `<` would unbalance them), the
/// ids unique, and nothing is loaded from elsewhere.
fn well_formed(page: &str, what: &str) {
    const VOID: [&str; 4] = ["meta", "br", "!DOCTYPE", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (name, tag) in tags(page) {
        if let Some(closing) = name.strip_prefix('/') {
            let open = stack.pop();
            assert_eq!(open.as_deref(), Some(closing), "{what}: unbalanced {tag}");
        } else if !tag.ends_with("/>") && !VOID.contains(&name.as_str()) {
            stack.push(name.clone());
        }
        if let Some(id) = attr(&tag, "id") {
            assert!(ids.insert(id.clone()), "{what}: id {id} twice");
        }
        assert!(
            !tag.contains(" src=") && !tag.contains("href=\"http") && !tag.contains("href=\"//"),
            "{what}: loads from elsewhere: {tag}"
        );
    }
    assert!(stack.is_empty(), "{what}: unclosed {stack:?}");
    assert!(
        !page.contains("url(http") && !page.contains("@import"),
        "{what}"
    );
}

/// The `<g class="lane">` tags of a page, in order, with the op steps inside each.
fn lanes(page: &str) -> Vec<(String, Vec<usize>)> {
    let mut lanes: Vec<(String, Vec<usize>)> = Vec::new();
    let mut depth_in_lane: Option<usize> = None;
    let mut depth = 0usize;
    for (name, tag) in tags(page) {
        if name == "g" && !tag.ends_with("/>") {
            depth += 1;
            if has_class(&tag, "lane") {
                assert!(depth_in_lane.is_none(), "a lane inside a lane");
                lanes.push((attr(&tag, "data-thread").expect("named lane"), vec![]));
                depth_in_lane = Some(depth);
            } else if has_class(&tag, "op") {
                assert!(depth_in_lane.is_some(), "an op outside a lane: {tag}");
                let step = attr(&tag, "data-step")
                    .expect("op step")
                    .parse()
                    .expect("number");
                lanes.last_mut().expect("lane").1.push(step);
            }
        } else if name == "/g" {
            if depth_in_lane == Some(depth) {
                depth_in_lane = None;
            }
            depth -= 1;
        }
    }
    lanes
}

/// The text trace's thread columns and its number of step rows.
fn text_columns(trace: &str) -> (Vec<String>, usize) {
    let mut lines = trace.lines();
    let header = lines.next().expect("a header");
    let cols: Vec<String> = header
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .filter(|c| *c != "step" && *c != "time")
        .map(str::to_owned)
        .collect();
    let rows = lines
        .take_while(|l| l.len() > 5 && l[..5].trim().parse::<usize>().is_ok())
        .count();
    (cols, rows)
}

/// The `[cycle a → b → a]` of a text trace's verdict line, without the repeated end.
fn text_cycle(trace: &str) -> Option<Vec<String>> {
    let i = trace.find("[cycle ")? + "[cycle ".len();
    let j = trace[i..].find(']')? + i;
    let mut names: Vec<String> = trace[i..j].split(" → ").map(str::to_owned).collect();
    if names.len() > 1 && names.first() == names.last() {
        names.pop();
    }
    Some(names)
}

fn schedules() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = common::root().join("corpus/schedules");
    for dir in std::fs::read_dir(&root).expect("corpus/schedules") {
        let dir = dir.expect("entry").path();
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "schedule") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// A counterexample page keeps the contract; returns its verdict kind.
fn check_page(page: &str, what: &str) -> String {
    well_formed(page, what);
    assert!(page.starts_with("<!DOCTYPE html>"), "{what}");
    assert!(
        page.contains(r#"<body data-page="counterexample">"#),
        "{what}"
    );
    let all = tags(page);
    let find = |id: &str| {
        all.iter()
            .find(|(_, t)| attr(t, "id").as_deref() == Some(id))
    };
    let verdict = find("verdict").expect("#verdict");
    assert_eq!(verdict.0, "div", "{what}");
    let kind = attr(&verdict.1, "data-kind").expect("data-kind");
    assert!(!kind.is_empty(), "{what}");
    assert_eq!(find("replay").expect("#replay").0, "pre", "{what}");
    assert_eq!(find("lanes").expect("#lanes").0, "svg", "{what}");
    for (name, tag) in &all {
        if name == "rect" && has_class(tag, "wait") {
            let w = attr(tag, "data-wait").expect("data-wait");
            assert!(
                ["blocked", "timed", "spurious", "timed-out"].contains(&w.as_str()),
                "{what}: {w}"
            );
        }
        if name == "rect" && has_class(tag, "held") {
            assert!(attr(tag, "data-object").is_some(), "{what}");
        }
    }
    kind
}

#[test]
fn every_saved_schedule_renders_to_a_page_that_keeps_the_contract() {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let files = schedules();
    assert!(files.len() > 100, "the corpus has its saved schedules");
    let (mut deadlocks, mut waits, mut holds, mut preempts, mut marks, mut sources) =
        (0, 0, 0, 0, 0, 0);
    for (i, f) in files.iter().enumerate() {
        let file = f.to_str().expect("utf-8 path");
        let what = f
            .strip_prefix(common::root())
            .unwrap_or(f)
            .display()
            .to_string();
        let out = dir.path().join(format!("{i}.html"));
        let (code, stdout, err) = lockproof(&["trace", file, "--html", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{what}: {stdout} {err}");
        assert!(!err.contains("lockproof:"), "{what}: {err}");
        let page = std::fs::read_to_string(&out).expect("the page was written");
        let kind = check_page(&page, &what);
        // The lanes are the text trace's columns, in its order, and hold its steps.
        let (code, text, _) = lockproof(&["trace", file]);
        assert_eq!(code, 0, "{what}");
        let (cols, rows) = text_columns(&text);
        let lanes = lanes(&page);
        let names: Vec<&String> = lanes.iter().map(|l| &l.0).collect();
        assert_eq!(names, cols.iter().collect::<Vec<_>>(), "{what}: lanes");
        let mut steps: Vec<usize> = lanes.iter().flat_map(|l| l.1.clone()).collect();
        steps.sort_unstable();
        assert_eq!(
            steps,
            (1..=rows).collect::<Vec<_>>(),
            "{what}: one op per step"
        );
        // A deadlock with a cycle draws it: its threads as nodes, each edge to the next.
        if let Some(cycle) = text_cycle(&text) {
            deadlocks += 1;
            assert!(
                page.contains(r#"<svg id="waits-for" data-cycle="true""#),
                "{what}"
            );
            let all = tags(&page);
            let nodes: Vec<String> = all
                .iter()
                .filter(|(n, t)| n == "g" && has_class(t, "node"))
                .filter_map(|(_, t)| attr(t, "data-thread"))
                .collect();
            let edges: Vec<(String, String)> = all
                .iter()
                .filter(|(n, t)| n == "g" && has_class(t, "edge") && has_class(t, "cycle"))
                .map(|(_, t)| (attr(t, "data-from").unwrap(), attr(t, "data-to").unwrap()))
                .collect();
            assert_eq!(nodes, cycle, "{what}: cycle nodes");
            let want: Vec<(String, String)> = (0..cycle.len())
                .map(|k| (cycle[k].clone(), cycle[(k + 1) % cycle.len()].clone()))
                .collect();
            assert_eq!(edges, want, "{what}: cycle edges");
        }
        // Every hang draws who waits for whom, with or without a cycle.
        if ["deadlock", "lost-wakeup", "dead-holder"].contains(&kind.as_str()) {
            assert!(
                page.contains(r#"<svg id="waits-for" data-cycle=""#),
                "{what}"
            );
        } else {
            assert!(!page.contains(r#"<svg id="waits-for""#), "{what}");
        }
        waits += usize::from(page.contains(r#"class="wait "#));
        holds += usize::from(page.contains(r#"<rect class="held""#));
        preempts += usize::from(page.contains(r#"<g class="preempt""#));
        marks += usize::from(page.contains(r#"<g class="time-mark""#));
        sources += usize::from(page.contains(r#"<div id="source" data-id="ex-"#));
    }
    // The corpus has every kind of mark somewhere.
    for (n, what) in [
        (deadlocks, "cycle"),
        (waits, "wait"),
        (holds, "held"),
        (preempts, "preempt"),
        (marks, "time-mark"),
        (sources, "source"),
    ] {
        assert!(n > 0, "no page has a {what}");
    }
    eprintln!(
        "{} pages in {:.1} s ({deadlocks} cycles)",
        files.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_report_run_writes_an_index_linking_its_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let out = dir.path().join("out");
    let ids = ["ex-1.3-03", "ex-1.1-01", "ex-7.1-01-crash"];
    let mut args = vec!["check"];
    args.extend(ids);
    args.extend([
        "--out",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let (code, stdout, err) = lockproof(&args);
    assert_eq!(code, 0, "{stdout}\n{err}");
    let index = std::fs::read_to_string(report.join("index.html")).expect("index.html");
    well_formed(&index, "index");
    assert!(index.contains(r#"<body data-page="index">"#));
    assert!(index.contains(r#"<table id="index">"#));
    let all = tags(&index);
    let rows: Vec<String> = all
        .iter()
        .filter(|(n, t)| n == "tr" && has_class(t, "scenario"))
        .filter_map(|(_, t)| attr(t, "data-id"))
        .collect();
    assert_eq!(rows, ids);
    let cells: Vec<(String, String)> = all
        .iter()
        .filter(|(n, t)| n == "td" && has_class(t, "engine"))
        .map(|(_, t)| {
            (
                attr(t, "data-engine").unwrap(),
                attr(t, "data-verdict").unwrap(),
            )
        })
        .collect();
    assert_eq!(cells.len(), ids.len() * 3, "one cell per scenario × engine");
    assert!(cells.iter().all(|(_, v)| v == "met"), "{cells:?}");
    let links: Vec<String> = all
        .iter()
        .filter(|(n, _)| n == "a")
        .filter_map(|(_, t)| attr(t, "href"))
        .collect();
    // Two failing scenarios × three engines; the one that holds has no page.
    assert_eq!(links.len(), 6, "{links:?}");
    for l in &links {
        let page = std::fs::read_to_string(report.join(l)).expect("a linked page exists");
        let kind = check_page(&page, l);
        assert!(page.contains(r#"href="index.html""#), "{l}: links back");
        if l.starts_with("ex-1.3-03") {
            assert_eq!(kind, "deadlock");
            assert!(page.contains(r#"<g class="edge cycle""#), "{l}");
            // The replay command names the schedule saved under --out.
            assert!(
                page.contains(&format!("lockproof replay {}", out.display())),
                "{l}"
            );
            assert!(
                page.contains(r#"<div id="source" data-id="ex-1.3-03">"#),
                "{l}"
            );
        }
    }
    assert!(!links.iter().any(|l| l.starts_with("ex-1.1-01")));
}

fn bad(args: &[&str], needle: &str) {
    let (code, _out, err) = lockproof(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("test panicked in task"))
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line expected, got {err:?}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked at"), "{err}");
}

#[test]
fn bad_paths_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = std::fs::File::create(dir.path().join("a-file")).expect("file");
    drop(file);
    let under_a_file = dir.path().join("a-file/report");
    let schedule = schedules().into_iter().next().expect("a schedule");
    bad(
        &[
            "check",
            "ex-1.1-01",
            "--no-save",
            "--report",
            under_a_file.to_str().unwrap(),
        ],
        "report folder",
    );
    bad(
        &["check", "ex-1.1-01", "--report"],
        "--report needs a folder",
    );
    bad(
        &[
            "trace",
            "no/such.schedule",
            "--html",
            dir.path().join("x.html").to_str().unwrap(),
        ],
        "no/such.schedule",
    );
    bad(
        &[
            "trace",
            schedule.to_str().unwrap(),
            "--html",
            under_a_file.to_str().unwrap(),
        ],
        "cannot write",
    );
    bad(
        &["trace", "--html"],
        "usage: lockproof trace FILE [--html OUT.html | --on SCENARIO]",
    );
    // Without --html the text trace is printed as before.
    let (code, text, _) = lockproof(&["trace", schedule.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.starts_with(" step") && !text.contains('<'), "{text}");
}

#[test]
fn text_is_escaped_and_long_labels_are_cut_with_the_full_text_in_the_title() {
    let t = |i| ThreadId::from_index(i);
    let long = "x".repeat(300);
    let event = |thread, object, op, kind, hold| TraceEvent {
        thread,
        object,
        op,
        args: Args::new(),
        kind,
        hold,
        time: 0,
        switch: None,
    };
    let report = ExecutionReport {
        threads: vec!["main".into(), "<b>&\"t\"".into(), "w2".into(), "w3".into()],
        objects: vec![ObjectInfo {
            kind: "Lock",
            name: format!("<lock>{long}"),
        }],
        trace: (0..4)
            .map(|i| {
                event(
                    t(i),
                    Some(ObjectId::from_index(0)),
                    "acquire",
                    StepKind::Returned(Outcome::Value("'<&>'".into())),
                    if i == 1 {
                        Hold::Acquired
                    } else {
                        Hold::Nothing
                    },
                )
            })
            .collect(),
        ..Default::default()
    };
    let page = html::render(
        &report,
        &html::Page {
            scenario: "<script>alert(1)</script>",
            replay: "lockproof replay a&b".into(),
            ..Default::default()
        },
    );
    well_formed(&page, "hand-made");
    assert!(!page.contains("<script>alert"));
    assert!(page.contains(r#"data-thread="&lt;b&gt;&amp;&quot;t&quot;""#));
    let lanes = lanes(&page);
    assert_eq!(lanes.len(), 4);
    assert_eq!(lanes[1].0, "<b>&\"t\"");
    // The label is cut; the title has it whole.
    assert!(page.contains(&format!("&lt;lock&gt;{long}.acquire()")));
    assert!(page.contains('…'));
    assert!(page.contains(r#"<rect class="held" data-object="&lt;lock&gt;"#));
    // Four lanes share the 1180-unit-wide view (the page scales it to the window): no
    // label is wider than its lane (274 units, 6.7 a character).
    assert!(
        page.contains(r#"<svg id="lanes" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1180 "#)
    );
    assert!(page.contains("#lanes{width:100%"));
    let svg = &page[page.find(r#"<svg id="lanes""#).unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    for piece in svg.split("<text").skip(1) {
        let text = &piece[piece.find('>').unwrap() + 1..piece.find("</text>").unwrap()];
        let text = match text.rfind("</title>") {
            Some(i) => &text[i + "</title>".len()..],
            None => text,
        };
        let shown = unescape(text).chars().count();
        assert!(shown as f64 * 6.7 < 274.0, "{text:?} is wider than a lane");
    }
}
