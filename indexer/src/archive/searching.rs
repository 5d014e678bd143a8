//! How one search collects its segments: on every core while it is the
//! only search running, on its own thread while others run beside it.
//!
//! Measured on 2 cores (2026-12-01): spreading a lone search over the
//! cores keeps a 10⁶-document archive's p50 near 5 ms; spreading every
//! search made 16 concurrent clients pay a thread hand-off per segment
//! (kernel task switches were 13% of the server's time on the laws
//! corpus), where collecting each search on its own thread keeps both
//! cores busy without one.

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::collector::Collector;
use tantivy::query::{EnableScoring, Query};
use tantivy::{Executor, Searcher};

/// The executor shared by an archive's searches, and how many run now.
pub(super) struct Spread {
    /// One thread per core ([`Executor::multi_thread`]).
    cores: Executor,
    /// Searches between [`Searching::new`] and its drop.
    running: AtomicUsize,
}

impl Spread {
    /// Errors: the operating system refused to start the threads.
    pub(super) fn new() -> tantivy::Result<Spread> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Spread { cores: Executor::multi_thread(cores, "tantivy-search-")?, running: AtomicUsize::new(0) })
    }
}

/// A searcher of one request, with the executor chosen when it began.
pub(super) struct Searching<'a> {
    searcher: Searcher,
    executor: &'a Executor,
    spread: &'a Spread,
}

/// A search on one thread: [`Executor::SingleThread`].
static ALONE: Executor = Executor::SingleThread;

impl<'a> Searching<'a> {
    /// Counts this search as running until it is dropped; it spreads over
    /// the cores when no other search was running as it began.
    pub(super) fn new(searcher: Searcher, spread: &'a Spread) -> Searching<'a> {
        let before = spread.running.fetch_add(1, Ordering::Relaxed);
        let executor = if before == 0 { &spread.cores } else { &ALONE };
        Searching { searcher, executor, spread }
    }

    /// [`Searcher::search`] with this search's executor.
    pub(super) fn collect<C: Collector>(&self, query: &dyn Query, collector: &C) -> tantivy::Result<C::Fruit> {
        let scoring = if collector.requires_scoring() {
            EnableScoring::enabled_from_searcher(&self.searcher)
        } else {
            EnableScoring::disabled_from_searcher(&self.searcher)
        };
        self.searcher.search_with_executor(query, collector, self.executor, scoring)
    }
}

impl Deref for Searching<'_> {
    type Target = Searcher;

    fn deref(&self) -> &Searcher {
        &self.searcher
    }
}

impl Drop for Searching<'_> {
    fn drop(&mut self) {
        self.spread.running.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::Count;
    use tantivy::query::AllQuery;
    use tantivy::schema::{Schema, STRING};
    use tantivy::{doc, Index};

    use super::*;

    /// Two segments of one document each, as an archive after two commits.
    fn two_segments() -> Searcher {
        let mut schema = Schema::builder();
        let id = schema.add_text_field("id", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for name in ["a", "b"] {
            writer.add_document(doc!(id => name)).unwrap();
            writer.commit().unwrap();
        }
        index.reader().unwrap().searcher()
    }

    fn spreads(searching: &Searching) -> bool {
        matches!(searching.executor, Executor::ThreadPool(_))
    }

    /// A lone search spreads; one beside it does not, and both find every
    /// segment's documents; once both are done, the next spreads again.
    #[test]
    fn a_search_spreads_over_the_cores_only_while_no_other_runs() {
        let spread = Spread::new().unwrap();
        let searcher = two_segments();
        let first = Searching::new(searcher.clone(), &spread);
        let second = Searching::new(searcher.clone(), &spread);
        assert_eq!((spreads(&first), spreads(&second)), (true, false));
        assert_eq!((first.collect(&AllQuery, &Count).unwrap(), second.collect(&AllQuery, &Count).unwrap()), (2, 2));
        drop((first, second));
        assert!(spreads(&Searching::new(searcher, &spread)));
    }
}
