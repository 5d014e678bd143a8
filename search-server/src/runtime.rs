//! The process a server runs in, bounded so that its memory stays flat
//! under load: a tokio runtime whose blocking pool (where every search,
//! document read and suggestion runs) holds at most
//! [`INDEX_THREADS_PER_CORE`] threads per core, and, on glibc, a fixed
//! number of malloc arenas.
//!
//! Why (issue 10; figures in search-server/README.md, "Memory under
//! load"): with tokio's default pool of up to 512 threads, 16 clients kept
//! 40–92 threads alive, glibc gave each its own arena (up to 8 per core),
//! and each arena kept megabytes of freed memory resident: RSS grew
//! through a 60-second load, the more so the more cores the machine had.

use std::io;

use tokio::runtime::Runtime;

/// Threads of the blocking pool per core. Index work is CPU-bound, so
/// more threads than cores add no throughput, only memory; the second
/// thread per core covers work waiting on a disk read (originals, cold
/// index pages). Requests admitted beyond them (up to
/// [`Config::max_concurrent`](crate::Config::max_concurrent)) wait in the
/// pool's queue.
pub const INDEX_THREADS_PER_CORE: usize = 2;

/// glibc malloc arenas of the whole process, unless `MALLOC_ARENA_MAX` is
/// set. glibc's default is 8 per core, one per thread until then; most
/// small allocations are served by its per-thread cache without touching
/// an arena, and four arenas shared by all threads cost no CPU time per
/// request measurable on the load benchmarks.
pub const MALLOC_ARENAS: i32 = 4;

/// Threads the blocking pool holds on this machine:
/// [`INDEX_THREADS_PER_CORE`] per core.
pub fn index_threads() -> usize {
    INDEX_THREADS_PER_CORE * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The multi-threaded runtime to serve on: one worker per core, and a
/// blocking pool of at most [`index_threads`] threads.
///
/// Errors: the operating system refused to start the runtime's threads
/// or its I/O driver.
pub fn build() -> io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(index_threads()).build()
}

/// Limit glibc to [`MALLOC_ARENAS`] arenas, unless the environment sets
/// `MALLOC_ARENA_MAX` (glibc reads that itself). Call before any thread
/// starts; elsewhere than on glibc it does nothing.
pub fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a glibc tuning value; it takes no
        // pointers and is called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::{Arc, Barrier};

    use super::*;

    /// Four times as many blocking tasks as the pool may hold, each waiting
    /// until a pool's worth of them is running: they all run, on exactly
    /// [`index_threads`] threads (an unbounded pool starts a thread for
    /// nearly every one).
    #[test]
    fn index_work_runs_on_two_threads_per_core_and_no_more() {
        let threads = index_threads();
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(threads, 2 * cores);
        let runtime = build().unwrap();
        let together = Arc::new(Barrier::new(threads));
        let used: HashSet<std::thread::ThreadId> = runtime.block_on(async {
            let tasks: Vec<_> = (0..4 * threads)
                .map(|_| {
                    let together = Arc::clone(&together);
                    tokio::task::spawn_blocking(move || {
                        together.wait();
                        std::thread::current().id()
                    })
                })
                .collect();
            let mut used = HashSet::new();
            for task in tasks {
                used.insert(task.await.unwrap());
            }
            used
        });
        assert_eq!(used.len(), threads);
    }
}
