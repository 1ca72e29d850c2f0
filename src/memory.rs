//! Memory given back: the process's heap returns to the operating system
//! after a burst instead of staying at its peak.
//!
//! Skein runs on glibc's allocator. By default it keeps up to eight arenas per
//! core (one per thread that met contention), and memory freed inside an
//! arena stays mapped until the arena's top is free. After a burst (a
//! fan-out to thousands of inboxes, an ingest storm) the resident size stays
//! where the burst left it. Two settings fix that without a different
//! allocator (mimalloc, tried, kept more resident, not less):
//!
//! - [`configure`], before the runtime starts, caps the arenas at
//!   [`ARENAS_PER_CORE`] per core;
//! - [`give_back`], run every [`TRIM_EVERY`] by every process, asks glibc to
//!   return the free pages of every arena (`malloc_trim`), which it does with
//!   `madvise`, in the middle of arenas too. When there is little to return
//!   it costs microseconds.
//!
//! On other targets (musl, macOS) both do nothing. This is the only module
//! allowed `unsafe`: the two calls into glibc, each with its reason.
#![allow(unsafe_code)]

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Arenas glibc may keep per core (its default is eight).
pub const ARENAS_PER_CORE: usize = 2;

/// How often free memory is handed back.
pub const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Caps glibc's arenas; call before any thread is started.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(cores * ARENAS_PER_CORE).unwrap_or(i32::MAX);
        // SAFETY: mallopt only changes the allocator's parameters; it is
        // called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns free heap pages to the operating system; true when glibc
/// released some.
pub fn give_back() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes the arenas' locks itself and touches
        // only free memory.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Hands free memory back every [`TRIM_EVERY`] until `shutdown`.
pub async fn give_back_periodically(shutdown: CancellationToken) {
    let mut every = tokio::time::interval(TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {
                // Off the runtime's workers: a trim walks every arena.
                if tokio::task::spawn_blocking(give_back).await.is_err() {
                    tracing::debug!("the memory trim did not finish");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_memory_is_given_back() {
        configure();
        // A burst's worth of small allocations, then freed: glibc keeps them
        // in its arena until trimmed.
        let blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![(i % 251) as u8; 1024]).collect();
        assert_eq!(blocks.iter().map(Vec::len).sum::<usize>(), 20_000 * 1024);
        drop(blocks);
        let released = give_back();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert!(released, "glibc returned the freed pages");
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        assert!(!released);
    }
}
