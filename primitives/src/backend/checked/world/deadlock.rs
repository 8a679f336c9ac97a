//! Deadlock analysis, when every live thread is blocked with no deadline left: who waits
//! on what, who holds it, the waits-for cycle, and whether it is a lost wakeup instead.

use super::super::fxhash::FxHashMap as HashMap;
use super::ids::{QueueKey, ThreadId};
use super::State;
use crate::backend::checked::report::{BlockedThread, DeadlockReport};
use crate::backend::WaitKind;

pub(super) fn deadlock_report(st: &State) -> DeadlockReport {
    let mut threads = Vec::new();
    let mut waits_for: HashMap<ThreadId, Vec<ThreadId>> = HashMap::default();
    let mut lost_wakeup = true;
    for (i, t) in st.threads.iter() {
        let Some(b) = t.blocked() else {
            continue;
        };
        if t.env {
            continue;
        }
        let held_by: Vec<ThreadId> = match (b.key, b.object) {
            (QueueKey::Join(joined), _) => vec![joined],
            (_, Some(o)) => {
                let mut h = st.holders.of(o).to_vec();
                h.dedup();
                h
            }
            (_, None) => Vec::new(),
        };
        if matches!(b.kind, WaitKind::Lock | WaitKind::Semaphore) {
            lost_wakeup = false;
        }
        waits_for.insert(i, held_by.clone());
        threads.push(BlockedThread {
            thread: i,
            object: b.object,
            op: b.op,
            held_by,
        });
    }
    let cycle = find_cycle(&waits_for);
    if cycle.is_some() {
        lost_wakeup = false;
    }
    let mut dead_holders: Vec<ThreadId> = threads
        .iter()
        .flat_map(|b| b.held_by.iter().copied())
        .filter(|&h| st.threads[h].dead)
        .collect();
    dead_holders.sort_unstable();
    dead_holders.dedup();
    if !dead_holders.is_empty() {
        lost_wakeup = false;
    }
    DeadlockReport {
        threads,
        cycle,
        lost_wakeup,
        dead_holders,
    }
}

/// A cycle of the waits-for graph (each thread waiting for the smallest of its holders),
/// starting at its smallest thread, for a stable report.
fn find_cycle(graph: &HashMap<ThreadId, Vec<ThreadId>>) -> Option<Vec<ThreadId>> {
    let mut starts: Vec<ThreadId> = graph.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        let mut path = vec![start];
        let mut cur = start;
        for _ in 0..=graph.len() {
            let Some(next) = graph.get(&cur).and_then(|n| n.iter().min().copied()) else {
                break;
            };
            if let Some(pos) = path.iter().position(|&t| t == next) {
                let mut cycle = path[pos..].to_vec();
                let min = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, t)| **t)
                    .map(|(i, _)| i)?;
                cycle.rotate_left(min);
                return Some(cycle);
            }
            path.push(next);
            cur = next;
        }
    }
    None
}
