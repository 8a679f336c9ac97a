//! The HTML counterexample pages in a real browser: headless Chromium (Debian's `chromium`,
//! which `ci/deps.sh` installs) renders pages made by `lockproof trace FILE --html OUT`, and
//! the test checks the DOM after rendering against the pages' contract (one lane per thread
//! of the text trace, each step in its thread's lane, the waits-for cycle of a deadlock), that
//! a 1280-pixel-wide window does not scroll horizontally, and that the page loads nothing
//! from outside. It takes a screenshot of each page into `target/lockproof/artifacts/` (a CI
//! artifact).
//!
//! How the DOM is read: the page is copied with one probe `<script>` added at the end of its
//! body; on `load` the probe queries the rendered DOM with the browser's own selectors and
//! layout (`querySelectorAll`, `getBoundingClientRect`, `scrollWidth`, the resource timing
//! entries) and appends what it saw as hex-encoded JSON in `<pre id="lockproof-probe">`;
//! `chromium --headless --dump-dom` prints the DOM, and the test decodes the probe. The
//! screenshot is of the page as generated, without the probe.
//!
//! Every chromium run has a timeout; it runs in a process group of its own, which a guard
//! kills on drop (a timeout, a failed assertion). A missing chromium is a one-line failure,
//! never a skip.

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// One chromium at a time: the tests share 2 cores with the rest of the suite.
static CHROMIUM: Mutex<()> = Mutex::new(());

/// How long one chromium run may take.
const TIMEOUT: Duration = Duration::from_secs(90);

/// The window the layout is checked in.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

/// A running chromium, in its own process group: dropping it kills the group.
struct Guard {
    child: Child,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // The leader is not reaped yet, so the group id is still ours: kill what is left
        // of the group (renderers, zygotes), then reap the leader.
        let pgid = self.child.id() as libc::pid_t;
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// Run chromium headless with `args` and a fresh profile; its stdout, or a panic saying
/// why not (missing, timed out, failed).
fn chromium(args: &[String]) -> String {
    let _one = CHROMIUM.lock().unwrap_or_else(|e| e.into_inner());
    let profile = tempfile::tempdir().expect("scratch profile");
    let spawned = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut guard = match spawned {
        Ok(child) => Guard { child },
        Err(e) => {
            panic!("chromium is missing ({e}): install Debian's chromium (`bash ci/deps.sh` does)")
        }
    };
    let mut out = guard.child.stdout.take().expect("piped");
    let mut err = guard.child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    // Wait for the leader's exit in a thread (blocking, without reaping it: its pid is the
    // group's id until the group is killed), bounded by TIMEOUT here.
    let (exited, exit) = std::sync::mpsc::channel();
    let leader = guard.child.id() as libc::id_t;
    std::thread::spawn(move || {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waits for a child of this process; `info` is a valid out-parameter.
        unsafe {
            libc::waitid(
                libc::P_PID,
                leader,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        let _ = exited.send(());
    });
    if exit.recv_timeout(TIMEOUT).is_err() {
        // The guard kills the group as the panic unwinds (which also ends the waiter).
        panic!("chromium {args:?} did not finish within {TIMEOUT:?}");
    }
    let status = {
        let pgid = guard.child.id() as libc::pid_t;
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        guard.child.wait().expect("reap chromium")
    };
    let out = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    assert!(
        status.success(),
        "chromium {args:?} failed ({status}):\n{err}"
    );
    out
}

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

/// The text trace of a saved schedule: lane names in order, and each step's thread.
struct TextTrace {
    threads: Vec<String>,
    steps: Vec<(u64, String)>,
    /// The threads of the waits-for cycle, for a deadlock (`[cycle t1 → t2 → t1]`).
    cycle: Option<Vec<String>>,
}

fn text_trace(schedule: &str) -> TextTrace {
    let (code, text, err) = lockproof(&["trace", schedule]);
    assert_eq!(code, 0, "lockproof trace {schedule}: {err}");
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("step "))
        .unwrap_or_else(|| panic!("no header in the trace of {schedule}:\n{text}"));
    // Columns are separated by two spaces or more; a name may hold one ("t (daemon)").
    let chars: Vec<char> = header.chars().collect();
    let mut columns: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')) {
            i += 1;
        }
        columns.push((start, chars[start..i].iter().collect()));
    }
    let lanes: Vec<(usize, String)> = columns
        .into_iter()
        .filter(|(_, n)| n != "step" && n != "time")
        .collect();
    let mut steps = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(n) = t
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<u64>().ok())
        else {
            continue;
        };
        let row: Vec<char> = line.chars().collect();
        // The op sits in the leftmost column whose start begins a word of the row.
        let lane = lanes.iter().find(|(p, _)| {
            row.get(*p).is_some_and(|c| *c != ' ') && (*p == 0 || row.get(p - 1) == Some(&' '))
        });
        let (_, name) =
            lane.unwrap_or_else(|| panic!("step {n} of {schedule} is in no column: {line:?}"));
        steps.push((n, name.clone()));
    }
    let cycle = text.split("[cycle ").nth(1).map(|rest| {
        let names: Vec<String> = rest
            .split(']')
            .next()
            .unwrap_or_default()
            .split(" → ")
            .map(str::to_owned)
            .collect();
        // `t1 → t2 → t1`: the last closes the cycle.
        names[..names.len() - 1].to_vec()
    });
    TextTrace {
        threads: lanes.into_iter().map(|(_, n)| n).collect(),
        steps,
        cycle,
    }
}

/// Where the pages and screenshots go: `target/lockproof/artifacts/`.
fn artifacts() -> PathBuf {
    let dir = lockproof_harness::checker::default_dir().join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

/// `lockproof trace SCHEDULE --html OUT`: the page's path.
fn page(schedule: &str, name: &str) -> PathBuf {
    let out = artifacts().join(format!("{name}.html"));
    let _ = std::fs::remove_file(&out);
    let (code, stdout, err) = lockproof(&["trace", schedule, "--html", &out.display().to_string()]);
    assert_eq!(code, 0, "lockproof trace {schedule} --html: {err}{stdout}");
    assert!(out.is_file(), "{} was not written", out.display());
    out
}

const PROBE: &str = r#"<script>
addEventListener('load', () => {
  const q = s => Array.from(document.querySelectorAll(s));
  const de = document.documentElement;
  const lanes = document.querySelector('svg#lanes');
  const box = lanes ? lanes.getBoundingClientRect() : null;
  const overflowing = e => {
    const o = getComputedStyle(e).overflowX;
    return (o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1;
  };
  const scrollers = [];
  for (let e = lanes && lanes.parentElement; e && e !== de; e = e.parentElement) {
    if (overflowing(e)) scrollers.push(e.tagName + (e.id ? '#' + e.id : ''));
  }
  const r = {
    page: document.body.dataset.page || null,
    verdict: (document.querySelector('div#verdict') || {dataset: {}}).dataset.kind || null,
    replay: (document.querySelector('pre#replay') || {}).textContent || null,
    lanes: q('svg#lanes g.lane').map(g => g.dataset.thread),
    ops: q('svg#lanes g.lane g.op').map(g => [Number(g.dataset.step), g.closest('g.lane').dataset.thread, !!g.querySelector('title')]),
    nodes: q('svg#waits-for g.node').map(g => g.dataset.thread),
    has_cycle: (document.querySelector('svg#waits-for') || {dataset: {}}).dataset.cycle || null,
    edges: q('svg#waits-for g.edge').map(g => [g.dataset.from, g.dataset.to, g.classList.contains('cycle')]),
    index: q('table#index tr.scenario').map(tr => [tr.dataset.id, Array.from(tr.querySelectorAll('td.engine'),
      td => [td.dataset.engine, td.dataset.verdict, td.querySelector('a') ? td.querySelector('a').getAttribute('href') : null])]),
    inner_width: window.innerWidth,
    client_width: de.clientWidth,
    scroll_width: Math.max(de.scrollWidth, document.body.scrollWidth),
    lanes_left: box ? box.left : null,
    lanes_right: box ? box.right : null,
    lane_scrollers: scrollers,
    resources: performance.getEntriesByType('resource').map(e => e.name),
  };
  const hex = Array.from(new TextEncoder().encode(JSON.stringify(r)), b => b.toString(16).padStart(2, '0')).join('');
  const pre = document.createElement('pre');
  pre.id = 'lockproof-probe';
  pre.textContent = hex;
  document.body.appendChild(pre);
});
</script>"#;

/// An index cell: engine, verdict, the link to its page.
type Cell = (String, String, Option<String>);

/// What the probe saw in the rendered page.
#[derive(serde::Deserialize, Debug)]
struct Probe {
    page: Option<String>,
    verdict: Option<String>,
    replay: Option<String>,
    lanes: Vec<String>,
    ops: Vec<(u64, String, bool)>,
    nodes: Vec<String>,
    has_cycle: Option<String>,
    edges: Vec<(String, String, bool)>,
    /// Index page rows: scenario id, and per engine (engine, verdict, link).
    index: Vec<(String, Vec<Cell>)>,
    inner_width: f64,
    client_width: f64,
    scroll_width: f64,
    lanes_left: Option<f64>,
    lanes_right: Option<f64>,
    lane_scrollers: Vec<String>,
    resources: Vec<String>,
}

/// Render `page` with the probe in a `WIDTH` × `HEIGHT` window and decode what it saw.
fn probe(page: &Path) -> Probe {
    let html = std::fs::read_to_string(page).expect("read page");
    let at = html
        .rfind("</body>")
        .unwrap_or_else(|| panic!("{} has no </body>", page.display()));
    let probed = page.with_extension("probe.html");
    std::fs::write(&probed, format!("{}{PROBE}{}", &html[..at], &html[at..]))
        .expect("write the probed copy");
    let dom = chromium(&[
        format!("--window-size={WIDTH},{HEIGHT}"),
        "--virtual-time-budget=5000".into(),
        "--dump-dom".into(),
        format!("file://{}", probed.display()),
    ]);
    let _ = std::fs::remove_file(&probed);
    let hex = dom
        .split("<pre id=\"lockproof-probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run in {}:\n{dom}", page.display()));
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    serde_json::from_slice(&bytes).expect("the probe's JSON")
}

/// A screenshot of `page` as generated, `WIDTH` × `HEIGHT`, into the artifacts.
fn screenshot(page: &Path) -> PathBuf {
    let png = page.with_extension("png");
    let _ = std::fs::remove_file(&png);
    chromium(&[
        format!("--window-size={WIDTH},{HEIGHT}"),
        "--hide-scrollbars".into(),
        format!("--screenshot={}", png.display()),
        format!("file://{}", page.display()),
    ]);
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        png.display()
    );
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    assert_eq!((be(16), be(20)), (WIDTH, HEIGHT), "{} size", png.display());
    png
}

/// The window is `WIDTH` wide, the document no wider than its viewport, the lanes (if any)
/// inside it, and no box around the lanes scrolls sideways.
fn no_horizontal_scrolling(p: &Probe, at: &str) {
    assert_eq!(p.inner_width, f64::from(WIDTH), "{at}: the window's width");
    assert!(
        p.scroll_width <= p.client_width,
        "{at}: the page scrolls horizontally ({} px of content in {} px)",
        p.scroll_width,
        p.client_width
    );
    if let (Some(l), Some(r)) = (p.lanes_left, p.lanes_right) {
        assert!(
            l >= 0.0 && r <= p.client_width,
            "{at}: the lanes span {l}..{r} px of a {} px window",
            p.client_width
        );
    }
    assert!(
        p.lane_scrollers.is_empty(),
        "{at}: {:?} scroll the lanes sideways",
        p.lane_scrollers
    );
}

/// Render the page of `schedule` and check it against its text trace.
fn check_page(schedule: &str, name: &str) -> (TextTrace, Probe) {
    let trace = text_trace(schedule);
    let page = page(schedule, name);
    let p = probe(&page);
    let at = page.display();
    assert_eq!(p.page.as_deref(), Some("counterexample"), "{at}");
    no_horizontal_scrolling(&p, &at.to_string());
    assert!(p.verdict.is_some(), "{at}: no #verdict[data-kind]");
    let replay = p.replay.as_deref().unwrap_or_default();
    let file = Path::new(schedule)
        .file_name()
        .expect("a file")
        .to_string_lossy();
    assert!(
        replay.contains(&*file),
        "{at}: #replay {replay:?} does not name {file}"
    );
    assert_eq!(
        p.lanes, trace.threads,
        "{at}: one lane per thread, in the trace's order"
    );
    let mut ops: Vec<(u64, String)> = p.ops.iter().map(|(n, t, _)| (*n, t.clone())).collect();
    ops.sort();
    assert_eq!(
        ops, trace.steps,
        "{at}: each step an op in its thread's lane"
    );
    assert!(p.ops.iter().all(|o| o.2), "{at}: every op has a <title>");
    assert!(p.resources.is_empty(), "{at} loads {:?}", p.resources);
    screenshot(&page);
    (trace, p)
}

/// A deadlock page shows the waits-for cycle: `data-cycle="true"`, the nodes are the cycle's
/// threads in its order, and each `cycle` edge goes from one to the next.
fn deadlock(schedule: &str, name: &str) {
    let (trace, p) = check_page(schedule, name);
    assert_eq!(p.verdict.as_deref(), Some("deadlock"), "{name}");
    let cycle = trace.cycle.expect("the text trace names the cycle");
    assert_eq!(
        p.has_cycle.as_deref(),
        Some("true"),
        "{name}: svg#waits-for[data-cycle]"
    );
    assert_eq!(
        p.nodes, cycle,
        "{name}: the cycle's threads are its nodes, in its order"
    );
    let mut edges: Vec<(String, String)> = p
        .edges
        .iter()
        .filter(|e| e.2)
        .map(|(f, t, _)| (f.clone(), t.clone()))
        .collect();
    let mut want: Vec<(String, String)> = (0..cycle.len())
        .map(|i| (cycle[i].clone(), cycle[(i + 1) % cycle.len()].clone()))
        .collect();
    edges.sort();
    want.sort();
    assert_eq!(edges, want, "{name}: one cycle edge per waits-for step");
}

#[test]
fn deadlock_page_shows_the_cycle() {
    deadlock(
        "corpus/schedules/self-opposite-locks/loom-bound1-001.schedule",
        "self-opposite-locks",
    );
}

/// The tutorial's deadlock with timed joins: time marks and timed waits around the cycle.
#[test]
fn timed_deadlock_page_shows_the_cycle() {
    deadlock(
        "corpus/schedules/ex-1.4-01/loom-bound0-001.schedule",
        "ex-1.4-01",
    );
}

/// A readers-writer deadlock found with a preemption.
#[test]
fn preempted_deadlock_page_shows_the_cycle() {
    deadlock(
        "corpus/schedules/ex-8.3-04-status/loom-bound1-001.schedule",
        "ex-8.3-04-status",
    );
}

/// Four threads with the corpus's widest labels (Chinese text, long calls) fit the window.
#[test]
fn four_threads_with_wide_labels_fit_1280_px() {
    let (trace, _) = check_page(
        "corpus/schedules/ex-1.2-01/random-001.schedule",
        "ex-1.2-01",
    );
    assert_eq!(trace.threads.len(), 4, "{:?}", trace.threads);
}

/// Four threads and the corpus's longest 4-thread trace (hundreds of steps) fit the window.
#[test]
fn four_threads_with_many_steps_fit_1280_px() {
    let (trace, _) = check_page(
        "corpus/schedules/ex-5.3-03/loom-bound0-001.schedule",
        "ex-5.3-03",
    );
    assert_eq!(trace.threads.len(), 4, "{:?}", trace.threads);
    assert!(trace.steps.len() > 500, "{} steps", trace.steps.len());
}

/// A deadlock without a cycle (blocked on a join and an Event): the graph says so, and draws
/// no cycle edge.
#[test]
fn deadlock_without_a_cycle_draws_none() {
    let (trace, p) = check_page(
        "corpus/schedules/ex-8.3-04-status/pct-depth2-001.schedule",
        "ex-8.3-04-status-no-cycle",
    );
    assert_eq!(trace.cycle, None, "the text trace names no cycle");
    assert_eq!(p.verdict.as_deref(), Some("deadlock"));
    assert_eq!(
        p.has_cycle.as_deref(),
        Some("false"),
        "svg#waits-for[data-cycle]"
    );
    assert!(!p.nodes.is_empty(), "the blocked threads are drawn");
    assert!(p.edges.iter().all(|e| !e.2), "no cycle edge: {:?}", p.edges);
}

/// `check --report DIR`: the index lists every scenario with a cell per engine, links each
/// counterexample to a page that exists, and fits the window.
#[test]
fn report_index_links_its_pages() {
    let dir = artifacts().join("report");
    let _ = std::fs::remove_dir_all(&dir);
    let saved = tempfile::tempdir().expect("scratch");
    let ids = [
        "self-opposite-locks",
        "self-counter-locked",
        "engine-preempt-3",
    ];
    let (code, out, err) = lockproof(
        &[
            &["check"][..],
            &ids,
            &[
                "--out",
                &saved.path().display().to_string(),
                "--report",
                &dir.display().to_string(),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let index = dir.join("index.html");
    let p = probe(&index);
    let at = index.display().to_string();
    assert_eq!(p.page.as_deref(), Some("index"), "{at}");
    no_horizontal_scrolling(&p, &at);
    let rows: Vec<&str> = p.index.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(rows, ids, "{at}: one row per scenario");
    for (id, cells) in &p.index {
        let engines: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(engines, ["loom", "random", "pct"], "{at}: {id}'s engines");
        for (engine, verdict, link) in cells {
            let want = if id == "engine-preempt-3" && engine == "pct" {
                "unsupported"
            } else {
                "met"
            };
            assert_eq!(verdict, want, "{at}: {id} under {engine}");
            match (id.as_str(), link) {
                ("self-counter-locked", None) => {}
                ("self-counter-locked", Some(l)) => {
                    panic!("{at}: a link {l} for a scenario that holds")
                }
                (_, Some(l)) => {
                    let page = std::fs::read_to_string(dir.join(l))
                        .unwrap_or_else(|e| panic!("{at}: {id} under {engine} links {l}: {e}"));
                    assert!(page.contains("data-page=\"counterexample\""), "{l}");
                }
                (_, None) if verdict == "unsupported" => {}
                (_, None) => {
                    panic!("{at}: {id} under {engine} found a violation but links no page")
                }
            }
        }
    }
    screenshot(&index);
}
