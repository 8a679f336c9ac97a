//! Private ZooKeeper and etcd servers for tests (DISTRIBUTED.md §8): each on free loopback
//! ports, with its data in a temporary directory, ready within a bounded wait, and killed
//! (SIGKILL) with its directory removed when the guard drops. A missing binary or a server
//! that does not come up is a one-line error, never a skip.
//!
//! The packages come from Debian (`ci/servers.sh`): `zookeeper` (ZooKeeper 3.8, run as
//! `ZooKeeperServerMain` from `/usr/share/java/zookeeper.jar` on `java`) and `etcd-server`.
//! `LOCKPROOF_ZOOKEEPER_JAR` and `LOCKPROOF_ETCD` name other locations.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its readiness probe.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// A free TCP port on 127.0.0.1 (bound, read back, released: another process may take it
/// before the server does; the server then fails to start and the guard says so).
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot bind a free loopback port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read a bound port back: {e}"))
}

/// Sends `request` to 127.0.0.1:`port` and reads the whole reply (the server closes).
fn exchange(port: u16, request: &[u8]) -> std::io::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(request)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The last non-empty line of a log file, for a one-line error.
fn last_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(empty log)".to_string())
}

/// A started server process with its directory and log.
#[derive(Debug)]
struct Process {
    child: Child,
    /// The server's data and log, removed when the guard drops (after the process is gone).
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Process {
    fn spawn(what: &str, mut cmd: Command, dir: tempfile::TempDir) -> Result<Process, String> {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).map_err(|e| format!("{what}: log file: {e}"))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{what}: log file: {e}"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{what} could not be started ({e}): run ci/servers.sh"))?;
        Ok(Process {
            child,
            _dir: dir,
            log,
        })
    }

    /// Polls `ready` until it holds; an error line when the process exits or time runs out.
    fn wait_ready(&mut self, what: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
        let end = Instant::now() + READY_LIMIT;
        loop {
            if ready() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{what} exited ({status}) before it was ready: {}",
                    last_line(&self.log)
                ));
            }
            if Instant::now() >= end {
                return Err(format!(
                    "{what} was not ready within {READY_LIMIT:?}: {}",
                    last_line(&self.log)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private standalone ZooKeeper server: tickTime 500 ms, maxSessionTimeout 10 000 ms (the
/// settings of DISTRIBUTED.md §9), four-letter words `ruok`, `srvr`, `cons`, `wchp` enabled.
///
/// # Examples
///
/// ```no_run
/// use lockproof_distributed_coord::testing::ZkServer;
///
/// let zk = ZkServer::start().unwrap_or_else(|e| panic!("{e}"));
/// assert_eq!(zk.four_letter("ruok").unwrap(), "imok");
/// println!("connect to {}", zk.connect_string());
/// // dropped: the server is killed and its directory removed
/// ```
#[derive(Debug)]
pub struct ZkServer {
    process: Process,
    port: u16,
}

impl ZkServer {
    /// Starts one and waits (bounded) until it answers `ruok` with `imok` and serves requests.
    pub fn start() -> Result<ZkServer, String> {
        let jar = std::env::var("LOCKPROOF_ZOOKEEPER_JAR")
            .unwrap_or_else(|_| "/usr/share/java/zookeeper.jar".to_string());
        if !Path::new(&jar).exists() {
            return Err(format!(
                "ZooKeeper is not installed: {jar} is missing (run ci/servers.sh)"
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("lockproof-zk-")
            .tempdir()
            .map_err(|e| format!("ZooKeeper: temporary directory: {e}"))?;
        let port = free_port()?;
        let conf = dir.path().join("conf");
        let data = dir.path().join("data");
        for d in [&conf, &data] {
            std::fs::create_dir_all(d).map_err(|e| format!("ZooKeeper: {}: {e}", d.display()))?;
        }
        let cfg = conf.join("zoo.cfg");
        std::fs::write(
            &cfg,
            format!(
                "tickTime=500\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
                 maxSessionTimeout=10000\nadmin.enableServer=false\n\
                 4lw.commands.whitelist=ruok,srvr,cons,wchp\n",
                data.display()
            ),
        )
        .map_err(|e| format!("ZooKeeper: {}: {e}", cfg.display()))?;
        let mut cmd = Command::new("java");
        cmd.arg("-Xmx128m")
            .arg("-XX:+UseSerialGC")
            .arg("-cp")
            .arg(format!("{}:{jar}", conf.display()))
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&cfg);
        let process = Process::spawn("ZooKeeper (java)", cmd, dir)?;
        let mut s = ZkServer { process, port };
        // `ruok` answers `imok` as soon as the port is open; `srvr` says `Mode: standalone`
        // only once the server serves requests (before, sessions are refused).
        s.process
            .wait_ready(&format!("ZooKeeper on port {port}"), || {
                exchange(port, b"ruok").is_ok_and(|r| r == "imok")
                    && exchange(port, b"srvr").is_ok_and(|r| r.contains("Mode: standalone"))
            })?;
        Ok(s)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, the connect string of the clients.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The reply to a four-letter word (`ruok`, `srvr`, `cons`, `wchp`).
    pub fn four_letter(&self, word: &str) -> Result<String, String> {
        exchange(self.port, word.as_bytes())
            .map_err(|e| format!("ZooKeeper on port {}: {word}: {e}", self.port))
    }
}

/// A private single-member etcd server, client and peer URLs on free loopback ports.
///
/// # Examples
///
/// ```no_run
/// use lockproof_distributed_coord::testing::EtcdServer;
///
/// let etcd = EtcdServer::start().unwrap_or_else(|e| panic!("{e}"));
/// println!("connect to {}", etcd.endpoint());
/// ```
#[derive(Debug)]
pub struct EtcdServer {
    process: Process,
    port: u16,
}

impl EtcdServer {
    /// Starts one and waits (bounded) until `GET /health` reports healthy.
    pub fn start() -> Result<EtcdServer, String> {
        let bin = std::env::var("LOCKPROOF_ETCD").unwrap_or_else(|_| "etcd".to_string());
        let dir = tempfile::Builder::new()
            .prefix("lockproof-etcd-")
            .tempdir()
            .map_err(|e| format!("etcd: temporary directory: {e}"))?;
        let (port, peer) = (free_port()?, free_port()?);
        let client_url = format!("http://127.0.0.1:{port}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut cmd = Command::new(&bin);
        cmd.args(["--name", "ci", "--data-dir"])
            .arg(dir.path().join("etcd"))
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("ci={peer_url}")]);
        let process = Process::spawn(&format!("etcd ({bin})"), cmd, dir)?;
        let mut s = EtcdServer { process, port };
        s.process.wait_ready(&format!("etcd on port {port}"), || {
            exchange(port, b"GET /health HTTP/1.0\r\n\r\n")
                .is_ok_and(|r| r.contains("\"health\":\"true\""))
        })?;
        Ok(s)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, the endpoint of the clients.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's pid (to pause or kill it in a test).
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }
}
