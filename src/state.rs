//! What services, handlers and workers share: the pool (and the reads a
//! replica may serve), the configuration,
//! the URL builder, the clock, the outbound HTTP client, signing keys, rate
//! limits, the limit on image work, the domain policy, the hub of live
//! events and the remote actors being fetched.
//! Built once in `app`, cloned cheaply.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio_util::task::TaskTracker;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::federation::signatures::SigningKey;
use crate::federation::urls::Urls;
use crate::net::HttpClient;
use crate::ratelimit::RateLimiter;
use crate::service::fetch_failures::FetchFailures;
use crate::service::keys::KeyCache;
use crate::service::push::VapidKey;
use crate::service::remote_actors::ActorFetches;
use crate::streaming::Hub;

#[derive(Clone)]
pub struct AppState {
    /// The primary: every write, and every read that must see a change
    /// just made.
    pub db: PgPool,
    /// Timeline and profile reads, which a read replica may serve
    /// (`db::reads`).
    pub read: Arc<crate::db::reads::Reads>,
    pub config: Arc<Config>,
    pub urls: Urls,
    pub clock: SharedClock,
    pub http: HttpClient,
    /// The instance actor's key: it signs every GET Skein sends.
    pub instance_key: Arc<SigningKey>,
    /// Local actors' signing keys, parsed once.
    pub keys: Arc<KeyCache>,
    /// Woken whenever deliveries are queued, so idle workers start at once.
    pub delivery_wakeup: Arc<Notify>,
    /// Rate limits of the client API and the sign-in form.
    pub limits: Arc<RateLimiter>,
    /// The instance's VAPID key for Web Push.
    pub vapid: Arc<VapidKey>,
    /// Image processing running at once, at most one per CPU: each takes a
    /// core and up to a few hundred MB, so more would only queue in memory.
    pub image_work: Arc<Semaphore>,
    /// This process's worker id (`jobs::WorkerLock`), for work a request
    /// does itself that workers could claim too (the web composer's
    /// transcoding); None for command-line states.
    pub worker_id: Option<i32>,
    /// The instance's domain policy, held in memory: replaced whole when
    /// it changes (here, or in another process, announced by NOTIFY).
    pub domain_policy: Arc<crate::domain::domain_policy::Current>,
    /// The address ranges refused outright (`no_access` IP blocks), held in
    /// memory like the domain policy and reloaded on `Change::IpBlocks`.
    pub refused_ips: Arc<crate::domain::ip_ranges::CurrentRefused>,
    /// Live events for streaming connections.
    pub streams: Arc<Hub>,
    /// Fetches of remote actors in flight: one per actor at a time.
    pub actor_fetches: Arc<ActorFetches>,
    /// Actor documents that failed to fetch lately, not fetched again yet.
    pub fetch_failures: Arc<FetchFailures>,
    /// Remote hosts whose failures this process cleared lately.
    pub hosts_heard: Arc<crate::service::hosts_heard::HostsHeard>,
    /// Work started after a request's change committed (checking profile
    /// links); tests wait for it with `close` and `wait`.
    pub background: TaskTracker,
    /// Where media files are kept: the media directory or a bucket.
    pub media: crate::storage::MediaStore,
    /// This process's last self-check results (`service::self_check`).
    pub self_checks: Arc<crate::service::self_check::SelfChecks>,
}
