//! shuttle driver: random, PCT and depth-first runs, with every decision recorded so a
//! failing execution's schedule can be saved and replayed.

use super::dfs::{self, DfsScheduler, StepReplay};
use super::execution::{classify, execution, world_config};
use super::{EngineKind, EngineSchedule, Found, RunOutcome, RunSettings};
use lockproof_scenario::Body;

use lockproof::backend::ShuttleEngine;
use shuttle::scheduler::{
    PctScheduler, RandomScheduler, ReplayScheduler, Schedule, Scheduler, Task, TaskId,
};
use shuttle::{Config, FailurePersistence, MaxSteps, Runner};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Wraps a scheduler and records every decision of the current execution.
struct Recorder<S> {
    inner: S,
    // The runner and this function share one OS thread: no lock on the per-step path.
    current: Rc<RefCell<Schedule>>,
}

impl<S: Scheduler> Scheduler for Recorder<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let s = self.inner.new_execution()?;
        // Empty, with the seed, as `Schedule::new(seed)`, but keeping the buffer's capacity:
        // the steps of the next execution are pushed without regrowing it each time.
        let mut current = self.current.borrow_mut();
        current.seed = s.seed;
        current.steps.clear();
        drop(current);
        Some(s)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let t = self.inner.next_task(runnable, current, is_yielding)?;
        self.current.borrow_mut().push_task(t);
        Some(t)
    }

    fn next_u64(&mut self) -> u64 {
        self.current.borrow_mut().push_random();
        self.inner.next_u64()
    }
}

fn config(settings: &RunSettings) -> Config {
    let mut c = Config::new();
    c.failure_persistence = FailurePersistence::None;
    // The checked world enforces the per-execution budget and says which step; shuttle's
    // own bound is a backstop for steps the world does not see.
    c.max_steps = MaxSteps::FailAfter(settings.max_steps as usize * 20 + 10_000);
    c.silence_warnings = true;
    c
}

/// Run `body` under shuttle as `settings` says.
pub fn run(body: &Body, settings: &RunSettings) -> RunOutcome {
    let _quiet = crate::panics::quiet();
    let start = Instant::now();
    let count = Arc::new(AtomicUsize::new(0));
    let current = Rc::new(RefCell::new(Schedule::new(0)));
    let n = settings.executions;
    let f = execution::<ShuttleEngine>(body, world_config(settings), count.clone());
    let cfg = config(settings);
    let mut dfs_progress = None;
    let result = catch_unwind(AssertUnwindSafe(|| match settings.engine {
        EngineKind::Random => Runner::new(
            Recorder {
                inner: RandomScheduler::new_from_seed(settings.seed, n),
                current: current.clone(),
            },
            cfg,
        )
        .run(f),
        EngineKind::Pct { depth } => Runner::new(
            Recorder {
                inner: PctScheduler::new_from_seed(settings.seed, depth, n),
                current: current.clone(),
            },
            cfg,
        )
        .run(f),
        EngineKind::Dfs { bound } => {
            let (sched, progress) = DfsScheduler::new(bound, n);
            dfs_progress = Some(progress);
            Runner::new(sched, cfg).run(f)
        }
        EngineKind::Loom { .. } => unreachable!("loom settings given to the shuttle driver"),
    }));
    let executions = count.load(Ordering::Relaxed);
    // PCT asserts, at its second execution, that the first one had a scheduling step: a
    // body with no concurrency at all has a single interleaving, which was just run.
    let mut notes = Vec::new();
    let result = match result {
        Err(_) if executions == 1 => {
            let msg = crate::panics::take_last_panic().unwrap_or_default();
            if msg.contains("did not exercise any concurrency") {
                notes.push(
                    "the scenario has no concurrency: its one interleaving was run once".to_owned(),
                );
                Ok(1)
            } else {
                crate::panics::set_last_panic(msg);
                Err(())
            }
        }
        Err(_) => Err(()),
        Ok(n) => Ok(n),
    };
    let dfs_state = dfs_progress.as_ref().map(|p| {
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        (
            p.exhausted,
            p.unenumerated_random,
            dfs::encode(&p.current),
            p.preemptions,
        )
    });
    let found = result.err().map(|_| {
        let mut found = classify(executions);
        found.schedule = Some(match &dfs_state {
            Some((_, _, steps, _)) => EngineSchedule::Steps(steps.clone()),
            None => {
                let schedule = current.borrow().clone();
                EngineSchedule::Shuttle(encode(&schedule))
            }
        });
        found
    });
    let mut limitations = limitations_of(&found);
    limitations.extend(notes);
    let mut exhausted = false;
    let mut engine_preemptions = None;
    if let Some((done, unenumerated, _, preemptions)) = dfs_state {
        engine_preemptions = found.as_ref().map(|_| preemptions);
        if unenumerated {
            limitations.push(
                "the model draws its own random values (shuttle::rand), which the depth-first \
                 search does not enumerate: the search is not complete"
                    .to_owned(),
            );
        }
        exhausted = done && !unenumerated && found.is_none();
    }
    RunOutcome {
        settings: settings.clone(),
        executions,
        exhausted,
        elapsed: start.elapsed(),
        found,
        unsupported: None,
        limitations,
        shortening: None,
        engine_preemptions,
    }
}

fn limitations_of(found: &Option<Found>) -> Vec<String> {
    found
        .as_ref()
        .and_then(|f| f.report.as_ref())
        .map(|r| r.limitations.clone())
        .unwrap_or_default()
}

/// Replay one execution of the depth-first engine from its recorded decisions. Returns the
/// failure it reproduces, or `None` if the execution passed.
pub fn replay_steps(
    body: &Body,
    settings: &RunSettings,
    encoded: &str,
) -> Result<Option<Found>, String> {
    let _quiet = crate::panics::quiet();
    let steps = dfs::decode(encoded)?;
    let f = execution::<ShuttleEngine>(body, world_config(settings), Arc::new(AtomicUsize::new(0)));
    let (scheduler, diverged) = StepReplay::new(steps);
    let result = catch_unwind(AssertUnwindSafe(|| {
        Runner::new(scheduler, config(settings)).run(f)
    }));
    let found = result.err().map(|_| classify(1));
    if let Some(why) = diverged.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(format!("the schedule does not replay: {why}"));
    }
    Ok(found)
}

/// Replay a depth-first schedule, then go on past its end to the end of the execution
/// (see [`StepReplay::going_on`](super::dfs::StepReplay::going_on)).
///
/// # Errors
///
/// The schedule is not a list of decisions, or the program left it before its end.
pub fn replay_steps_going_on(
    body: &Body,
    settings: &RunSettings,
    encoded: &str,
) -> Result<Option<Found>, String> {
    let _quiet = crate::panics::quiet();
    let steps = dfs::decode(encoded)?;
    let f = execution::<ShuttleEngine>(body, world_config(settings), Arc::new(AtomicUsize::new(0)));
    let (scheduler, diverged) = StepReplay::new(steps);
    let scheduler = scheduler.going_on();
    let result = catch_unwind(AssertUnwindSafe(|| {
        Runner::new(scheduler, config(settings)).run(f)
    }));
    let found = result.err().map(|_| classify(1));
    if let Some(why) = diverged.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(format!("the schedule does not replay: {why}"));
    }
    Ok(found)
}

/// Replay one execution from an encoded schedule. Returns the failure it reproduces, or
/// `None` if the execution passed.
pub fn replay(body: &Body, settings: &RunSettings, encoded: &str) -> Result<Option<Found>, String> {
    let _quiet = crate::panics::quiet();
    let schedule = decode(encoded)?;
    let count = Arc::new(AtomicUsize::new(0));
    let f = execution::<ShuttleEngine>(body, world_config(settings), count.clone());
    let mut scheduler = ReplayScheduler::new_from_schedule(schedule);
    scheduler.set_allow_incomplete();
    let result = catch_unwind(AssertUnwindSafe(|| {
        Runner::new(scheduler, config(settings)).run(f)
    }));
    Ok(result.err().map(|_| classify(1)))
}

/// shuttle's own encoding of a schedule (hex, as `shuttle::replay` takes it), on one line.
pub fn encode(schedule: &Schedule) -> String {
    shuttle_serialization::serialize_schedule(schedule)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Decode shuttle's encoding; a clear error for anything else.
///
/// shuttle's own decoder trusts the header: it allocates room for as many steps as the
/// header claims (a corrupt length of 2^40 aborts the process: an allocation failure is no
/// panic and cannot be caught) and panics on a step cut short. So the header and the steps
/// are checked here first ([`check_encoding`]), and shuttle's decoder only ever sees an
/// encoding it reads completely.
pub fn decode(encoded: &str) -> Result<Schedule, String> {
    let text = encoded.trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("the shuttle schedule is not a hex string".to_owned());
    }
    check_encoding(text)?;
    shuttle_serialization::deserialize_schedule(text)
        .ok_or_else(|| "the shuttle schedule is truncated or corrupt".to_owned())
}

/// Walk an encoding as shuttle's `deserialize_schedule` reads it, without building it:
/// `91`, then three varints (bits per task id, number of steps, seed), then the steps,
/// packed from the lowest bit of each byte: a 1 bit is a random step, a 0 bit is followed
/// by a task id of that many bits. Work is linear in the text, whatever its header says.
fn check_encoding(hex: &str) -> Result<(), String> {
    const MAGIC: u8 = 0x91;
    let corrupt = || "the shuttle schedule is truncated or corrupt".to_owned();
    if !hex.len().is_multiple_of(2) {
        return Err(corrupt());
    }
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect::<Option<_>>()
        .ok_or_else(corrupt)?;
    let (&magic, mut rest) = bytes.split_first().ok_or_else(corrupt)?;
    if magic != MAGIC {
        return Err(corrupt());
    }
    let mut varint = || -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..).step_by(7) {
            let (&byte, tail) = rest.split_first()?;
            rest = tail;
            if shift == 63 {
                // shuttle's tenth byte: only the top bit of a u64, and nothing after it.
                return (byte == 1).then_some(value | 1 << 63);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    let id_bits = varint().ok_or_else(corrupt)?;
    let steps = varint().ok_or_else(corrupt)?;
    varint().ok_or_else(corrupt)?; // the seed: any value
                                   // shuttle loads a task id into a usize, and writes at least one bit for it.
    if !(1..=u64::from(usize::BITS)).contains(&id_bits) {
        return Err(corrupt());
    }
    let bits = rest.len() as u64 * 8;
    let bit = |i: u64| (rest[(i / 8) as usize] >> (i % 8)) & 1 == 1;
    // Every step takes at least one bit: more steps than bits cannot all be there.
    if steps > bits {
        return Err(corrupt());
    }
    let mut at = 0u64;
    for _ in 0..steps {
        if at >= bits {
            return Err(corrupt());
        }
        at += if bit(at) { 1 } else { 1 + id_bits };
        if at > bits {
            return Err(corrupt());
        }
    }
    Ok(())
}

mod shuttle_serialization {
    pub use shuttle_engine::scheduler::serialization::{deserialize_schedule, serialize_schedule};
}
