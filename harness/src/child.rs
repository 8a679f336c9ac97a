//! Running engines in a child process.
//!
//! Some loom failures abort the whole process (a panic while a model thread unwinds, a
//! thread limit tripped in cleanup), and shuttle prints its own failure notes to stderr on
//! every failing execution. The `lockproof` binary therefore runs each engine run in a
//! child process of itself (`lockproof __run REQUEST`), which prints one JSON line with the
//! outcome. If the child dies, the run reports that as a failure with the child's last
//! words, and the caller goes on.

use crate::engine::{self, EngineSchedule, FailureKind, Found, RunOutcome, RunSettings};
use lockproof_scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where engine runs execute.
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
/// # fn settings() -> lockproof_harness::engine::RunSettings {
/// #     lockproof_harness::engine::RunSettings {
/// #         engine: lockproof_harness::engine::EngineKind::Dfs { bound: Some(1) },
/// #         time: lockproof::backend::checked::TimeMode::Timed,
/// #         spurious: false, crashes: 0, pauses: 0, pause_span: 0, liveness: 0,
/// #         max_steps: 10_000, executions: 100, seed: 1,
/// #     }
/// # }
/// use lockproof_harness::child::Runner;
/// use lockproof_harness::Check;
///
/// // In this process: fast, but a loom abort would end it.
/// let out = Runner::InProcess.run(&Check::new(Abba).as_scenario(), &settings());
/// assert_eq!(out.found.unwrap().property, "deadlock");
/// ```
#[derive(Clone, Debug)]
pub enum Runner {
    /// In this process (fast; a loom abort ends the process).
    InProcess,
    /// In a child process of this `lockproof` binary.
    Child(PathBuf),
    /// In a child process of a test binary, re-run with a filter for one test (`test`),
    /// which answers from its own `Check` (see `isolate`).
    TestBinary {
        /// The test binary.
        exe: PathBuf,
        /// The test's full name, as libtest filters it with `--exact`.
        test: String,
    },
}

/// What the parent asks the child.
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
/// # fn settings() -> lockproof_harness::engine::RunSettings {
/// #     lockproof_harness::engine::RunSettings {
/// #         engine: lockproof_harness::engine::EngineKind::Dfs { bound: Some(1) },
/// #         time: lockproof::backend::checked::TimeMode::Timed,
/// #         spurious: false, crashes: 0, pauses: 0, pause_span: 0, liveness: 0,
/// #         max_steps: 10_000, executions: 100, seed: 1,
/// #     }
/// # }
/// use lockproof_harness::child::{serve, ChildRequest};
/// use lockproof_harness::Check;
///
/// // What a parent writes to the child's standard input, as JSON.
/// let req = ChildRequest { scenario: "Abba".into(), settings: settings(), replay: None };
/// let json = serde_json::to_string(&req).unwrap();
/// assert!(json.contains("\"scenario\":\"Abba\""));
/// assert_eq!(serve(&json, &[Check::new(Abba).as_scenario()]), 0); // prints the outcome
/// ```
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildRequest {
    /// The scenario id.
    pub scenario: String,
    /// The run settings.
    pub settings: RunSettings,
    /// For a replay: the engine's schedule.
    pub replay: Option<EngineSchedule>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireFound {
    kind: FailureKind,
    property: String,
    message: String,
    schedule: Option<EngineSchedule>,
    execution: usize,
    trace: Option<String>,
    preemptions: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireOutcome {
    executions: usize,
    exhausted: bool,
    elapsed_ns: u64,
    found: Option<WireFound>,
    limitations: Vec<String>,
    /// The engine's own preemption count of the failure (see `RunOutcome`).
    #[serde(default)]
    engine_preemptions: Option<usize>,
    error: Option<String>,
}

const MARK: &str = "LOCKPROOF-CHILD ";

fn to_wire(f: &Found) -> WireFound {
    WireFound {
        kind: f.kind,
        property: f.property.clone(),
        message: f.message.clone(),
        schedule: f.schedule.clone(),
        execution: f.execution,
        trace: f.trace.clone(),
        preemptions: f.preemptions,
    }
}

fn from_wire(w: WireFound) -> Found {
    Found {
        kind: w.kind,
        property: w.property,
        message: w.message,
        report: None,
        schedule: w.schedule,
        execution: w.execution,
        trace: w.trace,
        preemptions: w.preemptions,
    }
}

/// The child's side: read one request from standard input, serve it and print the outcome.
/// Returns the exit code.
///
/// # Examples
///
/// ```
/// // The `main` of a binary that serves as the child runner of its own scenarios.
/// # struct Abba;
/// # impl lockproof_harness::Model for Abba { fn run<B: lockproof::backend::Backend>(&self) {} }
/// fn main() {
///     if std::env::args().nth(1).as_deref() == Some("__run") {
///         let scenarios = [lockproof_harness::Check::new(Abba).as_scenario()];
///         std::process::exit(lockproof_harness::child::serve_stdin(&scenarios));
///     }
///     // … the program's own work
/// }
/// ```
pub fn serve_stdin(scenarios: &[Scenario]) -> i32 {
    let mut request = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut request) {
        let out = WireOutcome::error(format!("cannot read the child request: {e}"));
        println!("{MARK}{}", serde_json::to_string(&out).unwrap_or_default());
        return 0;
    }
    serve(&request, scenarios)
}

/// The child's side: serve one request and print the outcome. Returns the exit code.
///
/// # Examples
///
/// ```
/// use lockproof_harness::child::serve;
///
/// // Errors are answered on standard output, for the parent to report: the exit code stays 0.
/// assert_eq!(serve("not json", &[]), 0);
/// ```
pub fn serve(request: &str, scenarios: &[Scenario]) -> i32 {
    let out = match serde_json::from_str::<ChildRequest>(request) {
        Err(e) => WireOutcome::error(format!("bad child request: {e}")),
        Ok(req) => match scenarios.iter().find(|s| s.id == req.scenario) {
            None => WireOutcome::error(format!("unknown scenario {:?}", req.scenario)),
            Some(s) => match &req.replay {
                None => {
                    let o = run_here(s, &req.settings);
                    WireOutcome {
                        executions: o.executions,
                        exhausted: o.exhausted,
                        elapsed_ns: o.elapsed.as_nanos() as u64,
                        found: o.found.as_ref().map(to_wire),
                        limitations: o.limitations,
                        engine_preemptions: o.engine_preemptions,
                        error: None,
                    }
                }
                Some(sched) => match replay_here(s, &req.settings, sched) {
                    Ok(found) => WireOutcome {
                        executions: 1,
                        found: found.as_ref().map(to_wire),
                        error: None,
                        ..WireOutcome::error(String::new())
                    },
                    Err(e) => WireOutcome::error(e),
                },
            },
        },
    };
    println!("{MARK}{}", serde_json::to_string(&out).unwrap_or_default());
    0
}

fn run_here(s: &Scenario, settings: &RunSettings) -> RunOutcome {
    match settings.engine {
        engine::EngineKind::Loom { .. } => engine::loom::run(&s.body.loom, settings),
        _ => engine::shuttle::run(&s.body.shuttle, settings),
    }
}

pub(crate) fn replay_here(
    s: &Scenario,
    settings: &RunSettings,
    schedule: &EngineSchedule,
) -> Result<Option<Found>, String> {
    match (settings.engine, schedule) {
        (engine::EngineKind::Loom { .. }, EngineSchedule::Loom(json)) => {
            engine::loom::replay(&s.body.loom, settings, json)
        }
        (engine::EngineKind::Dfs { .. }, EngineSchedule::Steps(steps)) => {
            engine::shuttle::replay_steps(&s.body.shuttle, settings, steps)
        }
        (
            engine::EngineKind::Random | engine::EngineKind::Pct { .. },
            EngineSchedule::Shuttle(enc),
        ) => engine::shuttle::replay(&s.body.shuttle, settings, enc),
        _ => Err("the schedule does not belong to the engine it names".into()),
    }
}

impl WireOutcome {
    fn error(e: String) -> Self {
        WireOutcome {
            executions: 0,
            exhausted: false,
            elapsed_ns: 0,
            found: None,
            limitations: vec![],
            engine_preemptions: None,
            error: Some(e),
        }
    }
}

impl Runner {
    fn command(&self) -> Option<Command> {
        match self {
            Runner::InProcess => None,
            Runner::Child(exe) => {
                let mut c = Command::new(exe);
                c.arg("__run");
                Some(c)
            }
            Runner::TestBinary { exe, test } => {
                let mut c = Command::new(exe);
                c.args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
                    .env(crate::isolate::CHILD_ENV, "1");
                Some(c)
            }
        }
    }

    fn call(&self, req: &ChildRequest) -> Result<WireOutcome, String> {
        // The request travels on the child's standard input: a schedule of any size fits
        // (an argument is limited by the system's ARG_MAX).
        let json = serde_json::to_string(req).map_err(|e| e.to_string())?;
        let mut cmd = self.command().expect("a child runner");
        let program = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let writer = std::thread::spawn(move || stdin.write_all(json.as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|e| format!("cannot read the engine's process: {e}"))?;
        let _ = writer.join();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // A test binary's child prints libtest's `test NAME ... ` before it on the same line.
        match stdout
            .lines()
            .find_map(|l| l.find(MARK).map(|i| &l[i + MARK.len()..]))
        {
            Some(line) => {
                let w: WireOutcome = serde_json::from_str(line)
                    .map_err(|e| format!("unreadable child answer: {e}"))?;
                match w.error {
                    Some(e) => Err(e),
                    None => Ok(w),
                }
            }
            None => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
                Err(format!(
                    "the engine's process died ({}): {}",
                    out.status,
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ))
            }
        }
    }

    /// Run `s` as `settings` says.
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
    /// # fn settings() -> lockproof_harness::engine::RunSettings {
    /// #     lockproof_harness::engine::RunSettings {
    /// #         engine: lockproof_harness::engine::EngineKind::Dfs { bound: Some(1) },
    /// #         time: lockproof::backend::checked::TimeMode::Timed,
    /// #         spurious: false, crashes: 0, pauses: 0, pause_span: 0, liveness: 0,
    /// #         max_steps: 10_000, executions: 100, seed: 1,
    /// #     }
    /// # }
    /// use lockproof_harness::child::Runner;
    /// use lockproof_harness::Check;
    ///
    /// let out = Runner::InProcess.run(&Check::new(Abba).as_scenario(), &settings());
    /// assert!(out.executions >= 1 && out.found.is_some());
    /// ```
    pub fn run(&self, s: &Scenario, settings: &RunSettings) -> RunOutcome {
        match self {
            Runner::InProcess => run_here(s, settings),
            Runner::Child(_) | Runner::TestBinary { .. } => {
                let start = Instant::now();
                let req = ChildRequest {
                    scenario: s.id.to_owned(),
                    settings: settings.clone(),
                    replay: None,
                };
                match self.call(&req) {
                    Ok(w) => RunOutcome {
                        executions: w.executions,
                        exhausted: w.exhausted,
                        elapsed: Duration::from_nanos(w.elapsed_ns),
                        found: w.found.map(from_wire),
                        limitations: w.limitations,
                        engine_preemptions: w.engine_preemptions,
                        ..RunOutcome::nothing(settings.clone())
                    },
                    Err(e) => RunOutcome {
                        elapsed: start.elapsed(),
                        found: Some(Found {
                            kind: FailureKind::Panic,
                            property: "panic".into(),
                            message: e,
                            report: None,
                            schedule: None,
                            execution: 0,
                            trace: None,
                            preemptions: 0,
                        }),
                        ..RunOutcome::nothing(settings.clone())
                    },
                }
            }
        }
    }

    /// Replay `schedule` for `s`.
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
    /// # fn settings() -> lockproof_harness::engine::RunSettings {
    /// #     lockproof_harness::engine::RunSettings {
    /// #         engine: lockproof_harness::engine::EngineKind::Dfs { bound: Some(1) },
    /// #         time: lockproof::backend::checked::TimeMode::Timed,
    /// #         spurious: false, crashes: 0, pauses: 0, pause_span: 0, liveness: 0,
    /// #         max_steps: 10_000, executions: 100, seed: 1,
    /// #     }
    /// # }
    /// use lockproof_harness::child::Runner;
    /// use lockproof_harness::Check;
    ///
    /// let s = Check::new(Abba).as_scenario();
    /// let found = Runner::InProcess.run(&s, &settings()).found.unwrap();
    /// let again = Runner::InProcess.replay(&s, &settings(), found.schedule.as_ref().unwrap());
    /// assert_eq!(again.unwrap().unwrap().trace, found.trace); // the same failure, step for step
    /// ```
    pub fn replay(
        &self,
        s: &Scenario,
        settings: &RunSettings,
        schedule: &EngineSchedule,
    ) -> Result<Option<Found>, String> {
        match self {
            Runner::InProcess => replay_here(s, settings, schedule),
            Runner::Child(_) | Runner::TestBinary { .. } => {
                let req = ChildRequest {
                    scenario: s.id.to_owned(),
                    settings: settings.clone(),
                    replay: Some(schedule.clone()),
                };
                Ok(self.call(&req)?.found.map(from_wire))
            }
        }
    }
}
