//! The kazoo-like client of the ZooKeeper twin on the simulation, on real threads (`Std`):
//! session expiry seen as `LOST` then a new session, heartbeats while sleeping, watch events.

use lockproof::backend::{Backend, Std};
use lockproof_services::sim::{Cluster, Faults};
use lockproof_services::zookeeper::{
    ClientError, CreateMode, EventType, KazooState, ZkClient, ZkConfig, ZkError, ZooKeeper,
};
use std::time::Duration;

/// A server with tickTime 50 ms: sessions of 100–1000 ms.
fn setup() -> (
    Cluster<Std>,
    lockproof_services::sim::Server<ZooKeeper, Std>,
) {
    let cluster = Cluster::<Std>::new(Faults::none());
    let zk = cluster.server("zookeeper", ZooKeeper::new(ZkConfig::with_tick(50)));
    (cluster, zk)
}

#[test]
fn a_silent_client_loses_its_session_and_its_next_request_opens_a_new_one() {
    let (cluster, zk) = setup();
    let client = ZkClient::new(&cluster.node("client-1"), &zk, 100);
    let first = client.start(1).unwrap();
    assert_eq!(client.negotiated_ms(), 100);
    let node = client.create("/e", b"", CreateMode::Ephemeral).unwrap();
    // No heartbeat for 300 ms (a pause): the server expires the session at its deadline.
    Std::sleep(Duration::from_millis(300));
    assert_eq!(
        client.exists(&node, false),
        Err(ClientError::Zk(ZkError::SessionExpired))
    );
    assert_eq!(client.state(), KazooState::Lost);
    assert_eq!(
        ClientError::Zk(ZkError::SessionExpired).to_string(),
        "SessionExpiredError"
    );
    // kazoo reconnects by itself: a new session, and the ephemeral node is gone.
    assert_eq!(client.exists(&node, false), Ok(None));
    let second = client.session().unwrap();
    assert_ne!(second, first);
    assert_eq!(
        client.states(),
        [
            KazooState::Connected,
            KazooState::Lost,
            KazooState::Connected
        ]
    );
}

#[test]
fn sleeping_through_the_client_keeps_the_session_alive() {
    let (cluster, zk) = setup();
    let client = ZkClient::new(&cluster.node("client-1"), &zk, 300);
    let s = client.start(1).unwrap();
    client.create("/e", b"", CreateMode::Ephemeral).unwrap();
    client.sleep(Duration::from_millis(700)); // pings every third of the timeout
    assert_eq!(client.session(), Some(s));
    assert!(client.exists("/e", false).unwrap().is_some());
    assert_eq!(client.state(), KazooState::Connected);
}

#[test]
fn a_waiter_gets_the_predecessors_deletion() {
    let (cluster, zk) = setup();
    let holder = ZkClient::new(&cluster.node("holder"), &zk, 1000);
    let waiter = ZkClient::new(&cluster.node("waiter"), &zk, 1000);
    holder.start(1).unwrap();
    waiter.start(1).unwrap();
    holder.ensure_path("/lock").unwrap();
    let first = holder
        .create("/lock/lock-", b"", CreateMode::EphemeralSequential)
        .unwrap();
    assert!(waiter.exists(&first, true).unwrap().is_some());
    assert_eq!(waiter.wait_event(Duration::from_millis(60)), None);
    holder.delete_any(&first).unwrap();
    let e = waiter.wait_event(Duration::from_millis(500)).unwrap();
    assert_eq!(
        (e.kind, e.path.as_str()),
        (EventType::NodeDeleted, first.as_str())
    );
    assert_eq!(waiter.reads(), 1);
}
