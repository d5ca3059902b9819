//! Where a training step's tensor work runs. By default on the calling thread, and there the
//! CPU device spreads its large operations over rayon's current pool (natively, the machine's
//! cores). A host that keeps pools of its own (the browser worker's threaded build: a pool of
//! web-worker threads beside its own thread, which alone is a pool of one) hands the trainer
//! one, and every step and evaluation then runs inside it: how the worker trains on one thread
//! or on all of them, whichever it measured faster for the model.

use std::sync::Arc;

/// A pool of threads a step's work runs inside.
pub trait ComputePool: Send + Sync {
    /// Runs `work` to its end inside the pool (the caller waits).
    fn run(&self, work: &mut (dyn FnMut() + Send));
    /// Threads the pool's work may use.
    fn threads(&self) -> usize;
}

/// A pool shared by the runs that use it.
pub type SharedPool = Arc<dyn ComputePool>;

/// A rayon pool: `work` runs through [`rayon::ThreadPool::install`], so that every parallel
/// operation inside it (burn flex's and Kindling's own kernels) uses this pool's threads.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
impl ComputePool for rayon::ThreadPool {
    fn run(&self, work: &mut (dyn FnMut() + Send)) {
        self.install(work)
    }

    fn threads(&self) -> usize {
        self.current_num_threads()
    }
}

/// `work`'s result, computed inside `pool` when there is one, else on this thread.
pub(crate) fn within<R: Send>(pool: Option<&SharedPool>, work: impl FnOnce() -> R + Send) -> R {
    let Some(pool) = pool else {
        return work();
    };
    let mut work = Some(work);
    let mut result = None;
    pool.run(&mut || {
        if let Some(work) = work.take() {
            result = Some(work());
        }
    });
    result.expect("a pool runs its work to the end")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn work_runs_inside_the_pool_it_is_given_and_on_this_thread_without_one() {
        let pool: SharedPool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap(),
        );
        assert_eq!(pool.threads(), 3);
        let (threads, index) = within(Some(&pool), || {
            (rayon::current_num_threads(), rayon::current_thread_index())
        });
        assert_eq!(
            threads, 3,
            "rayon's operations inside see the pool's threads"
        );
        assert!(index.is_some(), "the work ran on one of the pool's threads");
        assert_eq!(within(None, rayon::current_thread_index), None);
    }
}
