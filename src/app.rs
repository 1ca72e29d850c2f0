//! Building and running the application: bind the listeners, prepare the
//! state, serve HTTP (and HTTPS when configured) until told to stop, then
//! drain requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::federation::urls::Urls;
use crate::http::{self, AppState};
use crate::service;

/// How long in-flight requests get to finish after a stop was asked for.
const DRAIN: Duration = Duration::from_secs(10);

pub struct Application {
    listener: TcpListener,
    tls: Option<(std::net::TcpListener, axum_server::tls_rustls::RustlsConfig)>,
    state: AppState,
}

impl Application {
    /// Prepares an application on an already bound listener (tests bind port
    /// 0 first so the domain can carry the port). Creates the instance actor
    /// on first start and binds the HTTPS listener when one is configured.
    pub async fn build(config: Config, db: PgPool, listener: TcpListener) -> anyhow::Result<Self> {
        if config.test_network.enabled {
            tracing::warn!(
                "TEST NETWORK MODE IS ON: plain http:// peers and loopback/private addresses are \
                 allowed. Never run a public instance like this."
            );
        }
        let urls = Urls::new(config.base_url());
        service::instance::ensure_actor(&db, &urls).await?;
        let tls = match config.tls_listen()? {
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
        Ok(Application {
            listener,
            tls,
            state: AppState {
                db,
                config: Arc::new(config),
                urls,
            },
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` is cancelled, then stops accepting and lets
    /// in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let router = http::router(self.state.clone());
        tracing::info!(
            addr = %self.listener.local_addr()?,
            domain = %self.state.urls.domain(),
            "listening for HTTP"
        );
        let plain = {
            let token = shutdown.clone();
            let router = router.clone();
            let listener = self.listener;
            async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(token.cancelled_owned())
                    .await
                    .context("serving HTTP")
            }
        };
        let secure = async {
            let Some((listener, rustls)) = self.tls else {
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
                .serve(router.into_make_service())
                .await
                .context("serving HTTPS")
        };
        tokio::try_join!(plain, secure)?;
        Ok(())
    }
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
