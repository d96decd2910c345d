//! The background compiler's work queue, most urgent job first.
//!
//! A first-in-first-out channel made hot loops wait behind blocks that were hot once and ran
//! little since (tens of milliseconds during a Linux boot, interpreted all the while). The CPU
//! thread instead counts how often each waiting block still runs and hands the counts to the
//! queue between slices; the compiler takes the busiest waiting job.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

struct Entry<J> {
    id: u64,
    urgency: u32,
    job: J,
}

struct State<J> {
    entries: Vec<Entry<J>>,
    closed: bool,
}

pub struct Queue<J> {
    state: Mutex<State<J>>,
    ready: Condvar,
    /// Jobs pushed and not yet taken, readable without the lock.
    waiting: AtomicUsize,
}

impl<J> Queue<J> {
    pub fn new() -> Queue<J> {
        Queue {
            state: Mutex::new(State { entries: Vec::new(), closed: false }),
            ready: Condvar::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // Nothing panics while holding the lock, and the state stays consistent at every step.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, id: u64, job: J) {
        let mut s = self.lock();
        if !s.closed {
            s.entries.push(Entry { id, urgency: 0, job });
            self.waiting.store(s.entries.len(), Ordering::Relaxed);
            self.ready.notify_one();
        }
    }

    /// Set each waiting job's urgency to `urgency(id)`, dropping the jobs for which it says
    /// `None` (their block is gone); returns the ids dropped.
    pub fn reprioritize(&self, mut urgency: impl FnMut(u64) -> Option<u32>) -> Vec<u64> {
        let mut dropped = Vec::new();
        let mut s = self.lock();
        s.entries.retain_mut(|e| match urgency(e.id) {
            Some(u) => {
                e.urgency = u;
                true
            }
            None => {
                dropped.push(e.id);
                false
            }
        });
        self.waiting.store(s.entries.len(), Ordering::Relaxed);
        dropped
    }

    /// How many jobs wait (a moment's view).
    pub fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The most urgent job (the oldest among equals), waiting for one; `None` once closed.
    pub fn take(&self) -> Option<(u64, J)> {
        let mut s = self.lock();
        loop {
            if s.closed {
                return None;
            }
            let best = s.entries.iter().enumerate().max_by_key(|(_, e)| (e.urgency, std::cmp::Reverse(e.id)));
            if let Some((i, _)) = best {
                let e = s.entries.swap_remove(i);
                self.waiting.store(s.entries.len(), Ordering::Relaxed);
                return Some((e.id, e.job));
            }
            s = self.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wake the compiler for good: it takes no more jobs.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.entries.clear();
        self.waiting.store(0, Ordering::Relaxed);
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_urgent_job_comes_first_and_the_oldest_among_equals() {
        let q = Queue::new();
        for id in 0..4 {
            q.push(id, id * 10);
        }
        q.reprioritize(|id| Some(if id == 2 { 7 } else { 1 }));
        assert_eq!(q.take(), Some((2, 20)));
        assert_eq!(q.take(), Some((0, 0)));
        assert_eq!(q.take(), Some((1, 10)));
    }

    #[test]
    fn jobs_whose_block_is_gone_are_dropped() {
        let q = Queue::new();
        q.push(1, "a");
        q.push(2, "b");
        assert_eq!(q.reprioritize(|id| (id == 2).then_some(0)), vec![1]);
        assert_eq!(q.take(), Some((2, "b")));
    }

    #[test]
    fn a_closed_queue_wakes_its_waiting_compiler_with_nothing() {
        let q = std::sync::Arc::new(Queue::<u32>::new());
        let waiter = {
            let q = q.clone();
            std::thread::spawn(move || q.take())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        q.close();
        assert_eq!(waiter.join().unwrap(), None);
        q.push(1, 5);
        assert_eq!(q.take(), None);
    }
}
