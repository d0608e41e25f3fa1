//! Protecting a backend: the circuit breaker (closed -> open after N
//! consecutive failures -> half-open after a pause, where one probe call
//! decides) and the limit on requests in flight. No I/O here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::error::BackendError;
use crate::metrics::{CircuitGauge, CircuitState};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is in flight; others are refused until it ends.
    HalfOpen,
}

/// A per-backend circuit breaker. `failures == 0` turns it off.
#[derive(Debug)]
pub(super) struct Breaker {
    /// The backend's `backend_circuit_state` series, handed in by whoever
    /// built the backend (none: the state is not shown).
    gauge: Option<CircuitGauge>,
    failures_to_open: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker that opens after `failures_to_open` consecutive
    /// failures for `open_for`, showing its state on `gauge`.
    pub(super) fn new(
        failures_to_open: u32,
        open_for: Duration,
        gauge: Option<CircuitGauge>,
    ) -> Self {
        let breaker = Breaker {
            gauge,
            failures_to_open,
            open_for,
            state: Mutex::new(State::Closed { failures: 0 }),
        };
        breaker.publish(&State::Closed { failures: 0 });
        breaker
    }

    /// Shows `state` on the backend's `backend_circuit_state` series.
    fn publish(&self, state: &State) {
        let Some(gauge) = &self.gauge else { return };
        let shown = match state {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen => CircuitState::HalfOpen,
        };
        gauge.set(shown);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets a call through (`Some`), or refuses it while the circuit is
    /// open. The ticket must be given the call's outcome. A ticket dropped
    /// unrecorded means the call was cancelled; `deadline` (when its caller
    /// gives up on it) says how that counts: see [`Ticket`]'s `Drop`.
    pub(super) fn admit(self: &Arc<Self>, deadline: Option<Instant>) -> Option<Ticket> {
        if self.failures_to_open == 0 {
            return Some(Ticket::new(self, false, deadline));
        }
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Some(Ticket::new(self, false, deadline)),
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                self.publish(&state);
                Some(Ticket::new(self, true, deadline))
            }
            State::Open { .. } | State::HalfOpen => None,
        }
    }

    /// Whether calls are currently refused.
    pub(super) fn is_open(&self) -> bool {
        matches!(*self.lock(), State::Open { until } if Instant::now() < until)
    }

    fn on_success(&self) {
        let mut state = self.lock();
        let was_closed = matches!(*state, State::Closed { .. });
        *state = State::Closed { failures: 0 };
        if !was_closed {
            self.publish(&state);
        }
    }

    fn on_failure(&self, probe: bool) {
        let mut state = self.lock();
        let open = State::Open {
            until: Instant::now() + self.open_for,
        };
        *state = match *state {
            _ if probe => open,
            State::Closed { failures } if failures + 1 >= self.failures_to_open => open,
            State::Closed { failures } => State::Closed {
                failures: failures + 1,
            },
            // A call admitted before the circuit opened: already open.
            other => other,
        };
        if matches!(*state, State::Open { .. }) {
            self.publish(&state);
        }
    }

    /// A probe whose caller went away: it says nothing about the service,
    /// so the circuit stays open with its pause over, and the next call is
    /// the probe.
    fn on_abandoned_probe(&self) {
        let mut state = self.lock();
        if *state == State::HalfOpen {
            *state = State::Open {
                until: Instant::now(),
            };
            self.publish(&state);
        }
    }
}

/// One admitted call.
#[derive(Debug)]
pub(super) struct Ticket {
    breaker: Arc<Breaker>,
    probe: bool,
    recorded: bool,
    /// When the call's caller gives up on it (`None`: never, short of the
    /// backend's own timeout, which records).
    deadline: Option<Instant>,
}

impl Ticket {
    fn new(breaker: &Arc<Breaker>, probe: bool, deadline: Option<Instant>) -> Self {
        Ticket {
            breaker: breaker.clone(),
            probe,
            recorded: false,
            deadline,
        }
    }

    /// Records the call's outcome: `None` for success.
    pub(super) fn record(mut self, err: Option<&BackendError>) {
        self.recorded = true;
        if self.breaker.failures_to_open == 0 {
            return;
        }
        match err {
            Some(err) if err.is_service_failure() => self.breaker.on_failure(self.probe),
            _ => self.breaker.on_success(),
        }
    }
}

/// A ticket dropped unrecorded: the call's future was dropped before the
/// service answered.
///
/// - At or after the call's deadline (a route `timeout` or
///   `limits.call_timeout` cancelled it, which is how a hanging service
///   shows), it is a failure like the backend's own timeout. That includes
///   time spent waiting for a concurrency slot, as the backend's timeout
///   does: slots are held by calls the service is slow to answer.
/// - Before the deadline, the client went away (or shutdown cut the
///   connection). That says nothing about the service, and counting it
///   would let any client that hangs up open a healthy backend's circuit
///   for everyone; so it counts neither way. A probe cancelled so leaves
///   the circuit open with its pause over: the next call probes.
impl Drop for Ticket {
    fn drop(&mut self) {
        if self.recorded || self.breaker.failures_to_open == 0 {
            return;
        }
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            self.breaker.on_failure(self.probe);
        } else if self.probe {
            self.breaker.on_abandoned_probe();
        }
    }
}

/// The bound on requests in flight to one backend. A call waits for a slot;
/// the wait counts against the call's timeout.
#[derive(Debug)]
pub(super) struct Limiter {
    slots: Semaphore,
}

impl Limiter {
    pub(super) fn new(max: usize) -> Self {
        Limiter {
            slots: Semaphore::new(max.max(1)),
        }
    }

    pub(super) async fn acquire(&self) -> SemaphorePermit<'_> {
        self.slots
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// Slots free right now.
    #[cfg(test)]
    pub(super) fn available(&self) -> usize {
        self.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    fn fail(b: &Arc<Breaker>) {
        b.admit(None).unwrap().record(Some(&BackendError::Refused));
    }

    fn breaker(failures: u32, open_for: Duration) -> Arc<Breaker> {
        Arc::new(Breaker::new(failures, open_for, None))
    }

    /// The state `metrics` shows for `backend`.
    fn gauge(metrics: &Metrics, backend: &str) -> Option<String> {
        let (text, _) = metrics.render();
        let prefix = format!("xmlrpc_gateway_backend_circuit_state{{backend=\"{backend}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    #[tokio::test(start_paused = true)]
    async fn the_gauge_follows_the_state() {
        let metrics = Metrics::new();
        let gauge_of = |name| Some(metrics.circuit_gauge(name));
        let b = Arc::new(Breaker::new(1, Duration::from_secs(10), gauge_of("a")));
        // A second registry's breaker of the same name shows nothing here.
        let other = Metrics::new();
        let _b2 = Breaker::new(1, Duration::from_secs(10), Some(other.circuit_gauge("a")));
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("0"));
        fail(&b);
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("1"));
        assert_eq!(gauge(&other, "a").as_deref(), Some("0"));
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.admit(None).expect("half-open");
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("2"));
        probe.record(None);
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("0"));
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes() {
        let b = breaker(3, Duration::from_secs(10));
        fail(&b);
        fail(&b);
        // A success resets the count.
        b.admit(None).unwrap().record(None);
        fail(&b);
        fail(&b);
        assert!(b.admit(None).is_some(), "two failures do not open");
        fail(&b);
        assert!(b.admit(None).is_none(), "three failures open");
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.admit(None).expect("half-open lets one probe through");
        assert!(b.admit(None).is_none(), "only one probe at a time");
        probe.record(Some(&BackendError::Timeout));
        assert!(b.admit(None).is_none(), "a failed probe re-opens");
        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit(None).unwrap().record(None);
        assert!(
            b.admit(None).is_some() && b.admit(None).is_some(),
            "a good probe closes"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answers_from_a_live_service_do_not_count() {
        let b = breaker(1, Duration::from_secs(10));
        let fault = BackendError::Remote(crate::xmlrpc::Fault::new(1, "no"));
        b.admit(None).unwrap().record(Some(&fault));
        b.admit(None)
            .unwrap()
            .record(Some(&BackendError::Status(404, None)));
        assert!(b.admit(None).is_some());
        b.admit(None)
            .unwrap()
            .record(Some(&BackendError::Status(503, None)));
        assert!(b.admit(None).is_none());
    }

    /// Admits a call whose caller gives up `after` from now.
    fn admit_until(b: &Arc<Breaker>, after: Duration) -> Option<Ticket> {
        b.admit(Some(Instant::now() + after))
    }

    const DEADLINE: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn calls_cancelled_by_their_deadline_are_failures() {
        let b = breaker(3, Duration::from_secs(10));
        for _ in 0..2 {
            let ticket = admit_until(&b, DEADLINE).unwrap();
            tokio::time::advance(DEADLINE).await;
            drop(ticket);
        }
        assert!(b.admit(None).is_some(), "two do not open");
        let ticket = admit_until(&b, DEADLINE).unwrap();
        tokio::time::advance(DEADLINE * 2).await;
        drop(ticket);
        assert!(b.is_open(), "three open the circuit");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_cancelled_before_their_deadline_count_neither_way() {
        let b = breaker(2, Duration::from_secs(10));
        fail(&b);
        // The caller went away: before the deadline, or with none at all.
        for _ in 0..3 {
            drop(admit_until(&b, DEADLINE).unwrap());
            drop(b.admit(None).unwrap());
        }
        assert!(b.admit(None).is_some(), "not failures");
        fail(&b);
        assert!(b.is_open(), "nor successes: the count of one went on");
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_cancelled_by_its_deadline_reopens() {
        let b = breaker(1, Duration::from_secs(1));
        fail(&b);
        tokio::time::advance(Duration::from_secs(1)).await;
        let probe = admit_until(&b, DEADLINE).expect("half-open");
        tokio::time::advance(DEADLINE).await;
        drop(probe);
        assert!(b.is_open());
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_its_caller_abandons_lets_the_next_call_probe() {
        let metrics = Metrics::new();
        let b = Arc::new(Breaker::new(
            1,
            Duration::from_secs(10),
            Some(metrics.circuit_gauge("a")),
        ));
        fail(&b);
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(admit_until(&b, DEADLINE).expect("half-open"));
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("1"), "open again");
        let probe = b
            .admit(None)
            .expect("the pause is over: the next call probes");
        assert!(b.admit(None).is_none(), "one probe at a time");
        probe.record(None);
        assert_eq!(gauge(&metrics, "a").as_deref(), Some("0"));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_failures_means_no_breaker() {
        let b = breaker(0, Duration::from_secs(1));
        for _ in 0..10 {
            fail(&b);
            let ticket = admit_until(&b, DEADLINE).unwrap();
            tokio::time::advance(DEADLINE).await;
            drop(ticket);
        }
        assert!(b.admit(None).is_some());
    }

    #[tokio::test]
    async fn limiter_bounds_slots() {
        let l = Limiter::new(2);
        let a = l.acquire().await;
        let _b = l.acquire().await;
        assert_eq!(l.available(), 0);
        drop(a);
        assert_eq!(l.available(), 1);
    }
}
