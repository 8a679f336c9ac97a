//! DISTRIBUTED.md §9 ZooKeeper checks 57–65 and 67–69, each written once against [`Zk`] and
//! run against a private real ZooKeeper 3.8 server (tickTime 500 ms, maxSessionTimeout
//! 10 000 ms, a fresh server and parent `/p` per check) AND the twin
//! (`lockproof_services::zookeeper::ZooKeeper` with the same settings); the observations are
//! compared one by one, then held to what §9 records.
//!
//! Absolute zxids and session ids differ between two servers by construction; the checks
//! observe their order and equalities (a later `czxid` is larger, `ephemeralOwner` is the
//! session's id). Not run here: 66 (a real pause: `tests/zk_lock.rs` runs it on the real
//! server with SIGSTOP, the twin's conformance test on the twin).
//!
//! zookeeper-client reports a failed `multi` only by its first failing op (index and error,
//! `MultiWriteError::OperationFailed`): the `RuntimeInconsistency` results of the ops after it
//! (§3.3, check 67) are not visible through it, so both sides are compared on that projection
//! and the twin's full result list is held to §9 on its own.

use lockproof_distributed_coord::testing::ZkServer;
use lockproof_services::time::ServerClock;
use lockproof_services::zookeeper::{
    sequence_of, CreateMode, EventType, Op, OpResult, SessionId, ZkConfig, ZooKeeper,
};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use zookeeper_client as zk;

const P: CreateMode = CreateMode::Persistent;
const E: CreateMode = CreateMode::Ephemeral;
const PS: CreateMode = CreateMode::PersistentSequential;
const ES: CreateMode = CreateMode::EphemeralSequential;

/// A node's stat as both sides can report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct St {
    czxid: i64,
    version: i32,
    cversion: i32,
    num_children: i32,
    ephemeral_owner: i64,
    data_length: i32,
}

/// The requests the checks send, to either server.
trait Zk {
    /// A new session asking for `requested_ms`: its index and the negotiated timeout.
    fn connect(&mut self, requested_ms: u64) -> (usize, u64);
    /// The session's id as the server reports it.
    fn session_id(&self, s: usize) -> i64;
    /// The `to=` the server lists for the session (`cons`).
    fn cons_timeout(&self, s: usize) -> u64;
    fn create(
        &mut self,
        s: usize,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, String>;
    fn delete(&mut self, s: usize, path: &str, version: i32) -> Result<(), String>;
    fn set(&mut self, s: usize, path: &str, data: &[u8], version: i32) -> Result<St, String>;
    fn exists(&mut self, s: usize, path: &str, watch: bool) -> Result<Option<St>, String>;
    fn get(&mut self, s: usize, path: &str, watch: bool) -> Result<(Vec<u8>, St), String>;
    fn children(&mut self, s: usize, path: &str, watch: bool) -> Result<Vec<String>, String>;
    /// `multi(check(path, version), create(new))`: the created path, or the first failing
    /// op's index and error.
    fn check_create(
        &mut self,
        s: usize,
        path: &str,
        version: i32,
        new: &str,
    ) -> Result<String, (usize, String)>;
    /// Closes the session (returns once the server has ended it).
    fn close(&mut self, s: usize);
    /// The watch events the session has received so far, as `(type, path)`.
    fn events(&mut self, s: usize) -> Vec<(String, String)>;
}

// ---------------------------------------------------------------------------------------
// The twin.

struct Twin {
    zk: ZooKeeper,
    start: Instant,
    sessions: Vec<(SessionId, u64)>,
}

impl Twin {
    fn new() -> Twin {
        Twin {
            zk: ZooKeeper::new(ZkConfig::conformance()),
            start: Instant::now(),
            sessions: Vec::new(),
        }
    }

    /// The server clock: true time since the twin started.
    fn now(&self) -> ServerClock {
        ServerClock::at(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn sid(&self, s: usize) -> SessionId {
        self.sessions[s].0
    }
}

fn twin_stat(st: lockproof_services::zookeeper::Stat) -> St {
    St {
        czxid: st.czxid,
        version: st.version,
        cversion: st.cversion,
        num_children: st.num_children,
        ephemeral_owner: st.ephemeral_owner.map_or(0, |s| s.0 as i64),
        data_length: st.data_length,
    }
}

fn kind_name(k: EventType) -> String {
    k.to_string()
}

impl Zk for Twin {
    fn connect(&mut self, requested_ms: u64) -> (usize, u64) {
        let c = self.zk.connect(requested_ms, self.now());
        self.sessions.push((c.session, c.timeout_ms));
        (self.sessions.len() - 1, c.timeout_ms)
    }
    fn session_id(&self, s: usize) -> i64 {
        self.sid(s).0 as i64
    }
    fn cons_timeout(&self, s: usize) -> u64 {
        self.zk.session(self.sid(s)).expect("session").timeout_ms
    }
    fn create(
        &mut self,
        s: usize,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, String> {
        let t = self.now();
        self.zk
            .create(self.sid(s), path, data, mode, t)
            .map_err(|e| e.name().to_string())
    }
    fn delete(&mut self, s: usize, path: &str, version: i32) -> Result<(), String> {
        let t = self.now();
        self.zk
            .delete(self.sid(s), path, version, t)
            .map_err(|e| e.name().to_string())
    }
    fn set(&mut self, s: usize, path: &str, data: &[u8], version: i32) -> Result<St, String> {
        let t = self.now();
        self.zk
            .set_data(self.sid(s), path, data, version, t)
            .map(twin_stat)
            .map_err(|e| e.name().to_string())
    }
    fn exists(&mut self, s: usize, path: &str, watch: bool) -> Result<Option<St>, String> {
        let t = self.now();
        self.zk
            .exists(self.sid(s), path, watch, t)
            .map(|o| o.map(twin_stat))
            .map_err(|e| e.name().to_string())
    }
    fn get(&mut self, s: usize, path: &str, watch: bool) -> Result<(Vec<u8>, St), String> {
        let t = self.now();
        self.zk
            .get_data(self.sid(s), path, watch, t)
            .map(|(d, st)| (d, twin_stat(st)))
            .map_err(|e| e.name().to_string())
    }
    fn children(&mut self, s: usize, path: &str, watch: bool) -> Result<Vec<String>, String> {
        let t = self.now();
        self.zk
            .get_children(self.sid(s), path, watch, t)
            .map_err(|e| e.name().to_string())
    }
    fn check_create(
        &mut self,
        s: usize,
        path: &str,
        version: i32,
        new: &str,
    ) -> Result<String, (usize, String)> {
        let t = self.now();
        let ops = [
            Op::Check {
                path: path.into(),
                version,
            },
            Op::Create {
                path: new.into(),
                data: vec![],
                mode: P,
            },
        ];
        let results = self
            .zk
            .multi(self.sid(s), &ops, t)
            .map_err(|e| (0, e.name().to_string()))?;
        if let Some((i, OpResult::Error(e))) = results
            .iter()
            .enumerate()
            .find(|(_, r)| matches!(r, OpResult::Error(_)))
        {
            // §9 check 67 on the twin's full list: the failing op, then RuntimeInconsistency.
            let names: Vec<String> = results.iter().map(|r| r.to_string()).collect();
            if i == 0 {
                assert_eq!(names, ["BadVersion", "RuntimeInconsistency"], "twin multi");
            }
            return Err((i, e.name().to_string()));
        }
        match &results[1] {
            OpResult::Create(p) => Ok(p.clone()),
            other => panic!("twin multi: {other}"),
        }
    }
    fn close(&mut self, s: usize) {
        let t = self.now();
        self.zk.close(self.sid(s), t).expect("close");
    }
    fn events(&mut self, s: usize) -> Vec<(String, String)> {
        self.zk
            .take_events(self.sid(s))
            .into_iter()
            .map(|e| (kind_name(e.kind), e.path))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The real server.

type Watch = Pin<Box<dyn Future<Output = zk::WatchedEvent> + Send>>;

struct Real {
    server: ZkServer,
    rt: tokio::runtime::Runtime,
    sessions: Vec<Option<zk::Client>>,
    ids: Vec<i64>,
    watches: Vec<(usize, Watch)>,
}

impl Real {
    fn new() -> Real {
        let server = ZkServer::start().unwrap_or_else(|e| panic!("{e}"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        Real {
            server,
            rt,
            sessions: Vec::new(),
            ids: Vec::new(),
            watches: Vec::new(),
        }
    }

    fn c(&self, s: usize) -> &zk::Client {
        self.sessions[s].as_ref().expect("an open session")
    }

    fn run<T>(&self, fut: impl Future<Output = Result<T, zk::Error>>) -> Result<T, String> {
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), fut).await })
            .unwrap_or_else(|_| {
                panic!(
                    "ZooKeeper on port {} did not reply in 10 s",
                    self.server.port()
                )
            })
            .map_err(|e| real_error(&e))
    }

    fn watch(&mut self, s: usize, w: zk::OneshotWatcher) {
        self.watches.push((s, Box::pin(w.changed())));
    }
}

fn real_error(e: &zk::Error) -> String {
    match e {
        zk::Error::NodeExists => "NodeExists".into(),
        zk::Error::NoNode => "NoNode".into(),
        zk::Error::NoChildrenForEphemerals => "NoChildrenForEphemerals".into(),
        zk::Error::NotEmpty => "NotEmpty".into(),
        zk::Error::BadVersion => "BadVersion".into(),
        zk::Error::RuntimeInconsistent => "RuntimeInconsistency".into(),
        other => format!("{other:?}"),
    }
}

fn real_stat(st: &zk::Stat) -> St {
    St {
        czxid: st.czxid,
        version: st.version,
        cversion: st.cversion,
        num_children: st.num_children,
        ephemeral_owner: st.ephemeral_owner,
        data_length: st.data_length,
    }
}

fn real_mode(mode: CreateMode) -> zk::CreateMode {
    match mode {
        CreateMode::Persistent => zk::CreateMode::Persistent,
        CreateMode::Ephemeral => zk::CreateMode::Ephemeral,
        CreateMode::PersistentSequential => zk::CreateMode::PersistentSequential,
        CreateMode::EphemeralSequential => zk::CreateMode::EphemeralSequential,
    }
}

fn version_opt(v: i32) -> Option<i32> {
    (v >= 0).then_some(v)
}

impl Zk for Real {
    fn connect(&mut self, requested_ms: u64) -> (usize, u64) {
        let servers = self.server.connect_string();
        let c = self
            .rt
            .block_on(
                zk::Client::connector()
                    .with_session_timeout(Duration::from_millis(requested_ms))
                    .with_fail_eagerly()
                    .connect(&servers),
            )
            .unwrap_or_else(|e| panic!("ZooKeeper at {servers} unreachable: {e}"));
        let negotiated = c.session_timeout().as_millis() as u64;
        self.ids.push(c.session_id().0);
        self.sessions.push(Some(c));
        (self.sessions.len() - 1, negotiated)
    }
    fn session_id(&self, s: usize) -> i64 {
        self.ids[s]
    }
    fn cons_timeout(&self, s: usize) -> u64 {
        let cons = self.server.four_letter("cons").expect("cons");
        let sid = format!("sid=0x{:x}", self.ids[s]);
        let line = cons
            .lines()
            .find(|l| l.contains(&sid))
            .unwrap_or_else(|| panic!("{sid} not in cons: {cons}"));
        let to = line.split("to=").nth(1).expect("to=");
        to.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .expect("to=N")
    }
    fn create(
        &mut self,
        s: usize,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, String> {
        let options = real_mode(mode).with_acls(zk::Acls::anyone_all());
        let (_, seq) = self.run(self.c(s).create(path, data, &options))?;
        Ok(if mode.is_sequential() {
            format!("{path}{seq}")
        } else {
            path.to_string()
        })
    }
    fn delete(&mut self, s: usize, path: &str, version: i32) -> Result<(), String> {
        self.run(self.c(s).delete(path, version_opt(version)))
    }
    fn set(&mut self, s: usize, path: &str, data: &[u8], version: i32) -> Result<St, String> {
        self.run(self.c(s).set_data(path, data, version_opt(version)))
            .map(|st| real_stat(&st))
    }
    fn exists(&mut self, s: usize, path: &str, watch: bool) -> Result<Option<St>, String> {
        if !watch {
            return self
                .run(self.c(s).check_stat(path))
                .map(|o| o.map(|st| real_stat(&st)));
        }
        let (st, w) = self.run(self.c(s).check_and_watch_stat(path))?;
        self.watch(s, w);
        Ok(st.map(|st| real_stat(&st)))
    }
    fn get(&mut self, s: usize, path: &str, watch: bool) -> Result<(Vec<u8>, St), String> {
        if !watch {
            return self
                .run(self.c(s).get_data(path))
                .map(|(d, st)| (d, real_stat(&st)));
        }
        let (d, st, w) = self.run(self.c(s).get_and_watch_data(path))?;
        self.watch(s, w);
        Ok((d, real_stat(&st)))
    }
    fn children(&mut self, s: usize, path: &str, watch: bool) -> Result<Vec<String>, String> {
        if !watch {
            return self.run(self.c(s).list_children(path));
        }
        let (kids, w) = self.run(self.c(s).list_and_watch_children(path))?;
        self.watch(s, w);
        Ok(kids)
    }
    fn check_create(
        &mut self,
        s: usize,
        path: &str,
        version: i32,
        new: &str,
    ) -> Result<String, (usize, String)> {
        let c = self.c(s);
        let mut w = c.new_multi_writer();
        w.add_check_version(path, version).expect("check op");
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        w.add_create(new, b"", &options).expect("create op");
        let r = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), w.commit()).await })
            .expect("multi within 10 s");
        match r {
            Ok(_) => Ok(new.to_string()),
            Err(zk::MultiWriteError::OperationFailed { index, source }) => {
                Err((index, real_error(&source)))
            }
            Err(zk::MultiWriteError::RequestFailed { source }) => Err((0, real_error(&source))),
        }
    }
    fn close(&mut self, s: usize) {
        // zookeeper-client closes the session when the last handle drops; wait until the
        // server no longer lists it.
        drop(self.sessions[s].take());
        let sid = format!("sid=0x{:x}", self.ids[s]);
        let end = Instant::now() + Duration::from_secs(10);
        while self
            .server
            .four_letter("cons")
            .expect("cons")
            .contains(&sid)
        {
            assert!(
                Instant::now() < end,
                "session {sid} still open 10 s after close"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    fn events(&mut self, s: usize) -> Vec<(String, String)> {
        // A client sees a watch event before any reply that reflects its change (§3.3): one
        // read of this session is a barrier behind which every fired event has arrived.
        self.run(self.c(s).check_stat("/")).expect("barrier read");
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for (owner, mut w) in std::mem::take(&mut self.watches) {
            if owner != s {
                kept.push((owner, w));
                continue;
            }
            let fired = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(20), &mut w)
                    .await
                    .ok()
            });
            match fired {
                Some(ev) => out.push((format!("{:?}", ev.event_type), ev.path.to_string())),
                None => kept.push((owner, w)),
            }
        }
        self.watches = kept;
        out
    }
}

// ---------------------------------------------------------------------------------------
// The checks, written once.

type Obs = Vec<String>;

fn setup(z: &mut dyn Zk, n: usize) -> Vec<usize> {
    let s: Vec<usize> = (0..n).map(|_| z.connect(10_000).0).collect();
    z.create(s[0], "/p", b"", P).unwrap();
    s
}

fn suffix_sorted(mut kids: Vec<String>) -> Vec<String> {
    kids.sort_by_key(|k| sequence_of(k));
    kids
}

fn check_57(z: &mut dyn Zk) -> Obs {
    let (short, to_short) = z.connect(500);
    let (long, to_long) = z.connect(60_000);
    vec![
        format!("negotiated {to_short} {to_long}"),
        format!(
            "cons to={} to={}",
            z.cons_timeout(short),
            z.cons_timeout(long)
        ),
    ]
}

fn check_58(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    let a = z.create(s, "/p/lock-", b"", ES).unwrap();
    let b = z.create(s, "/p/lock-", b"", ES).unwrap();
    z.delete(s, &b, -1).unwrap();
    let c = z.create(s, "/p/lock-", b"", ES).unwrap();
    vec![a, b, c]
}

fn check_59(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    let n0 = z.create(s, "/p/n-", b"", ES).unwrap();
    let n1 = z.create(s, "/p/n-", b"", ES).unwrap();
    z.delete(s, &n1, -1).unwrap();
    let n2 = z.create(s, "/p/n-", b"", ES).unwrap();
    z.delete(s, &n0, -1).unwrap();
    let n3 = z.create(s, "/p/n-", b"", PS).unwrap();
    z.create(s, "/p/x", b"", P).unwrap();
    z.delete(s, "/p/x", -1).unwrap();
    let n5 = z.create(s, "/p/n-", b"", PS).unwrap();
    let st = z.exists(s, "/p", false).unwrap().unwrap();
    let suffixes: Vec<i32> = [&n0, &n1, &n2, &n3, &n5]
        .iter()
        .map(|n| sequence_of(n).unwrap())
        .collect();
    vec![
        format!("suffixes {suffixes:?}"),
        format!("cversion {} children {}", st.cversion, st.num_children),
    ]
}

fn check_60(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    z.create(s, "/q", b"", P).unwrap();
    vec![
        z.create(s, "/p/lock-", b"", ES).unwrap(),
        z.create(s, "/p/read-", b"", ES).unwrap(),
        z.create(s, "/q/lock-", b"", ES).unwrap(),
    ]
}

fn check_61(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    z.create(s, "/p/e", b"", E).unwrap();
    vec![
        format!("{:?}", z.create(s, "/p", b"", P)),
        format!("{:?}", z.create(s, "/missing/x", b"", P)),
        format!("{:?}", z.create(s, "/p/e/child", b"", P)),
        format!("{:?}", z.delete(s, "/p", -1)),
    ]
}

fn check_62(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    for _ in 0..15 {
        z.create(s, "/p/lock-", b"", ES).unwrap();
    }
    let kids = z.children(s, "/p", false).unwrap();
    let sorted = suffix_sorted(kids.clone());
    let suffixes: Vec<i32> = sorted.iter().map(|k| sequence_of(k).unwrap()).collect();
    vec![
        format!("count {}", kids.len()),
        format!("returned sorted {}", kids == sorted),
        format!("suffixes {suffixes:?}"),
    ]
}

fn check_63(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 2);
    let (a, b) = (s[0], s[1]);
    let mut out = vec![format!(
        "{:?}",
        z.exists(a, "/p/w", true).map(|o| o.is_some())
    )];
    z.create(b, "/p/w", b"v0", P).unwrap();
    out.push(format!("{:?}", z.events(a)));
    z.get(a, "/p/w", true).unwrap();
    z.set(b, "/p/w", b"v1", -1).unwrap();
    z.set(b, "/p/w", b"v2", -1).unwrap();
    out.push(format!("{:?}", z.events(a)));
    out
}

fn check_64(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 2);
    let (a, b) = (s[0], s[1]);
    z.create(b, "/p/w", b"", P).unwrap();
    let mut out = vec![format!(
        "{:?}",
        z.exists(a, "/p/w", true).map(|o| o.is_some())
    )];
    z.delete(b, "/p/w", -1).unwrap();
    z.create(b, "/p/w", b"", P).unwrap();
    z.delete(b, "/p/w", -1).unwrap();
    out.push(format!("{:?}", z.events(a)));
    z.children(a, "/p", true).unwrap();
    z.create(b, "/p/c", b"", P).unwrap();
    z.set(b, "/p", b"changed", -1).unwrap();
    out.push(format!("{:?}", z.events(a)));
    out
}

fn check_65(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 2);
    let (a, b) = (s[0], s[1]);
    z.create(a, "/p/e", b"", E).unwrap();
    let mut out = vec![format!(
        "{:?}",
        z.exists(b, "/p/e", true).map(|o| o.is_some())
    )];
    z.close(a);
    out.push(format!("{:?}", z.events(b)));
    out.push(format!("{:?}", z.exists(b, "/p/e", false)));
    out
}

fn check_67(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 1)[0];
    z.create(s, "/p/c", b"v0", P).unwrap();
    let mut out = vec![
        format!("{:?}", z.set(s, "/p/c", b"v1", 0).map(|st| st.version)),
        format!("{:?}", z.set(s, "/p/c", b"v2", 0).map(|st| st.version)),
        format!("{:?}", z.check_create(s, "/p/c", 0, "/p/c3")),
        format!("{:?}", z.exists(s, "/p/c3", false)),
        format!("{:?}", z.check_create(s, "/p/c", 1, "/p/c3")),
    ];
    let c = z.exists(s, "/p/c", false).unwrap().unwrap();
    let c3 = z.exists(s, "/p/c3", false).unwrap().unwrap();
    z.create(s, "/p/e", b"", E).unwrap();
    let e = z.exists(s, "/p/e", false).unwrap().unwrap();
    out.push(format!(
        "later czxid larger {} {}",
        c3.czxid > c.czxid,
        e.czxid > c3.czxid
    ));
    out.push(format!(
        "ephemeralOwner is the session {}; persistent has none {}",
        e.ephemeral_owner == z.session_id(s),
        c.ephemeral_owner == 0
    ));
    out
}

/// kazoo's `Lock` protocol (check 68): one `<id>__lock__` node per contender, the lowest holds,
/// a waiter watches its predecessor.
struct Contender {
    session: usize,
    node: Option<String>,
}

impl Contender {
    fn enter(&mut self, z: &mut dyn Zk, parent: &str) -> Result<(), String> {
        let prefix = format!("{parent}/{:032x}__lock__", self.session);
        self.node = Some(z.create(self.session, &prefix, b"", ES).unwrap());
        self.check(z, parent)
    }

    /// Holds (Ok) or the predecessor it set an exists watch on (Err).
    fn check(&mut self, z: &mut dyn Zk, parent: &str) -> Result<(), String> {
        let me = self.node.clone().unwrap();
        let kids = suffix_sorted(z.children(self.session, parent, false).unwrap());
        let pos = kids.iter().position(|k| me.ends_with(k.as_str())).unwrap();
        if pos == 0 {
            return Ok(());
        }
        let pred = format!("{parent}/{}", kids[pos - 1]);
        match z.exists(self.session, &pred, true).unwrap() {
            Some(_) => Err(pred.rsplit("__lock__").next().unwrap().to_string()),
            None => self.check(z, parent),
        }
    }

    fn leave(&mut self, z: &mut dyn Zk) {
        let node = self.node.take().unwrap();
        z.delete(self.session, &node, -1).unwrap();
    }
}

fn check_68(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 2);
    z.create(s[0], "/p/lock", b"", P).unwrap();
    let mut a = Contender {
        session: s[0],
        node: None,
    };
    let mut b = Contender {
        session: s[1],
        node: None,
    };
    let mut out = vec![format!("A {:?}", a.enter(z, "/p/lock"))];
    // acquire(blocking=False): not the lowest → remove the node again.
    out.push(format!("B try {:?}", b.enter(z, "/p/lock").is_ok()));
    b.leave(z);
    out.push(format!(
        "children {}",
        z.children(s[1], "/p/lock", false).unwrap().len()
    ));
    // acquire(timeout=0.5): waits on A's node, nothing fires, gives up.
    out.push(format!("B timed {:?}", b.enter(z, "/p/lock").is_ok()));
    out.push(format!("events {:?}", z.events(s[1])));
    b.leave(z);
    out.push(format!(
        "children {}",
        z.children(s[1], "/p/lock", false).unwrap().len()
    ));
    // The watch set by the timed attempt was on A's node, which still exists: it fires on
    // A's release below together with the blocking attempt's watch on the same node
    // (one server-side watch per path and session: one event).
    out.push(format!("B blocks {:?}", b.enter(z, "/p/lock").is_ok()));
    a.leave(z);
    let woke = z.events(s[1]);
    out.push(format!(
        "B woken by {}",
        woke.iter().any(|(k, _)| k == "NodeDeleted")
    ));
    out.push(format!("B holds {:?}", b.check(z, "/p/lock")));
    b.leave(z);
    out.push(format!(
        "children {}",
        z.children(s[1], "/p/lock", false).unwrap().len()
    ));
    out
}

fn check_69(z: &mut dyn Zk) -> Obs {
    let s = setup(z, 4);
    z.create(s[0], "/p/lock", b"", P).unwrap();
    let mut cs: Vec<Contender> = s
        .iter()
        .map(|&session| Contender {
            session,
            node: None,
        })
        .collect();
    let mut out = vec![format!("holder {:?}", cs[0].enter(z, "/p/lock"))];
    for c in &mut cs[1..] {
        out.push(format!("waiter {:?}", c.enter(z, "/p/lock").is_ok()));
    }
    cs[0].leave(z);
    let woken: Vec<usize> = (1..4).filter(|&i| !z.events(s[i]).is_empty()).collect();
    out.push(format!("predecessor watch wakes {woken:?}"));
    // The parent-watch variant: every waiter watches /p/lock2's children.
    z.create(s[0], "/p/lock2", b"", P).unwrap();
    let holder = z.create(s[0], "/p/lock2/n-", b"", ES).unwrap();
    for &w in &s[1..] {
        z.create(w, "/p/lock2/n-", b"", ES).unwrap();
    }
    for &w in &s[1..] {
        z.children(w, "/p/lock2", true).unwrap();
    }
    z.delete(s[0], &holder, -1).unwrap();
    let woken: Vec<String> = (1..4).map(|i| format!("{:?}", z.events(s[i]))).collect();
    out.push(format!("parent watch wakes {woken:?}"));
    out
}

/// Runs `check` on the real server and on the twin; the observations must be equal.
fn differential(name: &str, check: fn(&mut dyn Zk) -> Obs) -> Obs {
    let real = check(&mut Real::new());
    let twin = check(&mut Twin::new());
    for (i, (r, t)) in real.iter().zip(&twin).enumerate() {
        assert_eq!(r, t, "{name}: observation {i} differs (real, then twin)");
    }
    assert_eq!(real.len(), twin.len(), "{name}: observation counts");
    real
}

#[test]
fn check_57_negotiated_session_timeout() {
    let o = differential("57", check_57);
    assert_eq!(o, ["negotiated 1000 10000", "cons to=1000 to=10000"]);
}

#[test]
fn check_58_sequence_numbers_are_not_reused() {
    let o = differential("58", check_58);
    assert_eq!(
        o,
        [
            "/p/lock-0000000000",
            "/p/lock-0000000001",
            "/p/lock-0000000002"
        ]
    );
}

#[test]
fn check_59_suffix_counts_creations_cversion_counts_deletes() {
    let o = differential("59", check_59);
    assert_eq!(o, ["suffixes [0, 1, 2, 3, 5]", "cversion 9 children 3"]);
}

#[test]
fn check_60_one_counter_per_parent() {
    let o = differential("60", check_60);
    assert_eq!(
        o,
        [
            "/p/lock-0000000000",
            "/p/read-0000000001",
            "/q/lock-0000000000"
        ]
    );
}

#[test]
fn check_61_create_and_delete_errors() {
    let o = differential("61", check_61);
    assert_eq!(
        o,
        [
            "Err(\"NodeExists\")",
            "Err(\"NoNode\")",
            "Err(\"NoChildrenForEphemerals\")",
            "Err(\"NotEmpty\")"
        ]
    );
}

#[test]
fn check_62_get_children_is_unsorted() {
    let o = differential("62", check_62);
    let suffixes: Vec<i32> = (0..15).collect();
    assert_eq!(
        o,
        [
            "count 15".to_string(),
            "returned sorted false".to_string(),
            format!("suffixes {suffixes:?}")
        ]
    );
}

#[test]
fn check_63_created_then_changed_fire_once_each() {
    let o = differential("63", check_63);
    assert_eq!(
        o,
        [
            "Ok(false)",
            "[(\"NodeCreated\", \"/p/w\")]",
            "[(\"NodeDataChanged\", \"/p/w\")]"
        ]
    );
}

#[test]
fn check_64_deleted_once_and_one_child_event() {
    let o = differential("64", check_64);
    assert_eq!(
        o,
        [
            "Ok(true)",
            "[(\"NodeDeleted\", \"/p/w\")]",
            "[(\"NodeChildrenChanged\", \"/p\")]"
        ]
    );
}

#[test]
fn check_65_close_deletes_ephemerals_and_fires_the_watch() {
    let o = differential("65", check_65);
    assert_eq!(o, ["Ok(true)", "[(\"NodeDeleted\", \"/p/e\")]", "Ok(None)"]);
}

#[test]
fn check_67_versions_multi_zxids_and_owner() {
    let o = differential("67", check_67);
    assert_eq!(
        o,
        [
            "Ok(1)",
            "Err(\"BadVersion\")",
            "Err((0, \"BadVersion\"))",
            "Ok(None)",
            "Ok(\"/p/c3\")",
            "later czxid larger true true",
            "ephemeralOwner is the session true; persistent has none true"
        ]
    );
}

#[test]
fn check_68_kazoo_lock_protocol() {
    let o = differential("68", check_68);
    assert_eq!(
        o,
        [
            "A Ok(())",
            "B try false",
            "children 1",
            "B timed false",
            "events []",
            "children 1",
            "B blocks false",
            "B woken by true",
            "B holds Ok(())",
            "children 0"
        ]
    );
}

#[test]
fn check_69_predecessor_watch_wakes_one_parent_watch_wakes_all() {
    let o = differential("69", check_69);
    let child = "[(\"NodeChildrenChanged\", \"/p/lock2\")]";
    assert_eq!(
        o,
        [
            "holder Ok(())".to_string(),
            "waiter false".to_string(),
            "waiter false".to_string(),
            "waiter false".to_string(),
            "predecessor watch wakes [1]".to_string(),
            format!("parent watch wakes [{child:?}, {child:?}, {child:?}]")
        ]
    );
}

#[test]
fn the_twin_reports_a_failed_multi_in_full() {
    // What zookeeper-client hides (see the module doc), held to §9 on the twin alone.
    let mut t = Twin::new();
    let s = setup(&mut t, 1)[0];
    t.create(s, "/p/c", b"", P).unwrap();
    assert_eq!(
        t.check_create(s, "/p/c", 5, "/p/c3"),
        Err((0, "BadVersion".into()))
    );
}
