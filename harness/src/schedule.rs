//! Schedule files: a failing execution, saved so that it replays exactly.
//!
//! Format `lockproof-schedule/1`: UTF-8 text, one `key value` pair a line, `#` comments,
//! closed by a line `end` (so a truncated file is detected); each key at most once, no
//! carriage return inside a line. Keys, in order:
//!
//! | key | value |
//! |---|---|
//! | `format` | `lockproof-schedule/1` (first line after comments) |
//! | `scenario` | the scenario id |
//! | `engine` | `loom`, `random`, `pct` or `dfs` |
//! | `bound` | the preemption bound, or `none` (loom and dfs) |
//! | `depth` | PCT depth (pct only) |
//! | `seed` | the shuttle scheduler's seed (shuttle engines) |
//! | `time` | `timed` or `adversarial` |
//! | `spurious` | `on` or `off` |
//! | `crashes` | at most this many process crashes per execution (a u32; only when above 0) |
//! | `pauses` | at most this many process pauses per execution (a u32; only when above 0) |
//! | `pause-span` | how long a pause lasts, in virtual nanoseconds (only with `pauses`) |
//! | `max-steps` | the per-execution step budget |
//! | `kind` | the failure kind: `violation`, `deadlock`, `lost-wakeup`, `panic`, `step-budget`, `nondeterminism` |
//! | `property` | the property the verdict names |
//! | `message` | one line describing the failure |
//! | `preemptions` | preemptions in the failing execution |
//! | `found-after` | executions the search ran to find it |
//! | `trace-digest` | FNV-1a 64 of the rendered trace: replay must reproduce it |
//! | `schedule` | the engine's own schedule: shuttle's encoded string (random, pct), loom's checkpoint JSON, or the depth-first engine's decisions (`t0 t1 c2 …`) |
//! | `end` | (no value) |
//!
//! Files are written under `corpus/schedules/<scenario>/` with a new name each time
//! (`loom-bound1-001.schedule`, …): an existing file is never overwritten.

use crate::engine::{EngineKind, EngineSchedule, FailureKind, RunSettings};
use lockproof::backend::checked::TimeMode;
use std::collections::HashMap;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The format version this lockproof reads and writes.
///
/// # Examples
///
/// ```
/// use lockproof_harness::schedule::FORMAT;
///
/// assert_eq!(FORMAT, "lockproof-schedule/1");
/// ```
pub const FORMAT: &str = "lockproof-schedule/1";

/// A saved failing execution.
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
/// # fn saved() -> lockproof_harness::schedule::ScheduleFile {
/// #     use lockproof_harness::{check, Check, Family};
/// #     let s = Check::new(Abba).as_scenario();
/// #     let out = check::run_family(&s, Family::Dfs, &request());
/// #     check::schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap()
/// # }
/// use lockproof_harness::schedule::ScheduleFile;
///
/// // The schedule of a failing run, as `check_scenario` saves it, read back.
/// let file: ScheduleFile = saved();
/// let back = ScheduleFile::parse(&file.to_text()).unwrap();
/// assert_eq!((back.kind, back.settings.engine), (file.kind, file.settings.engine));
/// assert_eq!((back.schedule, back.trace_digest), (file.schedule, file.trace_digest));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleFile {
    /// The scenario id.
    pub scenario: String,
    /// The settings of the run that found it (`executions` is 1: a replay runs one).
    pub settings: RunSettings,
    /// The failure kind.
    pub kind: FailureKind,
    /// The property the verdict names.
    pub property: String,
    /// One line describing the failure.
    pub message: String,
    /// Preemptions in the failing execution.
    pub preemptions: usize,
    /// Executions the search ran to find it.
    pub found_after: usize,
    /// Digest of the rendered trace.
    pub trace_digest: String,
    /// The engine's schedule.
    pub schedule: EngineSchedule,
}

/// Why a schedule file could not be read.
///
/// # Examples
///
/// ```
/// use lockproof_harness::schedule::{ScheduleError, ScheduleFile};
///
/// assert_eq!(ScheduleFile::parse("hello"), Err(ScheduleError::NotASchedule));
/// let newer = ScheduleFile::parse("format lockproof-schedule/9\nend\n");
/// assert_eq!(newer, Err(ScheduleError::Version("lockproof-schedule/9".into())));
/// let cut = ScheduleFile::parse("format lockproof-schedule/1\nscenario Abba\n");
/// assert_eq!(cut, Err(ScheduleError::Missing("end")));
/// assert_eq!(cut.unwrap_err().to_string(), "truncated or corrupt schedule file: no `end` line");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// Not a lockproof schedule file at all.
    NotASchedule,
    /// A schedule file of another format version.
    Version(String),
    /// A required key is missing (the file is truncated or was edited).
    Missing(&'static str),
    /// A key's value cannot be read.
    Bad(&'static str, String),
    /// A line that is not `key value`, or a key this version does not know.
    Unknown(String),
    /// A key given twice (the file was edited or two files were joined).
    Repeated(&'static str),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::NotASchedule => {
                write!(
                    f,
                    "not a lockproof schedule file (no `format {FORMAT}` line)"
                )
            }
            ScheduleError::Version(v) => write!(
                f,
                "schedule file format {} is not supported; this lockproof reads {FORMAT}",
                shown(v)
            ),
            ScheduleError::Missing(k) => {
                write!(f, "truncated or corrupt schedule file: no `{k}` line")
            }
            ScheduleError::Bad(k, v) => write!(f, "corrupt schedule file: bad `{k}` value {v:?}"),
            ScheduleError::Unknown(l) => write!(f, "corrupt schedule file: unexpected line {l:?}"),
            ScheduleError::Repeated(k) => write!(f, "corrupt schedule file: `{k}` given twice"),
        }
    }
}

impl std::error::Error for ScheduleError {}

impl ScheduleFile {
    /// The file's text.
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
    /// # fn saved() -> lockproof_harness::schedule::ScheduleFile {
    /// #     use lockproof_harness::{check, Check, Family};
    /// #     let s = Check::new(Abba).as_scenario();
    /// #     let out = check::run_family(&s, Family::Dfs, &request());
    /// #     check::schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap()
    /// # }
    /// let text = saved().to_text();
    /// assert!(text.starts_with("# lockproof schedule"));
    /// assert!(text.contains("\nscenario Abba\n") && text.contains("\nengine dfs\n"));
    /// assert!(text.ends_with("end\n"));
    /// ```
    pub fn to_text(&self) -> String {
        let s = &self.settings;
        let mut out = String::new();
        out.push_str("# lockproof schedule: a failing execution that replays exactly.\n");
        out.push_str(
            "# Replay it: lockproof replay <this file>   Show it: lockproof trace <this file>\n",
        );
        out.push_str(&format!("format {FORMAT}\n"));
        out.push_str(&format!("scenario {}\n", self.scenario));
        out.push_str(&format!("engine {}\n", s.engine.family()));
        match s.engine {
            EngineKind::Loom { bound } | EngineKind::Dfs { bound } => {
                out.push_str(&format!("bound {}\n", bound_text(bound)))
            }
            EngineKind::Pct { depth } => out.push_str(&format!("depth {depth}\nseed {}\n", s.seed)),
            EngineKind::Random => out.push_str(&format!("seed {}\n", s.seed)),
        }
        out.push_str(&format!("time {}\n", s.time));
        out.push_str(&format!(
            "spurious {}\n",
            if s.spurious { "on" } else { "off" }
        ));
        if s.crashes > 0 {
            out.push_str(&format!("crashes {}\n", s.crashes));
        }
        if s.pauses > 0 {
            out.push_str(&format!(
                "pauses {}\npause-span {}\n",
                s.pauses, s.pause_span
            ));
        }
        if s.liveness > 0 {
            out.push_str(&format!("liveness {}\n", s.liveness));
        }
        out.push_str(&format!("max-steps {}\n", s.max_steps));
        out.push_str(&format!("kind {}\n", self.kind));
        out.push_str(&format!("property {}\n", self.property));
        out.push_str(&format!("message {}\n", one_line(&self.message)));
        out.push_str(&format!("preemptions {}\n", self.preemptions));
        out.push_str(&format!("found-after {}\n", self.found_after));
        out.push_str(&format!("trace-digest {}\n", self.trace_digest));
        let sched = match &self.schedule {
            EngineSchedule::Loom(j) => one_line(j),
            EngineSchedule::Shuttle(h) | EngineSchedule::Steps(h) => h.clone(),
        };
        out.push_str(&format!("schedule {sched}\n"));
        out.push_str("end\n");
        out
    }

    /// Read a schedule file's text.
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
    /// # fn saved() -> lockproof_harness::schedule::ScheduleFile {
    /// #     use lockproof_harness::{check, Check, Family};
    /// #     let s = Check::new(Abba).as_scenario();
    /// #     let out = check::run_family(&s, Family::Dfs, &request());
    /// #     check::schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap()
    /// # }
    /// use lockproof_harness::schedule::{ScheduleError, ScheduleFile};
    ///
    /// let text = saved().to_text();
    /// assert_eq!(ScheduleFile::parse(&text).unwrap().scenario, "Abba");
    /// // A file cut short is refused, not half read.
    /// let truncated = text.replace("end\n", "");
    /// assert_eq!(ScheduleFile::parse(&truncated), Err(ScheduleError::Missing("end")));
    /// ```
    pub fn parse(text: &str) -> Result<ScheduleFile, ScheduleError> {
        let mut lines = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        match lines.next().and_then(|l| l.strip_prefix("format ")) {
            Some(FORMAT) => {}
            Some(v) if v.starts_with("lockproof-schedule/") => {
                return Err(ScheduleError::Version(v.to_owned()))
            }
            _ => return Err(ScheduleError::NotASchedule),
        }
        let mut map: HashMap<&'static str, &str> = HashMap::new();
        let mut ended = false;
        for line in lines {
            if ended {
                return Err(ScheduleError::Unknown(line.to_owned()));
            }
            if line == "end" {
                ended = true;
                continue;
            }
            // The writer makes every value one line; a carriage return inside a line (not
            // a CRLF ending, which `lines` and `trim_end` take off) was not written by it.
            if line.contains('\r') {
                return Err(ScheduleError::Unknown(line.to_owned()));
            }
            let (k, v) = line
                .split_once(' ')
                .ok_or_else(|| ScheduleError::Unknown(line.to_owned()))?;
            const KEYS: [&str; 21] = [
                "crashes",
                "liveness",
                "pauses",
                "pause-span",
                "scenario",
                "engine",
                "bound",
                "depth",
                "seed",
                "time",
                "spurious",
                "max-steps",
                "kind",
                "property",
                "message",
                "preemptions",
                "found-after",
                "trace-digest",
                "schedule",
                "format",
                "end",
            ];
            let Some(key) = KEYS.iter().copied().find(|&known| known == k) else {
                return Err(ScheduleError::Unknown(line.to_owned()));
            };
            if map.insert(key, v).is_some() {
                return Err(ScheduleError::Repeated(key));
            }
        }
        if !ended {
            return Err(ScheduleError::Missing("end"));
        }
        let get = |k: &'static str| map.get(k).copied().ok_or(ScheduleError::Missing(k));
        let num = |k: &'static str| -> Result<u64, ScheduleError> {
            let v = get(k)?;
            v.parse().map_err(|_| ScheduleError::Bad(k, v.to_owned()))
        };
        // A fault line is written only when the fault is on.
        let optional = |k: &'static str| -> Result<u64, ScheduleError> {
            match map.get(k) {
                None => Ok(0),
                Some(v) => v
                    .parse()
                    .map_err(|_| ScheduleError::Bad(k, (*v).to_owned())),
            }
        };
        // A count of faults, which the run settings hold as a u32.
        let faults = |k: &'static str| -> Result<u32, ScheduleError> {
            u32::try_from(optional(k)?)
                .map_err(|_| ScheduleError::Bad(k, map.get(k).copied().unwrap_or_default().into()))
        };
        let pauses = faults("pauses")?;
        // `pause-span` is written only with pauses: alone it is a value nothing would use.
        if pauses == 0 {
            if let Some(v) = map.get("pause-span") {
                return Err(ScheduleError::Bad("pause-span", (*v).to_owned()));
            }
        }
        let bound = || -> Result<Option<usize>, ScheduleError> {
            match get("bound")? {
                "none" => Ok(None),
                v => v
                    .parse()
                    .map(Some)
                    .map_err(|_| ScheduleError::Bad("bound", v.to_owned())),
            }
        };
        let engine = match get("engine")? {
            "loom" => EngineKind::Loom { bound: bound()? },
            "random" => EngineKind::Random,
            "pct" => EngineKind::Pct {
                depth: num("depth")? as usize,
            },
            "dfs" => EngineKind::Dfs { bound: bound()? },
            other => return Err(ScheduleError::Bad("engine", other.to_owned())),
        };
        let seed = match engine {
            EngineKind::Random | EngineKind::Pct { .. } => num("seed")?,
            _ => 0,
        };
        let time: TimeMode = get("time")?
            .parse()
            .map_err(|_| ScheduleError::Bad("time", get("time").unwrap_or_default().to_owned()))?;
        let spurious = match get("spurious")? {
            "on" => true,
            "off" => false,
            other => return Err(ScheduleError::Bad("spurious", other.to_owned())),
        };
        let kind: FailureKind = get("kind")?
            .parse()
            .map_err(|_| ScheduleError::Bad("kind", get("kind").unwrap_or_default().to_owned()))?;
        let raw = get("schedule")?.to_owned();
        let schedule = match engine {
            EngineKind::Loom { .. } => {
                serde_json::from_str::<serde_json::Value>(&raw)
                    .map_err(|_| ScheduleError::Bad("schedule", cut(&raw)))?;
                EngineSchedule::Loom(raw)
            }
            EngineKind::Dfs { .. } => {
                crate::engine::dfs::decode(&raw)
                    .map_err(|_| ScheduleError::Bad("schedule", cut(&raw)))?;
                EngineSchedule::Steps(raw)
            }
            _ => {
                crate::engine::shuttle::decode(&raw)
                    .map_err(|_| ScheduleError::Bad("schedule", cut(&raw)))?;
                EngineSchedule::Shuttle(raw)
            }
        };
        Ok(ScheduleFile {
            scenario: get("scenario")?.to_owned(),
            settings: RunSettings {
                engine,
                time,
                spurious,
                crashes: faults("crashes")?,
                pauses,
                pause_span: optional("pause-span")?,
                liveness: u32::try_from(optional("liveness")?).map_err(|_| {
                    ScheduleError::Bad("liveness", get("liveness").unwrap_or_default().to_owned())
                })?,
                max_steps: num("max-steps")?,
                executions: 1,
                seed,
            },
            kind,
            property: get("property")?.to_owned(),
            message: get("message")?.to_owned(),
            preemptions: num("preemptions")? as usize,
            found_after: num("found-after")? as usize,
            trace_digest: get("trace-digest")?.to_owned(),
            schedule,
        })
    }

    /// Read a schedule file from disk.
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
    /// # fn saved() -> lockproof_harness::schedule::ScheduleFile {
    /// #     use lockproof_harness::{check, Check, Family};
    /// #     let s = Check::new(Abba).as_scenario();
    /// #     let out = check::run_family(&s, Family::Dfs, &request());
    /// #     check::schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap()
    /// # }
    /// use lockproof_harness::schedule::ScheduleFile;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = saved().save_new(dir.path()).unwrap();
    /// assert_eq!(ScheduleFile::load(&path).unwrap().schedule, saved().schedule);
    /// assert!(ScheduleFile::load(&dir.path().join("missing.schedule")).unwrap_err().starts_with("cannot read"));
    /// ```
    pub fn load(path: &Path) -> Result<ScheduleFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        ScheduleFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Write under `root/schedules/<scenario>/` as a new file; returns its path.
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
    /// # fn saved() -> lockproof_harness::schedule::ScheduleFile {
    /// #     use lockproof_harness::{check, Check, Family};
    /// #     let s = Check::new(Abba).as_scenario();
    /// #     let out = check::run_family(&s, Family::Dfs, &request());
    /// #     check::schedule_file(&s, &out, out.found.as_ref().unwrap()).unwrap()
    /// # }
    /// let dir = tempfile::tempdir().unwrap();
    /// let file = saved();
    /// let first = file.save_new(dir.path()).unwrap();
    /// let second = file.save_new(dir.path()).unwrap(); // never overwrites
    /// assert!(first.ends_with("schedules/Abba/dfs-bound1-001.schedule"));
    /// assert!(second.ends_with("schedules/Abba/dfs-bound1-002.schedule"));
    /// ```
    pub fn save_new(&self, root: &Path) -> std::io::Result<PathBuf> {
        let dir = root.join("schedules").join(&self.scenario);
        std::fs::create_dir_all(&dir)?;
        let stem = match self.settings.engine {
            EngineKind::Loom { bound: Some(b) } => format!("loom-bound{b}"),
            EngineKind::Loom { bound: None } => "loom".to_owned(),
            EngineKind::Pct { depth } => format!("pct-depth{depth}"),
            EngineKind::Random => "random".to_owned(),
            EngineKind::Dfs { bound: Some(b) } => format!("dfs-bound{b}"),
            EngineKind::Dfs { bound: None } => "dfs".to_owned(),
        };
        for i in 1.. {
            let path = dir.join(format!("{stem}-{i:03}.schedule"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(self.to_text().as_bytes())?;
                    return Ok(path);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unbounded loop returns")
    }
}

fn bound_text(bound: Option<usize>) -> String {
    bound.map_or_else(|| "none".to_owned(), |b| b.to_string())
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// A value from the file as an error shows it: as it is, or quoted and escaped when it
/// holds a control character (a carriage return would break the one-line error).
fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(char::is_control) {
        format!("{s:?}").into()
    } else {
        s.into()
    }
}

fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}
