//! The rate-limit store: token buckets that every replica shares, held in
//! Redis (`[rate_limit] store = "redis://host:port"`).
//!
//! One check is one `EVALSHA` of a Lua script that refills, takes and
//! stores a bucket atomically, on Redis's own clock (replicas' clocks never
//! meet), and sets the key to expire when the bucket would be full again:
//! an idle key is gone, and a restarted Redis loses only counters. All
//! calls share one multiplexed connection, so a multicall's entries, which
//! run at once, are pipelined on it.
//!
//! Every check is bounded by the store timeout. After a failure the store
//! is not asked again for a second, so while Redis is away calls do not
//! each wait for the timeout: the caller falls back to its own share of the
//! limit (`dispatch/limits.rs`).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use tokio::time::Instant;

use super::error::BackendError;

/// How long the store is left alone after a failure.
const BACKOFF: Duration = Duration::from_secs(1);

/// Refill, then take one token (`take`) or give one back (`give`).
/// KEYS[1] the bucket; ARGV[1] take|give, ARGV[2] tokens per millisecond,
/// ARGV[3] the burst. Returns {1, 0} when taken (or given back), {0, ms}
/// with the milliseconds until a token is there.
const SCRIPT: &str = r"
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local ok, wait = 1, 0
if ARGV[1] == 'give' then
  tokens = math.min(burst, tokens + 1)
elseif tokens >= 1 then
  tokens = tokens - 1
else
  ok = 0
  wait = math.ceil((1 - tokens) / rate)
end
if tokens >= burst then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'a', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1)
end
return {ok, wait}
";

/// Token buckets in Redis, shared by every replica that names the same
/// store and key prefix.
pub(crate) struct CounterStore {
    client: redis::Client,
    timeout: Duration,
    prefix: String,
    script: redis::Script,
    conn: ArcSwapOption<MultiplexedConnection>,
    /// Held by the one task (re)connecting; the others do not wait for it.
    connecting: tokio::sync::Mutex<()>,
    /// Until when the store is not asked (after a failure).
    down_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for CounterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("CounterStore")
            .field("timeout", &self.timeout)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl CounterStore {
    /// A store at `url` (`redis://[:password@]host:port[/db]`, or
    /// `rediss://`, `redis+unix://`); nothing is connected until the first
    /// check. The error says what is wrong with the URL, never the URL.
    pub(crate) fn new(url: &str, timeout: Duration, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("not a Redis URL (redis://host:port[/db]): {}", e.category()))?;
        Ok(CounterStore {
            client,
            timeout,
            prefix: prefix.to_owned(),
            script: redis::Script::new(SCRIPT),
            conn: ArcSwapOption::empty(),
            connecting: tokio::sync::Mutex::new(()),
            down_until: Mutex::new(None),
        })
    }

    /// Takes a token from the bucket of `key` under `limit`: `Ok(Ok(()))`
    /// when there was one, `Ok(Err(wait))` when the next comes in `wait`,
    /// `Err` when the store could not say (within the store timeout).
    pub(crate) async fn take(
        &self,
        limit: &str,
        key: &str,
        per_sec: f64,
        burst: u32,
    ) -> Result<Result<(), Duration>, BackendError> {
        let (ok, wait) = self.run("take", limit, key, per_sec, burst).await?;
        if ok == 1 {
            Ok(Ok(()))
        } else {
            Ok(Err(Duration::from_millis(wait.max(1).unsigned_abs())))
        }
    }

    /// Gives back a token taken for an answer the limit does not count.
    pub(crate) async fn give_back(
        &self,
        limit: &str,
        key: &str,
        per_sec: f64,
        burst: u32,
    ) -> Result<(), BackendError> {
        self.run("give", limit, key, per_sec, burst).await.map(drop)
    }

    async fn run(
        &self,
        op: &str,
        limit: &str,
        key: &str,
        per_sec: f64,
        burst: u32,
    ) -> Result<(i64, i64), BackendError> {
        if self.is_down() {
            return Err(BackendError::Transport("store backing off".into()));
        }
        let bucket = self.bucket_key(limit, key);
        let per_ms = per_sec / 1000.0;
        let attempt = async {
            let mut conn = self.connection().await?;
            self.script
                .key(&bucket)
                .arg(op)
                .arg(per_ms)
                .arg(burst)
                .invoke_async::<(i64, i64)>(&mut conn)
                .await
                .map_err(|e| {
                    if e.is_unrecoverable_error() || e.is_io_error() {
                        self.conn.store(None);
                    }
                    BackendError::Transport(e.category().to_owned())
                })
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(err)) => {
                self.back_off();
                Err(err)
            }
            Err(_) => {
                self.back_off();
                Err(BackendError::Timeout)
            }
        }
    }

    /// The bucket's key: the prefix, the limit, and a digest of the
    /// caller's key, so keys have one size and login names or addresses
    /// are not stored in the clear.
    fn bucket_key(&self, limit: &str, key: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let mut out = String::with_capacity(self.prefix.len() + limit.len() + 36);
        out.push_str(&self.prefix);
        out.push(':');
        out.push_str(limit);
        out.push(':');
        for byte in &digest.as_ref()[..16] {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    async fn connection(&self) -> Result<MultiplexedConnection, BackendError> {
        if let Some(conn) = self.conn.load_full() {
            return Ok((*conn).clone());
        }
        // One task connects; the others fall back meanwhile.
        let Ok(_guard) = self.connecting.try_lock() else {
            return Err(BackendError::Transport("store connecting".into()));
        };
        if let Some(conn) = self.conn.load_full() {
            return Ok((*conn).clone());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| {
                if e.is_connection_refusal() {
                    BackendError::Refused
                } else {
                    BackendError::Transport(e.category().to_owned())
                }
            })?;
        self.conn.store(Some(std::sync::Arc::new(conn.clone())));
        Ok(conn)
    }

    fn is_down(&self) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        match *down {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *down = None;
                false
            }
            None => false,
        }
    }

    fn back_off(&self) {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        *down = Some(Instant::now() + BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_size_and_hide_the_callers_key() {
        let store =
            CounterStore::new("redis://127.0.0.1:1", Duration::from_millis(50), "gw").unwrap();
        let a = store.bucket_key("logins", "alice");
        let b = store.bucket_key("logins", &"x".repeat(10_000));
        assert!(a.starts_with("gw:logins:"), "{a}");
        assert!(!a.contains("alice"));
        assert_eq!(a.len(), b.len());
        assert_ne!(a, store.bucket_key("logins", "bob"));
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let err =
            CounterStore::new("http://user:secret@example", Duration::ZERO, "gw").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_store_answers_within_its_timeout_then_backs_off() {
        // A listener that accepts and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let store = CounterStore::new(&url, Duration::from_millis(100), "gw").unwrap();
        let started = std::time::Instant::now();
        assert!(store.take("l", "k", 1.0, 5).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        // Backing off: the next check does not even try.
        assert!(store.is_down());
        match store.take("l", "k", 1.0, 5).await {
            Err(BackendError::Transport(why)) => assert_eq!(why, "store backing off"),
            other => panic!("{other:?}"),
        }
        drop(listener);
    }
}
