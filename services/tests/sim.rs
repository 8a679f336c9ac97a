//! The simulation layer under the checker: a TTL lock on a minimal twin, the pause past
//! its expiry, fencing, lost replies, clock jumps and restarts, each found as a fault the
//! checker chose and replayed from its saved schedule.

use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::Backend;
use lockproof_harness::{Check, Family, Model};
use lockproof_scenario::Region;
use lockproof_services::sim::{Cluster, Faults, Node, Server, Storage};
use lockproof_services::time::ServerClock;
use std::sync::Arc;
use std::time::Duration;

/// The least twin a lease lock needs: one key with an owner, a fencing token and an
/// expiry in the server's wall clock (Redis's `SET k v NX PX ttl` + `INCR`, in one step).
#[derive(Default)]
struct LeaseTwin {
    owner: Option<(String, u64, i64)>,
    tokens: u64,
}

impl LeaseTwin {
    fn acquire(&mut self, who: &str, ttl_ms: i64, now: ServerClock) -> Option<u64> {
        if let Some((_, _, expiry)) = &self.owner {
            if now.wall < *expiry {
                return None;
            }
        }
        self.tokens += 1;
        self.owner = Some((who.to_owned(), self.tokens, now.wall + ttl_ms * 1_000_000));
        Some(self.tokens)
    }

    fn release(&mut self, who: &str, now: ServerClock) -> bool {
        match &self.owner {
            Some((o, _, expiry)) if o == who && now.wall < *expiry => {
                self.owner = None;
                true
            }
            _ => false,
        }
    }
}

fn shown(r: &Option<u64>) -> String {
    r.map_or("(nil)".into(), |t| t.to_string())
}

/// Two clients take a 1 s lease, work 0.5 s, write to the storage, release.
struct LeaseClients {
    fenced: bool,
    faults: Faults,
    /// Judge mutual exclusion in true time with a region around the critical section.
    region: bool,
}

struct Token(Option<u64>);
impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shown(&self.0))
    }
}

fn client<B: Backend>(
    node: Node<B>,
    server: Server<LeaseTwin, B>,
    storage: Storage<B>,
    region: Option<Arc<Region<B>>>,
) {
    let who = node.name().to_owned();
    let token = loop {
        let w = who.clone();
        match server.call(&node, format!("SET lock {who} NX PX 1000"), move |t, c| {
            Token(t.acquire(&w, 1000, c))
        }) {
            Ok(Token(Some(t))) => break t,
            _ => B::sleep(Duration::from_millis(100)),
        }
    };
    let inside = region.as_ref().map(|r| r.enter());
    B::sleep(Duration::from_millis(500));
    let _ = storage.write(&node, Some(token), format!("{who}'s data"));
    drop(inside);
    let w = who.clone();
    let _ = server.call(&node, format!("release lock {who}"), move |t, c| {
        t.release(&w, c)
    });
}

impl Model for LeaseClients {
    fn run<B: Backend>(&self) {
        let cluster = Cluster::<B>::new(self.faults.clone());
        let server = cluster.server("redis", LeaseTwin::default());
        let storage = cluster.storage("store", self.fenced);
        let region = self
            .region
            .then(|| Arc::new(Region::<B>::new("critical", 1)));
        let children: Vec<_> = (1..=2)
            .map(|i| {
                let node = cluster.node(&format!("client-{i}"));
                let (s, st, r) = (server.clone(), storage.clone(), region.clone());
                B::spawn_process(&format!("client-{i}"), move || client(node, s, st, r))
            })
            .collect();
        for c in children {
            c.join();
        }
    }
}

fn check(m: LeaseClients) -> Check {
    Check::new(m)
        .engines([Family::Random, Family::Pct])
        .no_save()
}

#[test]
fn without_faults_the_lease_lock_holds() {
    check(LeaseClients {
        fenced: false,
        faults: Faults::none(),
        region: true,
    })
    .engines([Family::Random, Family::Pct, Family::Dfs])
    .assert_holds();
}

#[test]
fn a_pause_past_the_lease_makes_two_writers_and_the_older_writes_last() {
    let report = check(LeaseClients {
        fenced: false,
        faults: Faults::none(),
        region: false,
    })
    .pauses(1, Duration::from_secs(2))
    .assert_violates("stale-write");
    let f = report.failure().unwrap();
    assert!(
        f.message
            .contains("token 1 after the storage had accepted token 2"),
        "{}",
        f.message
    );
}

#[test]
fn a_pause_past_the_lease_is_two_clients_inside_in_true_time() {
    // Fenced, so the storage rejects the stale write: the critical sections still overlap.
    check(LeaseClients {
        fenced: true,
        faults: Faults::none(),
        region: true,
    })
    .pauses(1, Duration::from_secs(2))
    .assert_violates("mutual-exclusion");
}

#[test]
fn fencing_rejects_the_paused_holders_write() {
    check(LeaseClients {
        fenced: true,
        faults: Faults::none(),
        region: false,
    })
    .pauses(1, Duration::from_secs(2))
    .assert_holds();
}

#[test]
fn a_server_clock_jump_forward_expires_a_live_lease() {
    // No pause at all: the server's wall clock jumps 2 s ahead while client-1 works, so its
    // lease is gone when client-2 asks.
    check(LeaseClients {
        fenced: false,
        faults: Faults::none().clock_jumps(1, Duration::from_secs(2)),
        region: true,
    })
    .assert_violates("mutual-exclusion");
}

#[test]
fn lost_messages_alone_do_not_break_a_lease_lock_with_fencing() {
    check(LeaseClients {
        fenced: true,
        faults: Faults::none()
            .messages(1)
            .timeout(Duration::from_millis(200)),
        region: false,
    })
    .engines([Family::Random, Family::Pct, Family::Dfs])
    .assert_holds();
}

#[test]
fn the_same_schedule_on_the_fenced_storage_shows_the_stale_write_rejected() {
    use lockproof_harness::check::{replay_on, run_family, schedule_file, Request};
    use lockproof_harness::child::Runner;
    use lockproof_harness::Budget;
    let request = Request {
        families: vec![Family::Dfs],
        budget: Budget::ci(),
        save_root: None,
        runner: Runner::InProcess,
    };
    let unfenced = check(LeaseClients {
        fenced: false,
        faults: Faults::none(),
        region: false,
    })
    .pauses(1, Duration::from_secs(2))
    .name("unfenced")
    .as_scenario();
    let out = run_family(&unfenced, Family::Dfs, &request);
    let found = out
        .found
        .as_ref()
        .expect("the pause past the lease is found");
    assert_eq!(found.property, "stale-write");
    let file = schedule_file(&unfenced, &out, found).unwrap();
    let trace = found.trace.as_deref().unwrap();
    assert_eq!(trace.matches("store.write(token=").count(), 2, "{trace}");
    assert!(trace.contains("store.write(token=1) → None"), "{trace}");
    assert!(trace.contains("store.write(token=2) → None"), "{trace}");

    let fenced = check(LeaseClients {
        fenced: true,
        faults: Faults::none(),
        region: false,
    })
    .pauses(1, Duration::from_secs(2))
    .name("fenced")
    .as_scenario();
    let on_fenced = replay_on(&fenced, &file).expect("the same steps: the schedule fits");
    assert!(on_fenced.found.is_none(), "{:?}", on_fenced.found);
    assert!(
        on_fenced
            .trace
            .contains("store.write(token=1) → raises Stale(1<2)"),
        "{}",
        on_fenced.trace
    );
}
