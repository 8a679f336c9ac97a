//! The README's "Distributed locks" example, verbatim: a user's job that takes a Redis lock
//! with a TTL, checked with pauses. Unfenced, the paused worker writes after the next one;
//! with the token issued in the same step as the grant and a fenced store, it is refused.

use lockproof::backend::spawn::ProcessHandle;
use lockproof::backend::Backend;
use lockproof_harness::{Check, Model};
use lockproof_services::redis::{Cmd, Lua, Redis, RedisClient, RedisError, Script, ScriptCtx};
use lockproof_services::sim::{Cluster, Faults};
use std::time::Duration;

// SET NX PX and INCR in one step: the grant and its fencing token.
fn grant(ctx: &mut ScriptCtx<'_>, keys: &[String], args: &[String]) -> Result<Lua, RedisError> {
    if !ctx
        .call(Cmd::set(&keys[0], &args[0]).nx().px(1000))?
        .truthy()
    {
        return Ok(Lua::Nil);
    }
    ctx.call(Cmd::incr(&keys[1]))
}
const GRANT: Script = Script::new("grant", "if redis.call('SET',KEYS[1],ARGV[1],'NX','PX',1000) then return redis.call('INCR',KEYS[2]) end", grant);

struct Job {
    fenced: bool,
} // two workers: take the lock, work 0.5 s, write the result

impl Model for Job {
    fn run<B: Backend>(&self) {
        let cluster = Cluster::<B>::new(Faults::none());
        let redis = cluster.server("redis", Redis::new());
        let store = cluster.storage("store", self.fenced);
        let workers: Vec<_> = (1..=2)
            .map(|i| {
                let name = format!("worker-{i}");
                let redis = RedisClient::new(cluster.node(&name), redis.clone());
                let store = store.clone();
                B::spawn_process(&name, move || {
                    let token = loop {
                        match redis.eval(GRANT, &["lock", "fence"], &[redis.node().name()]) {
                            Ok(reply) if reply.as_int().is_some() => break reply.as_int(),
                            _ => B::sleep(Duration::from_millis(100)),
                        }
                    };
                    B::sleep(Duration::from_millis(500)); // the work
                    let _ = store.write(redis.node(), token.map(|t| t as u64), "result");
                })
            })
            .collect();
        workers.into_iter().for_each(|w| {
            w.join();
        });
    }
}

#[test]
fn a_worker_paused_past_its_ttl_writes_after_the_next_holder() {
    Check::new(Job { fenced: false })
        .pauses(1, Duration::from_secs(2))
        .assert_violates("stale-write");
}

#[test]
fn a_fenced_store_refuses_it() {
    Check::new(Job { fenced: true })
        .pauses(1, Duration::from_secs(2))
        .assert_holds();
}
