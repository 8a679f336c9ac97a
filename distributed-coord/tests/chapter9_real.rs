//! Chapter 9's ZooKeeper defect the checker found on the twin (`ex-9.3-02`, scenario in
//! `models/services/src/ch9_zookeeper.rs`), shown on a real ZooKeeper (a private server on a
//! free port, killed when the test ends).

use lockproof_distributed_coord::testing::ZkServer;
use std::future::Future;
use std::time::Duration;
use zookeeper_client as zk;

/// ex-9.3-02 (read-write-exclusion): `ZookeeperReadWriteLock._acquire_lock` calls
/// `_can_acquire_lock` — it lists `read_locks/` and `write_locks/` and decides (a reader: no
/// writer node; a writer: no node at all) — and only then `_create_lock_node` creates an
/// ephemeral-sequential `lock-` node under its own parent. A reader and a writer that both
/// check before either creates both see nothing in the way, both create, and both are inside.
/// No fault is needed: the test runs the two sessions' requests in that order on the real
/// server (one try; the interleaving is the counterexample's).
#[test]
fn read_write_lock_check_then_create_lets_a_reader_and_a_writer_in_together() {
    let server = ZkServer::start().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let block = |fut: std::pin::Pin<Box<dyn Future<Output = Result<(), zk::Error>> + '_>>| {
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), fut).await })
            .expect("ZooKeeper replied within 10 s")
    };
    let connect = || {
        rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                zk::Client::connector()
                    .with_session_timeout(Duration::from_secs(5))
                    .connect(&server.connect_string()),
            )
            .await
        })
        .expect("connected within 10 s")
        .unwrap_or_else(|e| panic!("ZooKeeper at {} unreachable: {e}", server.connect_string()))
    };
    let (reader, writer, observer) = (connect(), connect(), connect());
    let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    for path in ["/rw", "/rw/read_locks", "/rw/write_locks"] {
        block(Box::pin(async {
            reader.create(path, b"", &persistent).await.map(|_| ())
        }))
        .expect("the lock's parents");
    }
    let list = |c: &zk::Client, parent: &str| -> Vec<String> {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), c.list_children(parent)).await
        })
        .expect("ZooKeeper replied within 10 s")
        .expect("list_children")
    };
    // _can_acquire_lock, the reader's then the writer's, before either creates.
    let (r_reads, r_writes) = (
        list(&reader, "/rw/read_locks"),
        list(&reader, "/rw/write_locks"),
    );
    let reader_may = r_writes.is_empty(); // a reader waits for writers only
    let (w_reads, w_writes) = (
        list(&writer, "/rw/read_locks"),
        list(&writer, "/rw/write_locks"),
    );
    let writer_may = w_reads.is_empty() && w_writes.is_empty();
    assert!(r_reads.is_empty(), "nobody has created yet");
    assert!(reader_may && writer_may, "each sees nothing in its way");
    // _create_lock_node, each under its own parent.
    let node = zk::CreateMode::EphemeralSequential.with_acls(zk::Acls::anyone_all());
    block(Box::pin(async {
        reader
            .create("/rw/read_locks/lock-", b"uuid-r:1:now", &node)
            .await
            .map(|_| ())
    }))
    .expect("the reader's node");
    block(Box::pin(async {
        writer
            .create("/rw/write_locks/lock-", b"uuid-w:1:now", &node)
            .await
            .map(|_| ())
    }))
    .expect("the writer's node");
    // Both hold their lock at once, as a third session sees the tree.
    let (readers, writers) = (
        list(&observer, "/rw/read_locks"),
        list(&observer, "/rw/write_locks"),
    );
    assert_eq!(
        (readers.len(), writers.len()),
        (1, 1),
        "a reader and a writer are inside together: read-write exclusion is violated"
    );
}
