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

fn check(m: impl Model + 'static) -> Check {
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

/// client-1 takes the lease and releases it at once; client-2, which tried at the same
/// time, measures how long it waited for the lock.
struct PromptRelease {
    faults: Faults,
}

impl Model for PromptRelease {
    fn run<B: Backend>(&self) {
        let cluster = Cluster::<B>::new(self.faults.clone());
        let server = cluster.server("redis", LeaseTwin::default());
        let (n1, n2) = (cluster.node("client-1"), cluster.node("client-2"));
        let s1 = server.clone();
        let holder = B::spawn_process("client-1", move || {
            let got = s1.call(&n1, "SET lock client-1 NX PX 1000", |t, c| {
                Token(t.acquire("client-1", 1000, c))
            });
            if matches!(got, Ok(Token(Some(_)))) {
                let _ = s1.call(&n1, "release lock client-1", |t, c| {
                    t.release("client-1", c)
                });
            }
        });
        holder.join();
        let start = B::now().0;
        while !matches!(
            server.call(&n2, "SET lock client-2 NX PX 1000", |t, c| Token(
                t.acquire("client-2", 1000, c)
            )),
            Ok(Token(Some(_)))
        ) {
            B::sleep(Duration::from_millis(100));
        }
        let waited = B::now().0 - start;
        lockproof_scenario::ensure(waited < 500_000_000, "released-promptly", || {
            format!(
                "client-2 waited {} ms for a lock its holder had released",
                waited / 1_000_000
            )
        });
    }
}

#[test]
fn a_partition_keeps_a_released_lock_out_of_reach() {
    // Cut off at its release, the holder leaves the lock held until its TTL; cut off while
    // it polls, the waiter cannot see it free. Either way the waiter waits.
    check(PromptRelease {
        faults: Faults::none(),
    })
    .engines([Family::Random, Family::Pct, Family::Dfs])
    .assert_holds();
    let report = check(PromptRelease {
        faults: Faults::none()
            .partitions(1, Duration::from_secs(5))
            .timeout(Duration::from_millis(100)),
    })
    .engines([Family::Dfs])
    .assert_violates("released-promptly");
    let trace = report.failure().unwrap().trace.as_deref().unwrap();
    assert!(trace.contains("redis.partition(client-"), "{trace}");
    assert!(trace.contains("lost (partitioned)"), "{trace}");
}

/// A holder that trusts its lease for as long as its own monotonic clock says the TTL has
/// not passed, and writes without a token.
struct LocalLeaseCheck {
    drift_ppm: i64,
}

impl Model for LocalLeaseCheck {
    fn run<B: Backend>(&self) {
        let cluster = Cluster::<B>::new(Faults::none());
        let server = cluster.server("redis", LeaseTwin::default());
        let store = cluster.storage("store", false);
        let region = Arc::new(Region::<B>::new("critical", 1));
        let slow = cluster.node_with(
            "client-1",
            lockproof_services::sim::NodeClock::default().drift_ppm(self.drift_ppm),
        );
        let fast = cluster.node("client-2");
        let (s1, st1, r1) = (server.clone(), store.clone(), region.clone());
        let holder = B::spawn_process("client-1", move || {
            let t0 = slow.monotonic();
            if let Ok(Token(Some(_))) = s1.call(&slow, "SET lock client-1 NX PX 1000", |t, c| {
                Token(t.acquire("client-1", 1000, c))
            }) {
                let _inside = r1.enter();
                // Work in steps while the local clock says the lease is still ours.
                while slow.monotonic() - t0 < 0.9 {
                    B::sleep(Duration::from_millis(300));
                    let _ = st1.write(&slow, None, "client-1's step");
                }
            }
        });
        B::sleep(Duration::from_millis(1100));
        if let Ok(Token(Some(_))) = server.call(&fast, "SET lock client-2 NX PX 1000", |t, c| {
            Token(t.acquire("client-2", 1000, c))
        }) {
            let _inside = region.enter();
            let _ = store.write(&fast, None, "client-2's data");
        }
        holder.join();
    }
}

#[test]
fn a_slow_clock_makes_a_holder_trust_an_expired_lease() {
    check(LocalLeaseCheck { drift_ppm: 0 })
        .engines([Family::Random, Family::Pct, Family::Dfs])
        .assert_holds();
    // Running at half speed, its clock says 0.9 s have passed only after 1.8 s.
    check(LocalLeaseCheck {
        drift_ppm: -500_000,
    })
    .engines([Family::Random, Family::Pct, Family::Dfs])
    .assert_violates("mutual-exclusion");
}
