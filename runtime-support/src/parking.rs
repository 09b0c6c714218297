//! The process-wide parking lot behind `memory.atomic.wait` and
//! `memory.atomic.notify`.
//!
//! Waiters are queued per *key*, the native address of the waited-on cell.
//! A shared memory's reservation never moves and no two live reservations
//! overlap, so the native address names (memory, Wasm address) exactly; a
//! waiter keeps its instance, hence the memory, alive while it waits. All
//! instances (on any thread) that import one shared memory therefore meet
//! in the same queue.
//!
//! Correctness rests on one lock per shard of keys: `wait` compares the
//! cell's current value with the expected one and enqueues itself *under
//! that lock*, and `notify` dequeues under it, so a notify ordered after a
//! store (by the program's own atomics) that changed the value either finds
//! the waiter queued or the waiter sees the new value and returns "not
//! equal" — a wake-up is never lost. Waiters are woken in FIFO order.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What `memory.atomic.wait` returns (its Wasm result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum WaitResult {
    /// Woken by a notify ("ok").
    Woken = 0,
    /// The cell did not hold the expected value.
    NotEqual = 1,
    /// The timeout passed first.
    TimedOut = 2,
}

struct Waiter {
    cv: Condvar,
    /// Set by `notify`, under the shard lock.
    woken: AtomicBool,
}

type Queues = BTreeMap<usize, VecDeque<Arc<Waiter>>>;

const SHARDS: usize = 64;

static LOT: [Mutex<Queues>; SHARDS] = [const { Mutex::new(BTreeMap::new()) }; SHARDS];

fn shard(key: usize) -> MutexGuard<'static, Queues> {
    // Cells are at least 4-byte aligned; mix in the page so neighbouring
    // memories spread too.
    let i = ((key >> 2) ^ (key >> 16)) % SHARDS;
    // Nothing panics while holding a shard lock; ignore poisoning anyway.
    LOT[i].lock().unwrap_or_else(|e| e.into_inner())
}

/// Parks the calling thread on `key` if `still_expected()` (run under the
/// shard lock, so atomically with respect to every `notify` of `key`)
/// returns true, until a `notify` wakes it or `timeout` passes (`None`:
/// forever; a timeout too large to represent is forever too).
///
/// `still_expected` must not fault or block: it runs with a lock held.
pub(crate) fn wait(
    key: usize,
    timeout: Option<Duration>,
    still_expected: impl FnOnce() -> bool,
) -> WaitResult {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let mut q = shard(key);
    if !still_expected() {
        return WaitResult::NotEqual;
    }
    if timeout == Some(Duration::ZERO) {
        return WaitResult::TimedOut;
    }
    let me = Arc::new(Waiter {
        cv: Condvar::new(),
        woken: AtomicBool::new(false),
    });
    q.entry(key).or_default().push_back(me.clone());
    loop {
        // `woken` is only written under the lock we hold here.
        if me.woken.load(Ordering::Relaxed) {
            return WaitResult::Woken;
        }
        match deadline {
            None => q = me.cv.wait(q).unwrap_or_else(|e| e.into_inner()),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    // Still queued (not woken): leave the queue.
                    if let Some(list) = q.get_mut(&key) {
                        list.retain(|w| !Arc::ptr_eq(w, &me));
                        if list.is_empty() {
                            q.remove(&key);
                        }
                    }
                    return WaitResult::TimedOut;
                }
                q = me
                    .cv
                    .wait_timeout(q, d - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

/// Wakes up to `count` waiters of `key`, oldest first; returns how many.
pub(crate) fn notify(key: usize, count: u32) -> u32 {
    if count == 0 {
        return 0;
    }
    let mut q = shard(key);
    let Some(list) = q.get_mut(&key) else {
        return 0;
    };
    let mut n = 0;
    while n < count {
        let Some(w) = list.pop_front() else { break };
        w.woken.store(true, Ordering::Relaxed);
        w.cv.notify_one();
        n += 1;
    }
    if list.is_empty() {
        q.remove(&key);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::thread;

    #[test]
    fn not_equal_and_timeout() {
        assert_eq!(wait(0x1000, None, || false), WaitResult::NotEqual);
        assert_eq!(
            wait(0x1000, Some(Duration::ZERO), || true),
            WaitResult::TimedOut
        );
        let t = Instant::now();
        assert_eq!(
            wait(0x1000, Some(Duration::from_millis(20)), || true),
            WaitResult::TimedOut
        );
        assert!(t.elapsed() >= Duration::from_millis(20));
        // A timed-out waiter left the queue.
        assert_eq!(notify(0x1000, 1), 0);
        assert_eq!(
            wait(0x1000, Some(Duration::MAX), || false),
            WaitResult::NotEqual
        );
    }

    #[test]
    fn notify_counts_and_never_loses_a_wakeup() {
        static CELL: AtomicU32 = AtomicU32::new(0);
        let key = &CELL as *const _ as usize;
        let waiters: Vec<_> = (0..4)
            .map(|_| thread::spawn(move || wait(key, None, || CELL.load(Ordering::SeqCst) == 0)))
            .collect();
        // Wake them two by two until all four returned.
        let mut woken = 0;
        while woken < 4 {
            woken += notify(key, 2);
            thread::yield_now();
        }
        for w in waiters {
            assert_eq!(w.join().unwrap(), WaitResult::Woken);
        }
        assert_eq!(notify(key, u32::MAX), 0);
        // Store-then-notify against check-then-park: a waiter either sees
        // the store or is woken, so this never hangs.
        for _ in 0..200 {
            CELL.store(0, Ordering::SeqCst);
            let w = thread::spawn(move || wait(key, None, || CELL.load(Ordering::SeqCst) == 0));
            CELL.store(1, Ordering::SeqCst);
            notify(key, 1);
            assert_ne!(w.join().unwrap(), WaitResult::TimedOut);
        }
    }
}
