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
    /// open. The ticket must be given the call's outcome; a ticket dropped
    /// unrecorded (the call was cancelled) counts as a failure for a probe.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Ticket> {
        if self.failures_to_open == 0 {
            return Some(Ticket::new(self, false));
        }
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Some(Ticket::new(self, false)),
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                self.publish(&state);
                Some(Ticket::new(self, true))
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
}

/// One admitted call.
#[derive(Debug)]
pub(super) struct Ticket {
    breaker: Arc<Breaker>,
    probe: bool,
    recorded: bool,
}

impl Ticket {
    fn new(breaker: &Arc<Breaker>, probe: bool) -> Self {
        Ticket {
            breaker: breaker.clone(),
            probe,
            recorded: false,
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

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            self.breaker.on_failure(true);
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
        b.admit().unwrap().record(Some(&BackendError::Refused));
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
        let probe = b.admit().expect("half-open");
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
        b.admit().unwrap().record(None);
        fail(&b);
        fail(&b);
        assert!(b.admit().is_some(), "two failures do not open");
        fail(&b);
        assert!(b.admit().is_none(), "three failures open");
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.admit().expect("half-open lets one probe through");
        assert!(b.admit().is_none(), "only one probe at a time");
        probe.record(Some(&BackendError::Timeout));
        assert!(b.admit().is_none(), "a failed probe re-opens");
        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit().unwrap().record(None);
        assert!(
            b.admit().is_some() && b.admit().is_some(),
            "a good probe closes"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answers_from_a_live_service_do_not_count() {
        let b = breaker(1, Duration::from_secs(10));
        let fault = BackendError::Remote(crate::xmlrpc::Fault::new(1, "no"));
        b.admit().unwrap().record(Some(&fault));
        b.admit()
            .unwrap()
            .record(Some(&BackendError::Status(404, None)));
        assert!(b.admit().is_some());
        b.admit()
            .unwrap()
            .record(Some(&BackendError::Status(503, None)));
        assert!(b.admit().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_probe_reopens() {
        let b = breaker(1, Duration::from_secs(1));
        fail(&b);
        tokio::time::advance(Duration::from_secs(1)).await;
        drop(b.admit().unwrap());
        assert!(b.is_open());
    }

    #[test]
    fn zero_failures_means_no_breaker() {
        let b = breaker(0, Duration::from_secs(1));
        for _ in 0..10 {
            fail(&b);
        }
        assert!(b.admit().is_some());
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
