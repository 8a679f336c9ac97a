//! HTML reports of counterexamples: `lockproof trace FILE --html OUT.html` and
//! `lockproof check … --report DIR`.
//!
//! A page is drawn from the failing execution's typed report ([`html::render`]). A run in a
//! child process sends back only the rendered trace, so the page's execution is replayed
//! here, in this process, from the schedule the engine found: deterministic, one execution.

use crate::registry;
use lockproof_harness::check::{EngineResult, Verdict};
use lockproof_harness::child::Runner;
use lockproof_harness::engine::{EngineKind, Found, RunSettings};
use lockproof_harness::html::{self, IndexCell, IndexRow, Page, Source};
use lockproof_harness::schedule::ScheduleFile;
use lockproof_scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The engine and its settings as the CLI shows them (`loom bound 1`, `random seed 3`).
pub fn engine_name(settings: &RunSettings) -> String {
    match settings.engine {
        EngineKind::Random => format!("random seed {}", settings.seed),
        other => other.describe(),
    }
}

/// The catalogue's records: (id, heading, tutorial source).
fn catalogue() -> &'static [(String, String, String)] {
    static CATALOGUE: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let here = PathBuf::from("corpus/catalogue");
        let dir = if here.is_dir() {
            here
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/catalogue")
        };
        let mut out = Vec::new();
        for ch in 1..=20 {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("ch{ch}.jsonl"))) else {
                continue;
            };
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
                let id = field("id");
                if !id.is_empty() {
                    out.push((id, field("heading"), field("source")));
                }
            }
        }
        out
    })
}

/// The tutorial example scenario `s` models: the one its `.source(…)` names, else the
/// catalogue record whose id its id extends (`ex-3.1-04-spurious` models `ex-3.1-04`).
///
/// # Examples
///
/// ```
/// let s = lockproof_cli::registry::all().into_iter().find(|s| s.id == "ex-1.1-01").unwrap();
/// let src = lockproof_cli::report::source_of(&s).unwrap();
/// assert_eq!(src.id, "ex-1.1-01");
/// assert!(src.excerpt.contains("threading.Lock()"));
/// ```
pub fn source_of(s: &Scenario) -> Option<Source> {
    let wanted = s.source.unwrap_or(s.id);
    catalogue()
        .iter()
        .filter(|(id, _, _)| {
            wanted == id
                || wanted
                    .strip_prefix(id.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|(id, _, _)| id.len())
        .map(|(id, heading, excerpt)| Source {
            id: id.clone(),
            heading: heading.clone(),
            excerpt: excerpt.clone(),
        })
}

/// The page of one found counterexample, replaying it here when the report did not come
/// with it (a child process's run).
fn page_of(
    s: &Scenario,
    settings: &RunSettings,
    found: &Found,
    replay: String,
    index: Option<String>,
) -> Result<String, String> {
    let replayed;
    let report = match &found.report {
        Some(r) => r,
        None => {
            let schedule = found
                .schedule
                .as_ref()
                .ok_or("the engine left no schedule to replay")?;
            replayed = Runner::InProcess
                .replay(s, settings, schedule)?
                .ok_or("the replay of its schedule passed")?;
            replayed
                .report
                .as_ref()
                .ok_or("the replay made no execution report")?
        }
    };
    let page = Page {
        scenario: s.id,
        title: s.title,
        engine: engine_name(settings),
        kind: found.kind.as_str(),
        property: &found.property,
        message: &found.message,
        replay,
        source: source_of(s),
        index,
    };
    Ok(html::render(report, &page))
}

/// `lockproof trace FILE --html OUT`: replay the schedule and write its page.
pub fn trace_html(file: &str, out: &Path) -> Result<i32, String> {
    let sf = ScheduleFile::load(Path::new(file))?;
    let all = registry::all();
    let s = all.iter().find(|s| s.id == sf.scenario).ok_or_else(|| {
        format!(
            "the schedule names scenario {:?}, which is not registered",
            sf.scenario
        )
    })?;
    let Some(found) = Runner::InProcess.replay(s, &sf.settings, &sf.schedule)? else {
        println!("replay of {file}: the execution passed; the saved failure did not reproduce");
        return Ok(1);
    };
    let text = page_of(
        s,
        &sf.settings,
        &found,
        format!("lockproof replay {file}\nlockproof trace {file}"),
        None,
    )?;
    std::fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(0)
}

/// Keep a file name to letters, digits, `.`, `_` and `-`.
fn file_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The pages of a `check --report DIR` run, written as scenarios finish, and its index.
#[derive(Debug)]
pub struct Reporter {
    dir: PathBuf,
    rows: Vec<IndexRow>,
}

impl Reporter {
    /// Make `dir` (and check it can be written to) before anything runs.
    pub fn new(dir: &Path) -> Result<Reporter, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot make the report folder {}: {e}", dir.display()))?;
        let probe = dir.join(".lockproof-write-test");
        std::fs::write(&probe, b"")
            .map_err(|e| format!("cannot write in the report folder {}: {e}", dir.display()))?;
        let _ = std::fs::remove_file(probe);
        Ok(Reporter {
            dir: dir.to_path_buf(),
            rows: Vec::new(),
        })
    }

    /// Add scenario `s`'s results, writing a page for each counterexample found.
    pub fn add(&mut self, s: &Scenario, results: &[EngineResult]) -> Result<(), String> {
        let mut row = IndexRow {
            id: s.id.to_owned(),
            title: s.title.to_owned(),
            expect: s.expect.describe().to_string(),
            engines: Vec::new(),
        };
        for r in results {
            let o = &r.outcome;
            let (verdict, note) = match &r.verdict {
                Verdict::Met => ("met", String::new()),
                Verdict::Unmet(why) => ("unmet", why.clone()),
                Verdict::Unsupported(why) => ("unsupported", why.clone()),
            };
            let mut cell = IndexCell {
                engine: r.family.as_str().to_owned(),
                verdict: verdict.to_owned(),
                found: match (&r.verdict, &o.found) {
                    (Verdict::Unsupported(_), _) => "not run".to_owned(),
                    (_, Some(f)) => f.property.clone(),
                    (_, None) => "holds".to_owned(),
                },
                note,
                link: None,
            };
            if let Some(f) = &o.found {
                let name = file_name(&format!("{}--{}.html", s.id, r.family.as_str()));
                let replay = match r.saved.as_ref().or(r.already_saved.as_ref()) {
                    Some(p) => format!("lockproof replay {0}\nlockproof trace {0}", p.display()),
                    None => format!(
                        "lockproof check {} --engine {}   # no schedule was saved (--no-save)",
                        s.id,
                        r.family.as_str()
                    ),
                };
                match page_of(s, &o.settings, f, replay, Some("index.html".into())) {
                    Ok(text) => {
                        let path = self.dir.join(&name);
                        std::fs::write(&path, text)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                        cell.link = Some(name);
                    }
                    Err(why) => {
                        cell.note = format!("{} (no page: {why})", f.message);
                    }
                }
                if cell.note.is_empty() {
                    cell.note = f.message.clone();
                }
            }
            row.engines.push(cell);
        }
        self.rows.push(row);
        Ok(())
    }

    /// Write `DIR/index.html`; returns its path.
    pub fn finish(&self, summary: &str) -> Result<PathBuf, String> {
        let path = self.dir.join("index.html");
        std::fs::write(&path, html::index(&self.rows, summary))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }
}
