//! Building and running the application: bind the listeners, prepare the
//! state, serve HTTP (and HTTPS when configured) until told to stop, then
//! drain requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::{self, SharedClock};
use crate::config::Config;
use crate::db::reads::Reads;
use crate::federation::signatures::SigningKey;
use crate::federation::urls::Urls;
use crate::http::{self, AppState};
use crate::jobs::{WorkerLock, delivery::Deliverer, pool::Worker, push::Pusher};
use crate::net::{HttpClient, Policy};
use crate::ratelimit::RateLimiter;
use crate::service;
use crate::service::keys::KeyCache;
use crate::streaming::{self, Hub};

/// How long in-flight requests get to finish after a stop was asked for.
const DRAIN: Duration = Duration::from_secs(10);

pub struct Application {
    /// None for a worker process, which serves no HTTP.
    listener: Option<TcpListener>,
    /// `metrics.listen`'s listener, in every role.
    metrics: Option<TcpListener>,
    tls: Option<(std::net::TcpListener, axum_server::tls_rustls::RustlsConfig)>,
    state: AppState,
    worker: WorkerLock,
    deliverer: Arc<Deliverer>,
    pusher: Arc<Pusher>,
    changes: sqlx::postgres::PgListener,
}

impl Application {
    /// Prepares an application on an already bound listener (tests bind port
    /// 0 first so the domain can carry the port). Creates the instance actor
    /// on first start and binds the HTTPS listener when one is configured.
    pub async fn build(config: Config, db: PgPool, listener: TcpListener) -> anyhow::Result<Self> {
        Self::build_with_clock(config, db, listener, clock::system()).await
    }

    /// Prepares a worker process (`role = "worker"`), which binds nothing.
    pub async fn build_worker(config: Config, db: PgPool) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !config.role.serves_http(),
            "only a worker process runs without a listener"
        );
        Self::prepare(config, db, None, clock::system()).await
    }

    /// Like [`Application::build`], with the clock tests control.
    pub async fn build_with_clock(
        config: Config,
        db: PgPool,
        listener: TcpListener,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        Self::prepare(config, db, Some(listener), clock).await
    }

    async fn prepare(
        config: Config,
        db: PgPool,
        listener: Option<TcpListener>,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        if config.test_network.enabled {
            tracing::warn!(
                "TEST NETWORK MODE IS ON: plain http:// peers and loopback/private addresses are \
                 allowed. Never run a public instance like this."
            );
        }
        let tls = match config.tls_listen()?.filter(|_| config.role.serves_http()) {
            None => None,
            Some(addr) => {
                let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
                    &config.tls.cert_file,
                    &config.tls.key_file,
                )
                .await
                .context("loading tls.cert_file and tls.key_file")?;
                let listener = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("binding the HTTPS listener to {addr}"))?;
                listener.set_nonblocking(true)?;
                Some((listener, rustls))
            }
        };
        let metrics = match config.metrics.listen_addr()? {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics listener to {addr}"))?,
            ),
            None => None,
        };
        if config.metrics.enabled() {
            crate::prometheus::install();
        }
        let worker = WorkerLock::acquire(&db).await?;
        let changes = streaming::listener::connect(&db)
            .await
            .context("listening for changes")?;
        let mut state = Self::command_state(config, db, clock).await?;
        state.worker_id = Some(worker.id);
        let deliverer = Deliverer::new(state.clone(), worker.id);
        let pusher = Pusher::new(state.clone(), worker.id);
        Ok(Application {
            listener,
            metrics,
            tls,
            state,
            worker,
            deliverer,
            pusher,
            changes,
        })
    }

    /// The state the services work on, without listeners or workers: for
    /// commands run beside a server (`skein account suspend`), whose
    /// queued deliveries the server's workers send.
    pub async fn command_state(
        config: Config,
        db: PgPool,
        clock: SharedClock,
    ) -> anyhow::Result<AppState> {
        let urls = Urls::new(config.base_url());
        let instance = service::instance::ensure_actor(&db, &urls).await?;
        let instance_key = SigningKey::from_pkcs8_pem(
            &instance.public_key_id,
            instance.private_key_pem.as_deref().unwrap_or_default(),
        )
        .context("reading the instance actor's key")?;
        let user_agent = format!("Skein/{} (+{})", env!("CARGO_PKG_VERSION"), urls.root());
        let http = HttpClient::new(Policy::from_config(&config), &user_agent)?;
        let vapid = service::push::load_or_create_vapid(&db)
            .await
            .context("loading the VAPID key")?;
        let limits = Arc::new(RateLimiter::new(db.clone(), clock.clone()));
        let policy =
            service::domain_policy::load(&db, &urls.domain(), config.federation.mode).await?;
        let read = if config.database.replica_url.is_empty() {
            Reads::primary_only(db.clone())
        } else {
            let options = config
                .database
                .replica_url
                .parse::<PgConnectOptions>()
                .context("reading database.replica_url")?;
            Reads::with_replica(
                db.clone(),
                options,
                config.database.replica_max_connections,
                clock.clone(),
            )
        };
        let media = crate::storage::MediaStore::from_config(&config)?;
        let state = AppState {
            db,
            read: Arc::new(read),
            config: Arc::new(config),
            urls,
            clock,
            http,
            instance_key: Arc::new(instance_key),
            keys: Arc::new(KeyCache::default()),
            delivery_wakeup: Arc::new(tokio::sync::Notify::new()),
            limits,
            vapid: Arc::new(vapid),
            image_work: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            worker_id: None,
            domain_policy: Arc::new(crate::domain::domain_policy::Current::new(policy)),
            refused_ips: Arc::default(),
            streams: Arc::new(Hub::new()),
            actor_fetches: Arc::default(),
            fetch_failures: Arc::new(crate::service::fetch_failures::FetchFailures::new()),
            hosts_heard: Arc::new(crate::service::hosts_heard::HostsHeard::new()),
            background: tokio_util::task::TaskTracker::new(),
            media,
            self_checks: Arc::default(),
        };
        service::ip_blocks::reload(&state).await?;
        Ok(state)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match &self.listener {
            Some(listener) => listener.local_addr(),
            None => Err(std::io::Error::other("a worker process has no listener")),
        }
    }

    /// The metrics listener's address, when `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The delivery engine; tests drain it instead of running workers.
    pub fn deliverer(&self) -> Arc<Deliverer> {
        self.deliverer.clone()
    }

    /// The Web Push sender; tests drain it like the deliverer.
    pub fn pusher(&self) -> Arc<Pusher> {
        self.pusher.clone()
    }

    /// Serves until `shutdown` is cancelled, then stops accepting and lets
    /// in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut workers = self.spawn_jobs(&shutdown);
        let Application {
            listener,
            metrics,
            tls,
            state,
            worker,
            changes,
            ..
        } = self;
        let role = state.config.role;
        workers.push(tokio::spawn(crate::memory::give_back_periodically(
            shutdown.clone(),
        )));
        // Streaming connections close when the listener stops, at shutdown.
        let changes = tokio::spawn(streaming::listener::run(
            state.clone(),
            changes,
            shutdown.clone(),
        ));
        if let Some(metrics) = metrics {
            let state = state.clone();
            let token = shutdown.clone();
            workers.push(tokio::spawn(async move {
                let router = axum::Router::new().route(
                    "/metrics",
                    axum::routing::get(
                        move || async move { crate::prometheus::render(&state).await },
                    ),
                );
                if let Err(e) = axum::serve(metrics, router)
                    .with_graceful_shutdown(token.cancelled_owned())
                    .await
                {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            }));
        }
        let served = match listener.filter(|_| role.serves_http()) {
            Some(listener) => serve_http(&state, listener, tls, &shutdown).await,
            None => {
                tracing::info!(domain = %state.urls.domain(), "running as a worker");
                shutdown.cancelled().await;
                Ok(())
            }
        };
        // Jobs finish what they hold; unfinished claims are taken over by
        // the other processes once this one's worker lock is gone.
        for worker in workers {
            let _ = worker.await;
        }
        let _ = changes.await;
        worker.release().await;
        served
    }

    /// The background jobs of this process's role: deliveries, Web Push,
    /// imports, link previews and timed work (none for a web process).
    fn spawn_jobs(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        let config = &self.state.config;
        if !config.role.runs_jobs() {
            return Vec::new();
        }
        let mut workers = self
            .deliverer
            .spawn_pool(config.delivery.workers, shutdown.clone());
        // Imports and timed work resolve accounts over federation and write
        // like deliveries; tests (no delivery workers) run them
        // synchronously (`jobs::timed::run_due`).
        if config.delivery.workers > 0 {
            workers.push(crate::jobs::imports::spawn(
                self.state.clone(),
                shutdown.clone(),
            ));
            if config.link_previews.enabled {
                workers.push(crate::jobs::cards::spawn(
                    self.state.clone(),
                    shutdown.clone(),
                ));
            }
            workers.push(crate::jobs::reply_fetches::spawn(
                self.state.clone(),
                shutdown.clone(),
            ));
            workers.push(crate::jobs::media::spawn(
                self.state.clone(),
                self.worker.id,
                shutdown.clone(),
            ));
            if config.smtp.enabled() {
                workers.push(crate::jobs::mail::spawn(
                    self.state.clone(),
                    shutdown.clone(),
                ));
            }
            if config.media.remote_cache.enabled {
                workers.push(crate::jobs::remote_media::spawn(
                    self.state.clone(),
                    self.worker.id,
                    shutdown.clone(),
                ));
            }
            workers.push(crate::jobs::timed::spawn(
                self.state.clone(),
                self.worker.id,
                shutdown.clone(),
            ));
        }
        // Pushes are few and small beside deliveries: a couple of workers
        // (none when deliveries have none, as in tests, which drain).
        workers.extend(
            self.pusher
                .spawn_pool(config.delivery.workers.min(2), shutdown.clone()),
        );
        workers
    }
}

/// Serves HTTP (and HTTPS when configured) until `shutdown`, then lets
/// in-flight requests finish.
async fn serve_http(
    state: &AppState,
    listener: TcpListener,
    tls: Option<(std::net::TcpListener, axum_server::tls_rustls::RustlsConfig)>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let router = http::router(state.clone());
    tracing::info!(
        addr = %listener.local_addr()?,
        domain = %state.urls.domain(),
        role = ?state.config.role,
        "listening for HTTP"
    );
    if state.config.http.self_check {
        // Once the listener below accepts (connections wait until then).
        let state = state.clone();
        tokio::spawn(async move {
            crate::service::self_check::run(&state).await;
        });
    }
    let serves_tls = tls.is_some();
    if serves_tls && state.config.scheme() == crate::config::Scheme::Https {
        tracing::info!("the HTTP listener redirects everything but /health to HTTPS");
    }
    let plain = {
        let token = shutdown.clone();
        let router = http::transport::plain_listener(router.clone(), state, serves_tls);
        async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(token.cancelled_owned())
            .await
            .context("serving HTTP")
        }
    };
    let secure = async {
        let Some((listener, rustls)) = tls else {
            return Ok(());
        };
        tracing::info!(addr = %listener.local_addr()?, "listening for HTTPS");
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        let token = shutdown.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            stopper.graceful_shutdown(Some(DRAIN));
        });
        axum_server::from_tcp_rustls(listener, rustls)?
            .handle(handle)
            .serve(
                http::transport::tls_listener(router)
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .context("serving HTTPS")
    };
    tokio::try_join!(plain, secure).map(drop)
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM).
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, stopping"),
        _ = terminate => tracing::info!("SIGTERM received, stopping"),
    }
}
