//! Keeps the core's I/O threads away from a finalizing interpreter.
//!
//! An awaitable's waker is pyo3's asyncio waker, which attaches to Python to
//! schedule the wake-up. A tokio worker can call it a moment after the awaiting
//! coroutine already saw the result (tokio publishes completion before waking),
//! so at program exit it may run while `Py_FinalizeEx` tears the interpreter
//! down, which aborts the process. Every awaited core future is therefore polled
//! through [`Guarded`], whose waker forwards only while Python is alive; an
//! `atexit` hook closes the gate and waits for wakes already in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

static FINALIZING: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How long exit waits for wakes in flight (each needs only the GIL for a moment).
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Whether the interpreter is shutting down (no more calls into Python).
pub fn finalizing() -> bool {
    FINALIZING.load(Ordering::SeqCst)
}

struct GuardedWaker(Waker);

impl Wake for GuardedWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Announce first, then check: with SeqCst on both sides either this wake
        // sees the gate closed, or the exit hook sees it in flight and waits.
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        if !FINALIZING.load(Ordering::SeqCst) {
            self.0.wake_by_ref();
        }
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A future polled with a waker that never touches a finalizing interpreter.
pub struct Guarded<F> {
    inner: Pin<Box<F>>,
    /// The caller's waker and the guarded one wrapping it, reused while the caller's stays the same.
    waker: Option<(Waker, Waker)>,
}

impl<F: Future> Guarded<F> {
    pub fn new(inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
            waker: None,
        }
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let current = cx.waker();
        let waker = match &self.waker {
            Some((caller, guarded)) if caller.will_wake(current) => guarded.clone(),
            _ => {
                let guarded = Waker::from(Arc::new(GuardedWaker(current.clone())));
                self.waker = Some((current.clone(), guarded.clone()));
                guarded
            }
        };
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

/// Closes the gate at interpreter exit and waits for wakes in flight (GIL released).
#[pyfunction]
fn _close_wake_gate(py: Python<'_>) {
    FINALIZING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        while IN_FLIGHT.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// A forked child has none of the parent's threads, so none of their wakes.
#[pyfunction]
fn _reset_after_fork() {
    IN_FLIGHT.store(0, Ordering::SeqCst);
}

/// Registers the exit and fork hooks.
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let close = wrap_pyfunction!(_close_wake_gate, m)?;
    py.import("atexit")?.call_method1("register", (close,))?;
    let os = py.import("os")?;
    if os.hasattr("register_at_fork")? {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("after_in_child", wrap_pyfunction!(_reset_after_fork, m)?)?;
        os.call_method("register_at_fork", (), Some(&kwargs))?;
    }
    Ok(())
}
