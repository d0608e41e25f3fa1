//! Rate limits: by method pattern, keyed by the client's address, the
//! principal, or a param (a login name carried in params), as a rate with a
//! burst (a token bucket). Every call counts, multicall entries included,
//! or only the calls whose answer is one of the given faults or backend
//! HTTP statuses ("five failed logins per address per minute"). A call over
//! a limit is refused before it runs: HTTP 429 with `Retry-After` for a
//! single call, fault -32429 for a multicall entry (the others run).
//!
//! A limit that counts only some answers takes its token before the call
//! and gives it back when the answer does not count, so a multicall of a
//! hundred guesses lets at most the burst reach the backend, however many
//! run at once.
//!
//! A limit's scope says where its buckets live. `replica` (the default):
//! in memory, per replica; a bucket that has refilled is forgotten, and a
//! limit holds at most 100,000 keys (a new key beyond that is refused until
//! old ones refill: an attacker rotating keys cannot grow memory or escape
//! the limit). `cluster`: in the rate-limit store (Redis, shared by every
//! replica; `backend/counters.rs`), one round trip per check. When the
//! store cannot answer within its timeout, a cluster limit falls back to
//! this replica's share of it (rate and burst divided by
//! `rate_limit.replicas`) in memory, and the failure is counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::error::CallError;
use super::table::Pattern;
use crate::backend::mapping::ParamPath;
use crate::backend::{BackendError, CounterStore};
use crate::call::CallContext;
use crate::xmlrpc::Value;

/// Keys one limit holds at most.
pub(crate) const MAX_KEYS: usize = 100_000;

/// Where a limit's buckets live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Scope {
    /// In this replica's memory: each replica allows the whole limit.
    #[default]
    Replica,
    /// In the rate-limit store, shared by every replica.
    Cluster,
}

impl TryFrom<String> for Scope {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "replica" => Ok(Scope::Replica),
            "cluster" => Ok(Scope::Cluster),
            _ => Err(format!("{text:?} is not one of replica, cluster")),
        }
    }
}

/// What a limit counts callers by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitKey {
    /// The client's IP address.
    Peer,
    /// The authenticated principal (`anonymous` for none).
    Principal,
    /// A param or a member of one (`{1}`, `{0.login}`).
    Param(ParamPath),
}

/// Which calls a limit counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Answers with these fault codes count (empty with `statuses`: all).
    pub faults: Vec<i32>,
    /// Backend answers with these HTTP statuses (not mapped to a fault by
    /// the backend's error table) count.
    pub statuses: Vec<u16>,
}

impl Counts {
    fn all(&self) -> bool {
        self.faults.is_empty() && self.statuses.is_empty()
    }

    /// Whether `result` is an answer this limit counts.
    fn counts(
        &self,
        result: &Result<Value, CallError>,
        fault_code: impl Fn(&CallError) -> i32,
    ) -> bool {
        let Err(err) = result else { return false };
        if let CallError::Backend {
            source: BackendError::Rejected(status, _) | BackendError::Status(status, _),
            ..
        } = err
            && self.statuses.contains(status)
        {
            return true;
        }
        self.faults.contains(&fault_code(err))
    }
}

/// One limit, as configured.
#[derive(Debug)]
pub struct Limit {
    /// Its name (the metric label).
    pub name: String,
    /// The names it applies to.
    pub methods: Vec<Pattern>,
    /// What it counts callers by.
    pub key: LimitKey,
    /// Calls it allows in one burst.
    pub burst: u32,
    /// How long it takes to earn `rate` calls back.
    pub per: Duration,
    /// Calls earned back per `per`.
    pub rate: u32,
    /// Which calls count.
    pub counts: Counts,
    /// Where its buckets live.
    pub scope: Scope,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limit {
    /// A limit with no bucket yet.
    pub fn new(
        name: String,
        methods: Vec<Pattern>,
        key: LimitKey,
        rate: u32,
        per: Duration,
        burst: u32,
        counts: Counts,
    ) -> Self {
        Limit {
            name,
            methods,
            key,
            burst: burst.max(1),
            per,
            rate: rate.max(1),
            counts,
            scope: Scope::Replica,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The same limit with its buckets in `scope`.
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    fn refill_per_sec(&self) -> f64 {
        f64::from(self.rate) / self.per.as_secs_f64().max(1e-9)
    }

    /// Rate and burst of this replica's share when the limit is split
    /// `share` ways (at least one call per burst).
    fn share(&self, share: u32) -> (f64, f64) {
        let share = share.max(1);
        (
            self.refill_per_sec() / f64::from(share),
            f64::from(self.burst.div_ceil(share).max(1)),
        )
    }

    fn key_of(&self, params: &[Value], ctx: &CallContext) -> String {
        match &self.key {
            LimitKey::Peer => ctx
                .peer
                .map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string()),
            LimitKey::Principal => ctx.principal.as_deref().unwrap_or("anonymous").to_owned(),
            LimitKey::Param(path) => match path.find(params) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Int(n)) => n.to_string(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
        }
    }

    /// Takes a token for `key` from this replica's buckets (its `share`
    /// of the limit), or says how long until one is there.
    fn take(&self, key: &str, now: Instant, share: u32) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (rate, burst) = self.share(share);
        if !buckets.contains_key(key) && buckets.len() >= MAX_KEYS {
            // Forget the buckets that have refilled: they are as if new.
            buckets.retain(|_, b| b.tokens + rate * now.duration_since(b.at).as_secs_f64() < burst);
            if buckets.len() >= MAX_KEYS {
                return Err(self.per);
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + rate * now.duration_since(bucket.at).as_secs_f64()).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Gives back a token taken for an answer that did not count.
    fn give_back(&self, key: &str, share: u32) {
        let (_, burst) = self.share(share);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(burst);
        }
    }
}

/// Where a token was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// The store.
    Store,
    /// This replica's buckets, split this many ways.
    Local(u32),
}

/// Tokens a call took, to give back the ones its answer does not count for.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    tokens: Vec<(usize, String, Held)>,
}

/// Every configured limit.
#[derive(Debug, Default)]
pub struct RateLimits {
    limits: Vec<Limit>,
    /// Where `cluster` limits keep their buckets.
    store: Option<Arc<CounterStore>>,
    /// How many ways a cluster limit splits when the store is away.
    replicas: u32,
}

/// How a limit decided, for the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitOutcome {
    Allowed,
    Limited,
    GivenBack,
    /// The store did not answer: the replica's share decided.
    StoreError,
}

impl LimitOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LimitOutcome::Allowed => "allowed",
            LimitOutcome::Limited => "limited",
            LimitOutcome::GivenBack => "given_back",
            LimitOutcome::StoreError => "store_error",
        }
    }
}

impl RateLimits {
    /// These limits.
    pub fn new(limits: Vec<Limit>) -> Self {
        RateLimits {
            limits,
            store: None,
            replicas: 1,
        }
    }

    /// These limits, the `cluster` ones kept in `store`, each falling back
    /// to a `replicas`-th of itself while the store is away.
    pub(crate) fn with_store(mut self, store: Arc<CounterStore>, replicas: u32) -> Self {
        self.store = Some(store);
        self.replicas = replicas.max(1);
        self
    }

    /// Whether there is none (calls skip the check).
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// Takes a token of every limit naming `name`; refused by the first
    /// that has none left (the tokens already taken go back).
    pub(crate) async fn admit(
        &self,
        name: &str,
        params: &[Value],
        ctx: &CallContext,
        record: &(dyn Fn(&str, LimitOutcome) + Sync),
    ) -> Result<Taken, CallError> {
        let mut taken = Taken::default();
        for (i, limit) in self.limits.iter().enumerate() {
            if !limit.methods.iter().any(|p| p.matches(name)) {
                continue;
            }
            let key = limit.key_of(params, ctx);
            let (verdict, held) = self.take(limit, &key, record).await;
            match verdict {
                Ok(()) => {
                    record(&limit.name, LimitOutcome::Allowed);
                    taken.tokens.push((i, key, held));
                }
                Err(wait) => {
                    record(&limit.name, LimitOutcome::Limited);
                    for (j, key, held) in taken.tokens {
                        self.give_back(j, key, held);
                    }
                    return Err(CallError::RateLimited {
                        method: name.to_owned(),
                        retry_after: wait,
                    });
                }
            }
        }
        Ok(taken)
    }

    /// One token of `limit` for `key`: from the store for a cluster limit,
    /// from this replica's share of it when the store cannot answer.
    async fn take(
        &self,
        limit: &Limit,
        key: &str,
        record: &(dyn Fn(&str, LimitOutcome) + Sync),
    ) -> (Result<(), Duration>, Held) {
        let share = match (&self.store, limit.scope) {
            (Some(store), Scope::Cluster) => {
                let (rate, burst) = (limit.refill_per_sec(), limit.burst);
                match store.take(&limit.name, key, rate, burst).await {
                    Ok(verdict) => return (verdict, Held::Store),
                    Err(err) => {
                        tracing::debug!(limit = %limit.name, error = %err, "rate-limit store did not answer");
                        record(&limit.name, LimitOutcome::StoreError);
                        self.replicas
                    }
                }
            }
            _ => 1,
        };
        (limit.take(key, Instant::now(), share), Held::Local(share))
    }

    /// Gives a token back where it came from; to the store without waiting
    /// (a lost give-back only makes the limit stricter).
    fn give_back(&self, i: usize, key: String, held: Held) {
        let limit = &self.limits[i];
        match (held, &self.store) {
            (Held::Local(share), _) => limit.give_back(&key, share),
            (Held::Store, Some(store)) => {
                let store = Arc::clone(store);
                let (name, rate, burst) = (limit.name.clone(), limit.refill_per_sec(), limit.burst);
                tokio::spawn(async move {
                    if let Err(err) = store.give_back(&name, &key, rate, burst).await {
                        tracing::debug!(limit = %name, error = %err, "rate-limit store: token not given back");
                    }
                });
            }
            (Held::Store, None) => {}
        }
    }

    /// After the call: the tokens of limits that count only some answers
    /// go back when this answer is not one of them.
    pub(crate) fn settle(
        &self,
        taken: Taken,
        result: &Result<Value, CallError>,
        fault_code: &dyn Fn(&CallError) -> i32,
        record: &(dyn Fn(&str, LimitOutcome) + Sync),
    ) {
        for (i, key, held) in taken.tokens {
            let limit = &self.limits[i];
            if !limit.counts.all() && !limit.counts.counts(result, fault_code) {
                self.give_back(i, key, held);
                record(&limit.name, LimitOutcome::GivenBack);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn limit(counts: Counts) -> RateLimits {
        RateLimits::new(vec![Limit::new(
            "logins".into(),
            vec![Pattern::parse("wp.*")],
            LimitKey::Param(ParamPath::parse("0", None).unwrap()),
            5,
            Duration::from_secs(60),
            5,
            counts,
        )])
    }

    fn ctx() -> CallContext {
        CallContext {
            request_id: Arc::from("r"),
            ..CallContext::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_one_call_per_refill() {
        let limits = limit(Counts::default());
        let user = [Value::from("admin")];
        let none = |_: &str, _: LimitOutcome| {};
        for _ in 0..5 {
            assert!(
                limits
                    .admit("wp.getUsersBlogs", &user, &ctx(), &none)
                    .await
                    .is_ok()
            );
        }
        match limits.admit("wp.getUsersBlogs", &user, &ctx(), &none).await {
            Err(CallError::RateLimited { retry_after, .. }) => {
                assert!(
                    retry_after <= Duration::from_secs(12) && retry_after > Duration::from_secs(11)
                );
            }
            other => panic!("{other:?}"),
        }
        // Another key, and a method no limit names, are not limited.
        assert!(
            limits
                .admit("wp.x", &[Value::from("bob")], &ctx(), &none)
                .await
                .is_ok()
        );
        assert!(limits.admit("pow", &user, &ctx(), &none).await.is_ok());
        tokio::time::advance(Duration::from_secs(12)).await;
        assert!(
            limits.admit("wp.x", &user, &ctx(), &none).await.is_ok(),
            "refilled one"
        );
        assert!(limits.admit("wp.x", &user, &ctx(), &none).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn only_counted_answers_keep_their_token() {
        let limits = limit(Counts {
            faults: vec![403],
            statuses: vec![],
        });
        let user = [Value::from("admin")];
        let none = |_: &str, _: LimitOutcome| {};
        let code = |_: &CallError| 403;
        // Successes give their token back: any number of them.
        for _ in 0..20 {
            let taken = limits.admit("wp.a", &user, &ctx(), &none).await.unwrap();
            limits.settle(taken, &Ok(Value::Nil), &code, &none);
        }
        // Failures keep theirs; twenty at once, only five are let through.
        let mut admitted = 0;
        for _ in 0..20 {
            admitted += usize::from(limits.admit("wp.a", &user, &ctx(), &none).await.is_ok());
        }
        assert_eq!(admitted, 5);
    }
}
