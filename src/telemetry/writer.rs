//! The non-blocking log writer: every log line goes into one bounded queue
//! of bytes, and a thread of its own writes the queue to stderr in batches.
//!
//! Logging a line is a lock, a copy and an unlock: never a system call,
//! never a wait. The writer thread wakes on the first line after a quiet
//! spell, gives the batch [`LINGER`] to gather (or until it holds
//! [`BATCH_BYTES`]), swaps it out, and writes it with one `write`. While it
//! writes, new lines queue up behind. The queue holds lines in the order
//! they were logged, whatever their kind, so stderr reads in that order.
//!
//! When stderr does not keep up, the queue fills: an access line that does
//! not fit in `capacity` bytes is dropped and counted
//! (`access_log_dropped_total`); any other line may use [`RESERVE_BYTES`]
//! more, so that a flood of access lines cannot push out a warning, and is
//! dropped and counted (`log_dropped_total`) only beyond that. Memory: the
//! queue, plus the batch being written (at most the queue's size too).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;

use crate::metrics::LogDrops;

/// The access lines' target: the lines held to the queue's bound.
pub(crate) const TARGET: &str = "access";

/// Bytes the writer thread gathers before it writes, unless [`LINGER`]
/// passes first: at 100,000 access lines a second, about 300 writes. (Half
/// the queue when that is smaller, so that lines are not dropped while it
/// lingers.)
const BATCH_BYTES: usize = 64 << 10;

/// How long the writer thread lets a batch gather after its first line:
/// the most a line waits in the queue while stderr keeps up.
const LINGER: Duration = Duration::from_millis(10);

/// Room beyond the queue's bound for lines other than access lines.
pub(crate) const RESERVE_BYTES: usize = 64 << 10;

/// Which bound a line is held to, and where its drop is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// An access line: dropped when the queue is full.
    Access,
    /// Any other line: may use the reserve too.
    Other,
}

/// The queue and its writer thread. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub(crate) struct LogWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

struct Shared {
    state: Mutex<State>,
    /// The writer thread waits here for lines (and for a batch to gather).
    lines: Condvar,
    /// `flush` and `close` wait here for the writer thread.
    written: Condvar,
    /// The bound on queued bytes for access lines.
    capacity: usize,
    /// Bytes that make a batch: the writer stops lingering.
    batch: usize,
    drops: LogDrops,
}

#[derive(Default)]
struct State {
    /// Lines waiting for the writer thread.
    pending: Vec<u8>,
    /// Bytes ever queued, and ever handed to the sink: `flush` waits for
    /// the second to reach the first.
    queued: u64,
    written: u64,
    /// The writer thread waits for a first line.
    idle: bool,
    /// The writer thread waits for a batch to gather.
    lingering: bool,
    /// Callers of `flush` or `close` waiting: the writer does not linger.
    hurrying: usize,
    /// `close` was called: the writer thread writes what is queued and ends.
    closing: bool,
    /// The writer thread has ended: lines are dropped from now on.
    finished: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LogWriter {
    /// Starts the writer thread over `sink`. `capacity` bounds the bytes
    /// of access lines waiting; drops are counted in `drops`.
    pub(crate) fn spawn(
        sink: Box<dyn Write + Send>,
        capacity: usize,
        drops: LogDrops,
    ) -> std::io::Result<LogWriter> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            lines: Condvar::new(),
            written: Condvar::new(),
            capacity,
            batch: BATCH_BYTES.min(capacity / 2),
            drops,
        });
        let thread = shared.clone();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_batches(&thread, sink))?;
        Ok(LogWriter { shared })
    }

    /// Queues one line (or several, whole), or drops it and counts the
    /// drop when it does not fit. Never waits for stderr. Returns whether
    /// the line was queued.
    pub(crate) fn push(&self, line: &[u8], kind: Line) -> bool {
        let shared = &*self.shared;
        let limit = match kind {
            Line::Access => shared.capacity,
            Line::Other => shared.capacity + RESERVE_BYTES,
        };
        let mut state = shared.lock();
        if state.finished || state.pending.len() + line.len() > limit {
            drop(state);
            match kind {
                Line::Access => shared.drops.access(),
                Line::Other => shared.drops.other(),
            }
            return false;
        }
        state.pending.extend_from_slice(line);
        state.queued += line.len() as u64;
        let wake = state.idle || (state.lingering && state.pending.len() >= shared.batch);
        drop(state);
        if wake {
            shared.lines.notify_one();
        }
        true
    }

    /// Waits up to `limit` for every line queued before the call to be
    /// written; whether they were.
    #[cfg(test)]
    pub(crate) fn flush(&self, limit: Duration) -> bool {
        let state = self.shared.lock();
        let target = state.queued;
        self.wait(state, limit, |s| s.written >= target || s.finished)
    }

    /// Writes out what is queued and ends the writer thread, waiting up to
    /// `limit` for stderr; whether everything was written. Lines logged
    /// afterwards are dropped (and counted).
    pub(crate) fn close(&self, limit: Duration) -> bool {
        let mut state = self.shared.lock();
        state.closing = true;
        self.wait(state, limit, |s| s.finished)
    }

    /// Hurries the writer thread (no lingering) and waits up to `limit`
    /// for `done`.
    fn wait(
        &self,
        mut state: MutexGuard<'_, State>,
        limit: Duration,
        done: impl Fn(&State) -> bool,
    ) -> bool {
        let shared = &*self.shared;
        let deadline = Instant::now() + limit;
        state.hurrying += 1;
        shared.lines.notify_one();
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = shared
                .written
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.hurrying -= 1;
        done(&state)
    }
}

/// The writer thread: batches from the queue to `sink`, until closed.
fn write_batches(shared: &Shared, mut sink: Box<dyn Write + Send>) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.pending.is_empty() && !state.closing {
            state.idle = true;
            state = shared
                .lines
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle = false;
        }
        if state.pending.is_empty() {
            state.finished = true;
            drop(state);
            shared.written.notify_all();
            return;
        }
        let deadline = Instant::now() + LINGER;
        state.lingering = true;
        while state.pending.len() < shared.batch && !state.closing && state.hurrying == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = shared
                .lines
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.lingering = false;
        std::mem::swap(&mut state.pending, &mut batch);
        drop(state);
        // A write error (stderr closed) loses the batch, as it would have
        // lost each line before.
        let _ = sink.write_all(&batch);
        let _ = sink.flush();
        let mut state = shared.lock();
        state.written += batch.len() as u64;
        let waiting = state.hurrying > 0;
        drop(state);
        if waiting {
            shared.written.notify_all();
        }
        batch.clear();
    }
}

/// The writer as `tracing-subscriber`'s fmt layer uses it: each event is
/// formatted into a buffer of the layer's, then written whole, once.
impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter {
            writer: self,
            kind: Line::Other,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter<'a> {
        let kind = if meta.target() == TARGET {
            Line::Access
        } else {
            Line::Other
        };
        LineWriter { writer: self, kind }
    }
}

/// One event's line on its way into the queue.
#[derive(Debug)]
pub(crate) struct LineWriter<'a> {
    writer: &'a LogWriter,
    kind: Line,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.push(buf, self.kind);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::metrics::Metrics;

    /// A sink that records what is written, and can be held shut: a write
    /// then waits until it is opened (stderr that nobody reads).
    #[derive(Clone, Default)]
    struct Sink(Arc<(Mutex<SinkState>, Condvar)>);

    #[derive(Default)]
    struct SinkState {
        bytes: Vec<u8>,
        shut: bool,
        /// A write is waiting for the sink to open.
        stuck: bool,
        writes: usize,
    }

    impl Sink {
        fn shut() -> Sink {
            let sink = Sink::default();
            sink.0.0.lock().unwrap().shut = true;
            sink
        }

        fn open(&self) {
            self.0.0.lock().unwrap().shut = false;
            self.0.1.notify_all();
        }

        fn wait_stuck(&self) {
            let (state, changed) = &*self.0;
            let state = state.lock().unwrap();
            let (state, timeout) = changed
                .wait_timeout_while(state, Duration::from_secs(10), |s| !s.stuck)
                .unwrap();
            assert!(
                !timeout.timed_out() && state.stuck,
                "no write reached the sink"
            );
        }

        fn text(&self) -> String {
            String::from_utf8(self.0.0.lock().unwrap().bytes.clone()).unwrap()
        }

        fn writes(&self) -> usize {
            self.0.0.lock().unwrap().writes
        }
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (state, changed) = &*self.0;
            let mut state = state.lock().unwrap();
            state.stuck = state.shut;
            changed.notify_all();
            state = changed.wait_while(state, |s| s.shut).unwrap();
            state.stuck = false;
            state.bytes.extend_from_slice(buf);
            state.writes += 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn writer(sink: &Sink, capacity: usize) -> (LogWriter, Metrics) {
        let metrics = Metrics::new();
        let writer = LogWriter::spawn(Box::new(sink.clone()), capacity, metrics.log_drops())
            .expect("the thread starts");
        (writer, metrics)
    }

    fn dropped(metrics: &Metrics, name: &str) -> String {
        let (text, _) = metrics.render();
        text.lines()
            .find(|l| l.starts_with(&format!("xmlrpc_gateway_{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .to_owned()
    }

    /// Runs `pushes` on a thread of its own and fails if it does not end
    /// within 10 s: a push that waited for the sink would hang there.
    fn without_waiting<T: Send + 'static>(pushes: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || done.send(pushes()).unwrap());
        result
            .recv_timeout(Duration::from_secs(10))
            .expect("pushing lines waited for the sink")
    }

    #[test]
    fn lines_come_out_whole_in_order_and_in_batches() {
        let sink = Sink::default();
        let (writer, metrics) = writer(&sink, 1 << 20);
        let mut want = String::new();
        for i in 0..2000 {
            let line = format!("line {i}\n");
            let kind = if i % 7 == 0 {
                Line::Other
            } else {
                Line::Access
            };
            assert!(writer.push(line.as_bytes(), kind));
            want.push_str(&line);
        }
        assert!(writer.flush(Duration::from_secs(10)));
        assert_eq!(sink.text(), want);
        assert!(sink.writes() < 2000, "{} writes", sink.writes());
        assert_eq!(
            dropped(&metrics, "access_log_dropped_total"),
            "xmlrpc_gateway_access_log_dropped_total 0"
        );
    }

    #[test]
    fn a_stuck_sink_fills_the_queue_to_its_bound_then_lines_are_dropped_and_counted() {
        let sink = Sink::shut();
        let (writer, metrics) = writer(&sink, 1000);
        let line = |i: usize| format!("{i:>99}\n");
        // The writer takes the first line and gets stuck writing it.
        assert!(writer.push(line(0).as_bytes(), Line::Access));
        sink.wait_stuck();
        // Ten 100-byte lines fill the 1000-byte queue; the next are dropped
        // at once, without waiting for the sink.
        let pushing = writer.clone();
        let queued = without_waiting(move || {
            (1..=15)
                .map(|i| pushing.push(line(i).as_bytes(), Line::Access))
                .collect::<Vec<_>>()
        });
        assert_eq!(queued, [vec![true; 10], vec![false; 5]].concat());
        assert_eq!(
            dropped(&metrics, "access_log_dropped_total"),
            "xmlrpc_gateway_access_log_dropped_total 5"
        );
        // Other lines have a reserve beyond the bound.
        assert!(writer.push(b"a warning\n", Line::Other));
        assert_eq!(
            dropped(&metrics, "log_dropped_total"),
            "xmlrpc_gateway_log_dropped_total 0"
        );
        // Once the sink takes lines again, what was queued comes out, in
        // order, and the dropped lines do not.
        sink.open();
        assert!(writer.flush(Duration::from_secs(10)));
        let want: String = (0..=10).map(line).collect::<String>() + "a warning\n";
        assert_eq!(sink.text(), want);
    }

    #[test]
    fn other_lines_are_dropped_beyond_the_reserve() {
        let sink = Sink::shut();
        let (writer, metrics) = writer(&sink, 100);
        assert!(writer.push(b"first\n", Line::Other));
        sink.wait_stuck();
        let big = vec![b'x'; RESERVE_BYTES + 1];
        let pushing = writer.clone();
        let queued = without_waiting(move || {
            [
                pushing.push(&big[..100], Line::Other),
                pushing.push(&big, Line::Other),
                pushing.push(b"x", Line::Access),
            ]
        });
        assert_eq!(queued, [true, false, false]);
        assert_eq!(
            dropped(&metrics, "log_dropped_total"),
            "xmlrpc_gateway_log_dropped_total 1"
        );
        assert_eq!(
            dropped(&metrics, "access_log_dropped_total"),
            "xmlrpc_gateway_access_log_dropped_total 1"
        );
        sink.open();
    }

    #[test]
    fn a_line_larger_than_the_queue_is_dropped_even_when_it_is_empty() {
        let sink = Sink::default();
        let (writer, metrics) = writer(&sink, 10);
        assert!(!writer.push(b"eleven byte", Line::Access));
        assert!(writer.push(b"ten bytes\n", Line::Access));
        assert!(writer.flush(Duration::from_secs(10)));
        assert_eq!(sink.text(), "ten bytes\n");
        assert_eq!(
            dropped(&metrics, "access_log_dropped_total"),
            "xmlrpc_gateway_access_log_dropped_total 1"
        );
    }

    #[test]
    fn close_writes_out_the_queue_and_later_lines_are_dropped() {
        let sink = Sink::default();
        let (writer, metrics) = writer(&sink, 1 << 20);
        for i in 0..100 {
            writer.push(format!("{i}\n").as_bytes(), Line::Access);
        }
        // No flush: close alone must write everything (the linger is cut).
        assert!(writer.close(Duration::from_secs(10)));
        let want: String = (0..100).map(|i| format!("{i}\n")).collect();
        assert_eq!(sink.text(), want);
        assert!(!writer.push(b"late\n", Line::Access));
        assert_eq!(
            dropped(&metrics, "access_log_dropped_total"),
            "xmlrpc_gateway_access_log_dropped_total 1"
        );
    }

    #[test]
    fn close_gives_up_on_a_stuck_sink_after_its_limit() {
        let sink = Sink::shut();
        let (writer, _metrics) = writer(&sink, 1000);
        assert!(writer.push(b"never written\n", Line::Access));
        sink.wait_stuck();
        let closing = writer.clone();
        let closed = without_waiting(move || closing.close(Duration::from_millis(50)));
        assert!(!closed);
        sink.open();
    }
}
