//! Request bodies: read into one buffer, bounded in size and time, and
//! admitted against a process-wide budget of body bytes in flight, so that
//! many large requests at once wait (their bytes stay in the kernel's socket
//! buffers) instead of growing memory without bound. A gzipped body's
//! inflated bytes are taken from the same budget before they exist. A
//! request holds its share until its answer has been written out.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use super::status::HttpError;
use crate::gzip::{self, GunzipError};

/// What a body of unknown length (chunked) reserves before its first byte.
const UNKNOWN_LENGTH_RESERVE: usize = 64 << 10;

/// Reservations up to this size are taken in one piece. Larger ones wait
/// for their turn one at a time, then gather their bytes in pieces of this
/// size, so a small request waits behind one piece, not behind every large
/// request queued before it.
const PIECE: usize = 64 << 10;

/// Bytes of request bodies being read or processed at once.
#[derive(Clone, Debug)]
pub(crate) struct BodyBudget {
    bytes: Arc<Semaphore>,
    /// Taken by the one large reservation gathering its pieces; the other
    /// large ones wait for it here, holding no budget.
    large_turn: Arc<Mutex<()>>,
    capacity: usize,
}

impl BodyBudget {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        BodyBudget {
            bytes: Arc::new(Semaphore::new(capacity)),
            large_turn: Arc::new(Mutex::new(())),
            capacity,
        }
    }

    /// Waits for `bytes` of budget (a request larger than the whole budget
    /// waits for all of it, and then runs alone). Only the one large
    /// reservation whose turn it is holds part of its amount while it
    /// waits, so reservations cannot deadlock each other.
    pub(crate) async fn reserve(&self, bytes: usize) -> Reservation {
        let amount = bytes.clamp(1, self.capacity);
        if amount <= PIECE {
            return Reservation {
                permit: self.acquire(amount).await,
                bytes: amount,
            };
        }
        let _turn = self.large_turn.lock().await;
        let mut permit = self.acquire(PIECE).await;
        while permit.num_permits() < amount {
            let piece = (amount - permit.num_permits()).min(PIECE);
            permit.merge(self.acquire(piece).await);
        }
        Reservation {
            permit,
            bytes: amount,
        }
    }

    async fn acquire(&self, bytes: usize) -> OwnedSemaphorePermit {
        self.bytes
            .clone()
            .acquire_many_owned(bytes as u32)
            .await
            .expect("the budget semaphore is never closed")
    }
}

/// Budget held by one request; returned when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    permit: OwnedSemaphorePermit,
    bytes: usize,
}

impl Reservation {
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Grows the reservation to `bytes`. Releases what it holds first and
    /// then asks for the whole amount (see [`BodyBudget::reserve`]): a
    /// request never waits for more while holding budget, so requests
    /// cannot deadlock each other. What it had read stays in memory
    /// meanwhile, outside the budget.
    pub(crate) async fn grow(self, budget: &BodyBudget, bytes: usize) -> Reservation {
        if bytes <= self.bytes {
            return self;
        }
        drop(self.permit);
        budget.reserve(bytes).await
    }
}

/// Response bytes that keep `reservation` until the last reference to them
/// is dropped (after hyper has written them out).
pub(super) fn held(payload: Vec<u8>, reservation: Reservation) -> Bytes {
    struct Held {
        payload: Vec<u8>,
        _reservation: Reservation,
    }
    impl AsRef<[u8]> for Held {
        fn as_ref(&self) -> &[u8] {
            &self.payload
        }
    }
    Bytes::from_owner(Held {
        payload,
        _reservation: reservation,
    })
}

/// Reads a whole body: at most `limit` bytes, within `timeout`, with its
/// bytes reserved in `budget`. `declared` is the Content-Length, if any,
/// already checked against `limit`.
pub(super) async fn read(
    body: Incoming,
    declared: Option<u64>,
    limit: usize,
    budget: &BodyBudget,
    timeout: Option<Duration>,
) -> Result<(Bytes, Reservation), HttpError> {
    let expected = declared.map_or(UNKNOWN_LENGTH_RESERVE.min(limit), |len| len as usize);
    let reading = async {
        let mut reservation = budget.reserve(expected).await;
        let mut body = body;
        let mut buf = BytesMut::with_capacity(expected);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| HttpError::BodyRead)?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            let needed = buf.len() + chunk.len();
            if needed > limit {
                return Err(HttpError::BodyTooLarge);
            }
            if needed > reservation.bytes() {
                let grown = needed.max(reservation.bytes() * 2).min(limit);
                reservation = reservation.grow(budget, grown).await;
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf.freeze(), reservation))
    };
    match timeout {
        Some(limit) => tokio::time::timeout(limit, reading)
            .await
            .map_err(|_| HttpError::BodyTimeout)?,
        None => reading.await,
    }
}

/// Inflates a gzipped body (at most `limit` bytes) with its output inside
/// the budget: `reservation` grows to the raw bytes plus what the body
/// inflates to *before* it is inflated, so waiting requests hold only
/// their raw bytes. What the body inflates to is the size its gzip trailer
/// states (capped at `limit`); when it inflates to more than it stated (a
/// lie, or several gzip members), the output so far is dropped, `limit` is
/// reserved, and it is inflated again.
pub(super) async fn gunzip(
    raw: Bytes,
    limit: usize,
    budget: &BodyBudget,
    reservation: Reservation,
) -> Result<(Bytes, Reservation), HttpError> {
    let stated = gzip::stated_size(&raw).map_or(limit, |size| size.min(limit));
    // The output buffer holds one byte more than it may keep (see gunzip_exact).
    let needed = |output: usize| raw.len().saturating_add(output).saturating_add(1);
    let reservation = reservation.grow(budget, needed(stated)).await;
    match gzip::gunzip_exact(&raw, stated) {
        Ok(xml) => return Ok((Bytes::from(xml), reservation)),
        Err(GunzipError::TooLarge) if stated < limit => {}
        Err(err) => return Err(err.into()),
    }
    let reservation = reservation.grow(budget, needed(limit)).await;
    let xml = gzip::gunzip_exact(&raw, limit)?;
    Ok((Bytes::from(xml), reservation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_wait_for_budget_and_release_on_drop() {
        let budget = BodyBudget::new(100);
        let a = budget.reserve(60).await;
        assert_eq!(a.bytes(), 60);
        // 60 + 60 > 100: the second waits until the first is dropped.
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(60).await.bytes() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a);
        assert_eq!(waiting.await.unwrap(), 60);
    }

    #[tokio::test]
    async fn oversized_requests_take_the_whole_budget() {
        let budget = BodyBudget::new(100);
        assert_eq!(budget.reserve(1000).await.bytes(), 100);
    }

    #[tokio::test]
    async fn small_requests_wait_behind_one_piece_not_behind_queued_large_ones() {
        let budget = BodyBudget::new(4 * PIECE);
        let all = budget.reserve(4 * PIECE).await;
        let spawn_reserve = |bytes: usize| {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(bytes).await })
        };
        let large_b = spawn_reserve(4 * PIECE);
        tokio::task::yield_now().await;
        let large_c = spawn_reserve(4 * PIECE);
        tokio::task::yield_now().await;
        let small = spawn_reserve(100);
        tokio::task::yield_now().await;
        drop(all);
        // The small one is served as soon as the first piece is; the large
        // ones are still waiting, in order.
        let small = tokio::time::timeout(Duration::from_secs(5), small)
            .await
            .expect("the small reservation is not stuck behind the large ones")
            .unwrap();
        assert_eq!(small.bytes(), 100);
        assert!(!large_b.is_finished() && !large_c.is_finished());
        drop(small);
        let b = large_b.await.unwrap();
        assert_eq!(b.bytes(), 4 * PIECE);
        tokio::task::yield_now().await;
        assert!(!large_c.is_finished());
        drop(b);
        assert_eq!(large_c.await.unwrap().bytes(), 4 * PIECE);
    }

    #[tokio::test]
    async fn a_gzip_body_reserves_what_it_inflates_to_before_inflating() {
        let budget = BodyBudget::new(1 << 20);
        let xml = vec![b'a'; 600 << 10];
        let raw = Bytes::from(gzip::gzip(&xml));
        let others = budget.reserve(600 << 10).await;
        let inflating = tokio::spawn({
            let (budget, raw) = (budget.clone(), raw.clone());
            async move {
                let reservation = budget.reserve(raw.len()).await;
                gunzip(raw, 1 << 20, &budget, reservation).await
            }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!inflating.is_finished(), "it waits for the inflated size");
        drop(others);
        let (out, reservation) = inflating.await.unwrap().unwrap();
        assert_eq!(out.as_ref(), &xml[..]);
        assert_eq!(reservation.bytes(), raw.len() + xml.len() + 1);
    }

    #[tokio::test]
    async fn gzip_bodies_keep_their_limit_and_statuses() {
        let budget = BodyBudget::new(1 << 20);
        let inflate = |raw: Vec<u8>, limit: usize| {
            let budget = budget.clone();
            async move {
                let reservation = budget.reserve(raw.len()).await;
                gunzip(Bytes::from(raw), limit, &budget, reservation)
                    .await
                    .map(|(out, reservation)| (out, reservation.bytes()))
            }
        };
        // Two members: the trailer states the last one only; the body is
        // inflated again with the limit reserved.
        let two = [gzip::gzip(b"first "), gzip::gzip(b"second")].concat();
        let raw_len = two.len();
        let (out, reserved) = inflate(two, 100).await.unwrap();
        assert_eq!(out.as_ref(), b"first second");
        assert_eq!(reserved, raw_len + 100 + 1);
        let bomb = gzip::gzip(&vec![0u8; 4 << 20]);
        assert_eq!(
            inflate(bomb, 1 << 20).await.unwrap_err(),
            HttpError::BodyTooLarge
        );
        let corrupt = b"not gzip at all, but long enough".to_vec();
        assert_eq!(inflate(corrupt, 100).await.unwrap_err(), HttpError::BadGzip);
    }

    #[tokio::test]
    async fn growing_releases_first_so_two_growers_cannot_deadlock() {
        let budget = BodyBudget::new(100);
        let a = budget.reserve(40).await;
        let b = budget.reserve(40).await;
        let grow_a = tokio::spawn({
            let budget = budget.clone();
            async move { a.grow(&budget, 100).await.bytes() }
        });
        tokio::task::yield_now().await;
        // b gives up its budget when done; a then gets all of it.
        drop(b);
        assert_eq!(grow_a.await.unwrap(), 100);
    }
}
