//! Single-flight: callers that ask for the same key at the same time share
//! one computation and all get its result. Used so that a storm of
//! requests naming one unknown remote actor causes one fetch of its
//! document, not one per request. In-process only: another process may run
//! its own.
//!
//! A key is in flight from the first caller until the computation ends;
//! the next caller afterwards starts a new one (this is not a cache). If
//! the caller running the computation is dropped (its request cancelled),
//! a waiting caller takes it over, so waiters never hang.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// The computations in flight, by key.
pub struct SingleFlight<K, V> {
    in_flight: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, V> SingleFlight<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// The result of `compute` for `key`: run now by this caller, or by the
    /// caller already running it, whose result every waiter gets.
    pub async fn run<F, Fut>(&self, key: K, compute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self
            .map()
            .entry(key.clone())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let flight = Leave {
            flights: self,
            key,
            cell,
        };
        flight.cell.get_or_init(compute).await.clone()
    }

    /// How many keys are in flight.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        // The map stays consistent even if a holder panicked: every change
        // under the lock is a single insert or remove.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A caller's part in a flight; leaving (done, or dropped when its request
/// is cancelled) ends the flight when it has its result, or when nobody else
/// waits on it, so the map only holds flights someone is in.
struct Leave<'a, K: Eq + Hash, V> {
    flights: &'a SingleFlight<K, V>,
    key: K,
    cell: Arc<OnceCell<V>>,
}

impl<K: Eq + Hash, V> Drop for Leave<'_, K, V> {
    fn drop(&mut self) {
        let mut map = self
            .flights
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Two holders: the map and this caller.
        let ended = self.cell.initialized() || Arc::strong_count(&self.cell) == 2;
        if ended
            && map
                .get(&self.key)
                .is_some_and(|current| Arc::ptr_eq(current, &self.cell))
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_of_one_key_share_one_computation() {
        let flights: Arc<SingleFlight<String, usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        // The computation waits until every caller has joined the flight.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let (flights, runs, entered, gate) =
                    (flights.clone(), runs.clone(), entered.clone(), gate.clone());
                tokio::spawn(async move {
                    // On this single-threaded runtime, nothing runs between
                    // the count and joining the flight.
                    entered.fetch_add(1, Ordering::SeqCst);
                    flights
                        .run("a".to_string(), || async move {
                            let _open = gate.acquire().await;
                            runs.fetch_add(1, Ordering::SeqCst) + 41
                        })
                        .await
                })
            })
            .collect();
        while entered.load(Ordering::SeqCst) < 50 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(50);
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 41);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(flights.is_empty(), "the flight ended with its computation");
    }

    #[tokio::test]
    async fn different_keys_fly_separately_and_a_finished_flight_is_not_a_cache() {
        let flights: SingleFlight<&str, u32> = SingleFlight::default();
        assert_eq!(flights.run("a", || async { 1 }).await, 1);
        assert_eq!(flights.run("b", || async { 2 }).await, 2);
        assert_eq!(flights.run("a", || async { 3 }).await, 3);
        assert!(flights.is_empty());
    }

    #[tokio::test]
    async fn a_flight_whose_only_caller_is_dropped_ends() {
        let flights: Arc<SingleFlight<&str, u32>> = Arc::default();
        let first = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.run("a", std::future::pending::<u32>).await })
        };
        while flights.is_empty() {
            tokio::task::yield_now().await;
        }
        first.abort();
        let _ = first.await;
        assert!(flights.is_empty(), "a flight nobody is in is gone");
        assert_eq!(flights.run("a", || async { 7 }).await, 7);
    }

    #[tokio::test]
    async fn a_waiter_takes_over_when_the_running_caller_is_dropped() {
        let flights: Arc<SingleFlight<&str, u32>> = Arc::default();
        let entered = Arc::new(AtomicUsize::new(0));
        let first = {
            let (flights, entered) = (flights.clone(), entered.clone());
            tokio::spawn(async move {
                entered.fetch_add(1, Ordering::SeqCst);
                flights.run("a", std::future::pending::<u32>).await
            })
        };
        let second = {
            let (flights, entered) = (flights.clone(), entered.clone());
            tokio::spawn(async move {
                entered.fetch_add(1, Ordering::SeqCst);
                flights.run("a", || async { 7 }).await
            })
        };
        while entered.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        first.abort();
        assert_eq!(second.await.unwrap(), 7);
        assert!(flights.is_empty());
    }
}
