//! The `lockproof` command line.

use crate::{junit, registry};
use lockproof::backend::checked::TimeMode;
use lockproof_harness::check::{self, Budget, EngineResult, Family, Request, Verdict};
use lockproof_harness::child::Runner;
use lockproof_harness::schedule::ScheduleFile;
use lockproof_scenario::{Scenario, Spurious};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The usage text.
pub const USAGE: &str = "\
lockproof: check concurrent code built on Python-exact locks under loom and shuttle

USAGE:
  lockproof list [--format table|json]
  lockproof check [PATTERN...] [OPTIONS]     check scenarios (default: all)
  lockproof replay FILE                      replay a saved schedule, compare its trace
  lockproof trace FILE [--html OUT.html]     replay a saved schedule and print its trace;
                                             with --html, write it as an HTML page instead
  lockproof trace FILE --on SCENARIO         replay a saved schedule on another scenario (a
                                             fix) and print its trace, failing or passing
  lockproof coverage [--check]               what the corpus accounts for, per chapter
  lockproof help

PATTERN: a scenario id, or a glob over ids (`ex-1.*`, `self-*`); `all` for every one.

CHECK OPTIONS:
  --engine LIST       engines, comma-separated: loom,random,pct,dfs (default loom,random,pct)
  --budget N          shuttle executions per run (default 2000)
  --loom-budget N     loom executions per preemption bound (default 20000)
                      (--budget is the dfs executions per bound)
  --bound N           highest preemption bound tried by loom and dfs, from 0 up (default 2);
                      then each runs once without a bound
  --depth N           highest PCT depth tried, from 1 up (default 3)
  --seed N            seed of the first shuttle run (default 1)
  --time MODE         override the scenarios' time mode: timed|adversarial
  --spurious on|off   override the scenarios' spurious-wakeup injection
  --shard K/N         check only the K-th of N shards of the selected scenarios
  --format table|json|junit
                      output format (default table); junit: JUnit XML on stdout,
                      one test case per scenario and engine (CI test reports)
  --junit FILE        also write the JUnit XML to FILE (with any --format)
  --out DIR           save schedules under DIR/schedules (default corpus)
  --no-save           save nothing
  --report DIR        write an HTML page per counterexample found and DIR/index.html
                      (every scenario, its verdict per engine, links to the pages)
  --in-process        run the engines in this process (faster; a loom abort ends the
                      run, and shuttle prints its own notes)

EXIT: 0 every expected verdict met; 1 some verdict not met; 2 bad input.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Junit,
}

#[derive(Debug)]
struct Args {
    patterns: Vec<String>,
    families: Vec<Family>,
    budget: Budget,
    time: Option<TimeMode>,
    spurious: Option<Spurious>,
    shard: Option<(usize, usize)>,
    format: Format,
    junit: Option<PathBuf>,
    out: Option<PathBuf>,
    in_process: bool,
    report: Option<PathBuf>,
}

fn num(flag: &str, v: Option<String>) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    let n: u64 = v
        .parse()
        .map_err(|_| format!("{flag} takes a whole number, not {v:?}"))?;
    Ok(n)
}

fn positive(flag: &str, v: Option<String>) -> Result<usize, String> {
    let n = num(flag, v)?;
    if n == 0 {
        return Err(format!(
            "{flag} must be at least 1 (a budget of zero checks nothing)"
        ));
    }
    Ok(n as usize)
}

fn parse_check(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        patterns: vec![],
        families: vec![Family::Loom, Family::Random, Family::Pct],
        budget: Budget::ci(),
        time: None,
        spurious: None,
        shard: None,
        format: Format::Table,
        junit: None,
        out: Some(PathBuf::from("corpus")),
        in_process: false,
        report: None,
    };
    let mut it = args.iter().cloned();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--engine" => {
                let v = it.next().ok_or("--engine needs a value")?;
                a.families = v
                    .split(',')
                    .map(|e| {
                        e.trim().parse::<Family>().map_err(|_| {
                            format!("unknown engine {e:?} (engines: loom, random, pct, dfs)")
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--budget" => a.budget.shuttle_executions = positive("--budget", it.next())?,
            "--loom-budget" => a.budget.loom_executions = positive("--loom-budget", it.next())?,
            "--bound" => a.budget.max_bound = num("--bound", it.next())? as usize,
            "--depth" => {
                let d = positive("--depth", it.next())?;
                if d > 3 {
                    return Err("--depth goes from 1 to 3".into());
                }
                a.budget.pct_max_depth = d;
            }
            "--seed" => a.budget.seed = num("--seed", it.next())?,
            "--time" => {
                a.time = Some(match it.next().as_deref() {
                    Some("timed") => TimeMode::Timed,
                    Some("adversarial") => TimeMode::Adversarial,
                    other => {
                        return Err(format!("--time takes timed or adversarial, not {other:?}"))
                    }
                })
            }
            "--spurious" => {
                a.spurious = Some(match it.next().as_deref() {
                    Some("on") => Spurious::On,
                    Some("off") => Spurious::Off,
                    other => return Err(format!("--spurious takes on or off, not {other:?}")),
                })
            }
            "--shard" => {
                let v = it.next().ok_or("--shard needs K/N")?;
                let (k, n) = v
                    .split_once('/')
                    .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
                    .filter(|(k, n)| *k >= 1 && k <= n)
                    .ok_or_else(|| format!("--shard takes K/N with 1 <= K <= N, not {v:?}"))?;
                a.shard = Some((k, n));
            }
            "--format" => {
                a.format = match it.next().as_deref() {
                    Some("json") => Format::Json,
                    Some("table") => Format::Table,
                    Some("junit") => Format::Junit,
                    other => {
                        return Err(format!(
                            "--format takes table, json or junit, not {other:?}"
                        ))
                    }
                }
            }
            "--junit" => a.junit = Some(PathBuf::from(it.next().ok_or("--junit needs a file")?)),
            "--out" => a.out = Some(PathBuf::from(it.next().ok_or("--out needs a folder")?)),
            "--no-save" => a.out = None,
            "--report" => {
                a.report = Some(PathBuf::from(it.next().ok_or("--report needs a folder")?))
            }
            "--in-process" => a.in_process = true,
            s if s.starts_with('-') => {
                return Err(format!("unknown option {s:?} (see lockproof help)"))
            }
            _ => a.patterns.push(arg),
        }
    }
    Ok(a)
}

/// Match a glob with `*` (any run of characters) and `?` (one character) against an id.
///
/// Work is at most the product of the two lengths, whatever the pattern: a mismatch after a
/// `*` restarts just past the text the latest `*` has taken so far, never from an earlier
/// `*` (a match found from an earlier one is also found from the latest), so runs of stars
/// cannot backtrack exponentially.
///
/// # Examples
///
/// ```
/// use lockproof_cli::cli::glob_match;
///
/// assert!(glob_match("ex-1.*", "ex-1.4-03"));
/// assert!(glob_match("ex-?.?-0?", "ex-1.4-03"));
/// assert!(!glob_match("ex-2.*", "ex-1.4-03"));
/// // Bounded work: 20 stars against a 41-character id that they do not match (the
/// // backtracking this replaced took exponential time in the stars).
/// assert!(!glob_match(&"*a".repeat(20), &format!("{}b", "a".repeat(40))));
/// ```
pub fn glob_match(pattern: &str, id: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = id.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // The latest `*`: the pattern index after it, and the id index it is matched up to.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                pi += 1;
                star = Some((pi, si));
            }
            Some(&c) if c == '?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // The star takes one more character; the rest of the pattern tries again.
                Some((after, taken)) => {
                    pi = after;
                    si = taken + 1;
                    star = Some((after, taken + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Select scenarios by patterns; an error names a pattern that matches nothing.
pub fn select(all: &[Scenario], patterns: &[String]) -> Result<Vec<Scenario>, String> {
    if patterns.is_empty() || patterns.iter().any(|p| p == "all") {
        return Ok(all.to_vec());
    }
    let mut out: Vec<Scenario> = Vec::new();
    for p in patterns {
        if p.is_empty() || p.chars().any(|c| c.is_whitespace() || c == '[' || c == ']') {
            return Err(format!(
                "bad pattern {p:?}: use an id, or a glob with * and ?"
            ));
        }
        let hits: Vec<&Scenario> = all.iter().filter(|s| glob_match(p, s.id)).collect();
        if hits.is_empty() {
            return Err(format!(
                "no scenario matches {p:?} (`lockproof list` shows them)"
            ));
        }
        for s in hits {
            if !out.iter().any(|o| o.id == s.id) {
                out.push(s.clone());
            }
        }
    }
    Ok(out)
}

fn runner(in_process: bool) -> Runner {
    match (in_process, std::env::current_exe()) {
        (false, Ok(exe)) => Runner::Child(exe),
        _ => Runner::InProcess,
    }
}

/// A command line, read and checked but not run yet: what [`parse`] returns.
#[derive(Debug)]
pub struct Command(Cmd);

#[derive(Debug)]
enum Cmd {
    Help,
    List { json: bool },
    Check(Args),
    Replay { file: String },
    Trace { file: String, how: TraceHow },
    Coverage { check: bool },
    Serve,
}

#[derive(Debug)]
enum TraceHow {
    Text,
    Html(PathBuf),
    On(String),
}

/// Read a command line (the arguments after the program name) without running it.
///
/// Every error is a usage error: one line, which [`finish`] prints and turns into exit
/// code 2. Reading does no I/O and does work proportional to the arguments' length.
///
/// # Examples
///
/// ```
/// use lockproof_cli::cli;
///
/// let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
/// assert!(cli::parse(&args(&["check", "ex-1.*", "--engine", "dfs"])).is_ok());
/// let err = cli::parse(&args(&["check", "--budget", "0"])).unwrap_err();
/// assert!(err.contains("at least 1") && !err.contains('\n'));
/// ```
pub fn parse(args: &[String]) -> Result<Command, String> {
    let rest = args.get(1..).unwrap_or_default();
    Ok(Command(match args.first().map(String::as_str) {
        None | Some("help" | "--help" | "-h") => Cmd::Help,
        Some("list") => Cmd::List {
            json: parse_list(rest)?,
        },
        Some("check") => Cmd::Check(parse_check(rest)?),
        Some("replay") => Cmd::Replay {
            file: parse_replay(rest)?,
        },
        Some("trace") => parse_trace(rest)?,
        Some("coverage") => Cmd::Coverage {
            check: parse_coverage(rest)?,
        },
        Some("__run") => Cmd::Serve,
        Some(other) => return Err(format!("unknown command {other:?} (see lockproof help)")),
    }))
}

/// Run a command read by [`parse`]; returns its exit code, or the one-line error that
/// [`finish`] turns into exit code 2.
pub fn run(command: Command) -> Result<i32, String> {
    match command.0 {
        Cmd::Help => {
            println!("{USAGE}");
            Ok(0)
        }
        Cmd::List { json } => list(json),
        Cmd::Check(a) => run_check(a),
        Cmd::Replay { file } => replay(&file, false),
        Cmd::Trace {
            file,
            how: TraceHow::Text,
        } => replay(&file, true),
        Cmd::Trace {
            file,
            how: TraceHow::Html(out),
        } => crate::report::trace_html(&file, &out),
        Cmd::Trace {
            file,
            how: TraceHow::On(id),
        } => trace_on(&file, &id),
        Cmd::Coverage { check } => coverage(check),
        Cmd::Serve => Ok(lockproof_harness::child::serve_stdin(&registry::all())),
    }
}

/// Turn a command's result into the process's exit code: its own code, or 2 ("bad input")
/// with the error written to `stderr` as one line `lockproof: <error>`.
///
/// # Examples
///
/// ```
/// use lockproof_cli::cli;
///
/// let mut stderr = Vec::new();
/// assert_eq!(cli::finish(Ok(1), &mut stderr), 1);
/// assert_eq!(cli::finish(Err("no scenario matches \"x\"".into()), &mut stderr), 2);
/// assert_eq!(String::from_utf8(stderr).unwrap(), "lockproof: no scenario matches \"x\"\n");
/// ```
pub fn finish(result: Result<i32, String>, stderr: &mut dyn Write) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            // Nothing more can be reported when stderr itself is gone.
            let _ = writeln!(stderr, "lockproof: {e}");
            2
        }
    }
}

/// Run the CLI on the arguments after the program name; returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    finish(parse(&args).and_then(run), &mut std::io::stderr())
}

fn parse_list(args: &[String]) -> Result<bool, String> {
    match args {
        [] => Ok(false),
        [f, v] if f == "--format" && v == "json" => Ok(true),
        [f, v] if f == "--format" && v == "table" => Ok(false),
        _ => Err("usage: lockproof list [--format table|json]".into()),
    }
}

fn list(json: bool) -> Result<i32, String> {
    let all = registry::all();
    if json {
        let v: Vec<serde_json::Value> = all
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "title": s.title, "expect": s.expect.describe(),
                    "reason": s.reason, "source": s.source,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let w = all.iter().map(|s| s.id.len()).max().unwrap_or(0);
        for s in &all {
            println!("{:<w$}  {:<28}  {}", s.id, s.expect.describe(), s.title);
        }
        println!("{} scenarios", all.len());
    }
    Ok(0)
}

fn run_check(a: Args) -> Result<i32, String> {
    let all = registry::all();
    let mut chosen = select(&all, &a.patterns)?;
    if let Some((k, n)) = a.shard {
        chosen = chosen
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, s)| s)
            .collect();
    }
    for s in &mut chosen {
        if let Some(t) = a.time {
            s.time = t;
        }
        if let Some(sp) = a.spurious {
            s.spurious = sp;
        }
    }
    let req = Request {
        families: a.families.clone(),
        budget: a.budget.clone(),
        save_root: a.out.clone(),
        runner: runner(a.in_process),
    };
    // Made (and known writable) before the run, not found unwritable after it.
    let mut reporter = match &a.report {
        Some(dir) => Some(crate::report::Reporter::new(dir)?),
        None => None,
    };
    if let Some(file) = &a.junit {
        std::fs::write(file, "").map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let table = a.format == Format::Table;
    let tty = std::io::stderr().is_terminal() && table;
    let mut results = Vec::new();
    let mut starts = Vec::new();
    let started = std::time::Instant::now();
    for (i, s) in chosen.iter().enumerate() {
        if tty {
            eprint!("\r\x1b[2K[{}/{}] {} …", i + 1, chosen.len(), s.id);
            let _ = std::io::stderr().flush();
        }
        starts.push(std::time::SystemTime::now());
        let r = check::check_scenario(s, &req);
        if table {
            print_scenario(s, &r);
        }
        if let Some(rep) = &mut reporter {
            rep.add(s, &r)?;
        }
        results.push((s.clone(), r));
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
    let unmet = results
        .iter()
        .flat_map(|(_, r)| r)
        .filter(|r| matches!(r.verdict, Verdict::Unmet(_)))
        .count();
    let junit = || {
        let suites: Vec<junit::Suite<'_>> = results
            .iter()
            .zip(&starts)
            .map(|((scenario, results), started)| junit::Suite {
                scenario,
                results,
                started: *started,
            })
            .collect();
        junit::render(&suites, &a.budget)
    };
    if let Some(file) = &a.junit {
        std::fs::write(file, junit())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    match a.format {
        Format::Json => print_json(&results),
        Format::Junit => print!("{}", junit()),
        Format::Table => print_summary(&results, started.elapsed()),
    }
    if let Some(rep) = &reporter {
        let met = results
            .iter()
            .flat_map(|(_, r)| r)
            .filter(|r| matches!(r.verdict, Verdict::Met))
            .count();
        let index = rep.finish(&format!(
            "{} scenarios · {met} engine runs as expected · {unmet} not as expected",
            results.len()
        ))?;
        eprintln!("report: {}", index.display());
    }
    Ok(if unmet == 0 { 0 } else { 1 })
}

fn engine_cell(r: &EngineResult) -> String {
    crate::report::engine_name(&r.outcome.settings)
}

fn print_scenario(s: &Scenario, results: &[EngineResult]) {
    println!("{}  {}   expect: {}", s.id, s.title, s.expect.describe());
    for r in results {
        let o = &r.outcome;
        let what = match (&r.verdict, &o.found) {
            (Verdict::Unsupported(why), _) => format!("not run: {why}"),
            (Verdict::Met, Some(f)) => format!("{} found (expected)", f.property),
            (Verdict::Met, None) => format!(
                "holds{}",
                if o.exhausted {
                    ", space exhausted"
                } else {
                    ", not exhausted"
                }
            ),
            (Verdict::Unmet(why), _) => format!("UNEXPECTED: {why}"),
        };
        if matches!(r.verdict, Verdict::Unsupported(_)) {
            println!("  {:<8} {what}", r.family.as_str());
        } else {
            println!(
                "  {:<17} {:>8} executions   {:<44} {:>7.2} s",
                engine_cell(r),
                o.executions,
                what,
                o.elapsed.as_secs_f64()
            );
        }
        if let (Some(sh), Some(f)) = (&o.shortening, &o.found) {
            println!(
                "      search: seed {} failed at execution {}; shortest of {} more seeds ({} executions): seed {}, {} preemptions",
                sh.search_seed,
                sh.search_found_at,
                sh.runs,
                sh.executions,
                o.settings.seed,
                f.preemptions
            );
        }
        for l in &o.limitations {
            println!("      note: {l}");
        }
        if let Some(p) = &r.saved {
            println!("  saved  {}", p.display());
        }
        if let Some(p) = &r.already_saved {
            println!("  same as {}", p.display());
        }
    }
}

fn print_summary(results: &[(Scenario, Vec<EngineResult>)], elapsed: std::time::Duration) {
    let mut met = 0;
    let mut unmet = Vec::new();
    let mut unsupported = 0;
    for (s, rs) in results {
        for r in rs {
            match &r.verdict {
                Verdict::Met => met += 1,
                Verdict::Unsupported(_) => unsupported += 1,
                Verdict::Unmet(why) => {
                    unmet.push(format!("{} ({}): {why}", s.id, r.family.as_str()))
                }
            }
        }
    }
    println!();
    println!(
        "{} scenarios · {} engine runs as expected · {} not as expected · {} not runnable on an engine · {:.1} s",
        results.len(),
        met,
        unmet.len(),
        unsupported,
        elapsed.as_secs_f64()
    );
    for u in unmet {
        println!("  NOT AS EXPECTED  {u}");
    }
}

fn print_json(results: &[(Scenario, Vec<EngineResult>)]) {
    let v: Vec<serde_json::Value> = results
        .iter()
        .map(|(s, rs)| {
            serde_json::json!({
                "id": s.id,
                "title": s.title,
                "expect": s.expect.describe(),
                "engines": rs.iter().map(|r| {
                    let o = &r.outcome;
                    serde_json::json!({
                        "engine": r.family.as_str(),
                        "settings": &o.settings,
                        "executions": o.executions,
                        "exhausted": o.exhausted,
                        "seconds": o.elapsed.as_secs_f64(),
                        "verdict": match &r.verdict {
                            Verdict::Met => "met".to_owned(),
                            Verdict::Unmet(w) => format!("unmet: {w}"),
                            Verdict::Unsupported(w) => format!("unsupported: {w}"),
                        },
                        "found": o.found.as_ref().map(|f| serde_json::json!({
                            "kind": f.kind.as_str(), "family": f.kind.family(),
                            "property": f.property, "message": f.message,
                            "preemptions": f.preemptions, "execution": f.execution,
                        })),
                        "limitations": o.limitations,
                        "search": o.shortening.as_ref().map(|sh| serde_json::json!({
                            "seed": sh.search_seed, "found_at": sh.search_found_at,
                            "shortening_runs": sh.runs, "shortening_executions": sh.executions,
                        })),
                        "saved": r.saved.as_ref().map(|p| p.display().to_string()),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}

fn parse_trace(args: &[String]) -> Result<Cmd, String> {
    let (file, how) = match args {
        [file, flag, out] | [flag, out, file] if flag == "--html" => {
            (file, TraceHow::Html(PathBuf::from(out)))
        }
        [file, flag, id] | [flag, id, file] if flag == "--on" => (file, TraceHow::On(id.clone())),
        [file] if !file.starts_with('-') => (file, TraceHow::Text),
        _ => return Err("usage: lockproof trace FILE [--html OUT.html | --on SCENARIO]".into()),
    };
    Ok(Cmd::Trace {
        file: file.clone(),
        how,
    })
}

/// `lockproof trace FILE --on ID`: the saved schedule replayed on another scenario (a
/// fixed version of the program: the fenced storage on the pause that made two writers),
/// its trace printed whether it fails or passes. Exit 0 when it passes, 1 when it fails.
fn trace_on(file: &str, id: &str) -> Result<i32, String> {
    let sf = ScheduleFile::load(std::path::Path::new(file))?;
    let all = registry::all();
    let s = all
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| format!("no scenario {id:?} (lockproof list shows them)"))?;
    let r = check::replay_on(s, &sf)?;
    print!("{}", r.trace);
    match &r.found {
        None => {
            println!("{id}: passed on the schedule of {}", sf.scenario);
            Ok(0)
        }
        Some(f) => {
            println!("{id}: {} on the schedule of {}", f.property, sf.scenario);
            Ok(1)
        }
    }
}

fn parse_replay(args: &[String]) -> Result<String, String> {
    match args {
        [file] => Ok(file.clone()),
        _ => Err("usage: lockproof replay FILE".into()),
    }
}

fn replay(file: &str, show: bool) -> Result<i32, String> {
    let sf = ScheduleFile::load(std::path::Path::new(file))?;
    let r = check::replay(sf, &registry::all(), &runner(false))?;
    let Some(found) = &r.found else {
        println!("replay of {file}: the execution passed; the saved failure did not reproduce");
        return Ok(1);
    };
    if show {
        print!("{}", found.trace.as_deref().unwrap_or("(no trace)\n"));
        return Ok(0);
    }
    println!("scenario   {}", r.file.scenario);
    println!("engine     {}", r.file.settings.engine.describe());
    println!("verdict    {} ({})", found.property, found.kind);
    println!("message    {}", found.message);
    if r.same_trace && found.property == r.file.property {
        println!(
            "replay     reproduced: same failure, same trace (digest {})",
            r.file.trace_digest
        );
        Ok(0)
    } else {
        println!(
            "replay     DIFFERENT: saved {} with trace {}, got {}",
            r.file.property,
            r.file.trace_digest,
            found
                .trace
                .as_deref()
                .map(lockproof_harness::trace::digest)
                .unwrap_or_default()
        );
        Ok(1)
    }
}

fn parse_coverage(args: &[String]) -> Result<bool, String> {
    match args {
        [] => Ok(false),
        [c] if c == "--check" => Ok(true),
        _ => Err("usage: lockproof coverage [--check]".into()),
    }
}

fn coverage(check: bool) -> Result<i32, String> {
    let cov = crate::coverage::compute(std::path::Path::new("."), &registry::all());
    print!("{}", crate::coverage::table(&cov));
    if cov.problems.is_empty() {
        println!("every example and rule is accounted for");
        return Ok(0);
    }
    println!("{} problems:", cov.problems.len());
    for p in cov
        .problems
        .iter()
        .take(if check { usize::MAX } else { 20 })
    {
        println!("  {p}");
    }
    Ok(if check { 1 } else { 0 })
}
