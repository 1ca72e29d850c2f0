//! The store: the only place with SQL. One module per aggregate; every query
//! function takes an executor, so the caller (a service) owns the transaction.

/// SQL: whether the actor row aliased `$a` is limited by the moderators
/// (Mastodon's "limited"): silenced itself, or on a silenced domain. One
/// definition for every query that asks.
macro_rules! limited_actor {
    ($a:literal) => {
        concat!(
            "(",
            $a,
            ".silenced_at is not null or (",
            $a,
            ".domain is not null and exists (
                select 1 from domain_blocks lb
                where lb.severity = 'silence' and domain_covers(",
            $a,
            ".domain, lb.domain))))"
        )
    };
}

pub mod actors;
pub mod announcements;
pub mod annual_reports;
pub mod audit;
pub mod blocklists;
pub mod blocks;
pub mod bookmarks;
pub mod cards;
pub mod conversation_mutes;
pub mod conversations;
pub mod custom_emojis;
pub mod dead_letters;
pub mod deliveries;
pub mod directory;
pub mod domain_policy;
pub mod email_blocks;
pub mod embedded;
pub mod endorsements;
pub mod enums;
pub mod events;
pub mod filters;
pub mod follower_sync;
pub mod follows;
pub mod host_signatures;
pub mod imports;
pub mod inbox;
pub mod instance_texts;
pub mod ip_blocks;
pub mod likes;
pub mod link_trends;
pub mod lists;
pub mod mail;
pub mod markers;
pub mod measures;
pub mod media;
pub mod mutes;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod outbound;
pub mod pins;
pub mod polls;
pub mod posts;
pub mod push;
pub mod queue;
pub mod queue_health;
pub mod rate_limits;
pub mod reads;
pub mod relays;
pub mod remote_media;
pub mod reply_fetches;
pub mod reports;
pub mod rules;
pub mod scheduled_statuses;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod stats;
pub mod suggestions;
pub mod tags;
pub mod timed_work;
pub mod timelines;
pub mod trends;
pub mod two_factor;
pub mod uploads;
pub mod user_domain_blocks;
pub mod users;
pub mod views;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::Config;
use embedded::{Durability, EmbeddedPostgres};

/// Migrations are compiled into the binary and only ever go forward.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The connection pool, and the private cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `database_url`, or starts the embedded cluster when it is
    /// empty, then runs pending migrations.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        let (options, embedded) = if config.database_url.is_empty() {
            let data_dir = config.data_dir.clone();
            let settings = embedded::Settings {
                run_as: config.database.embedded_user.clone(),
                bin_dir: config.database.embedded_bin_dir.clone(),
                durability: Durability::Durable,
            };
            let cluster =
                tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir, &settings))
                    .await??;
            tracing::info!(socket_dir = %cluster.socket_dir().display(), "embedded PostgreSQL started");
            (cluster.connect_options().await?, Some(cluster))
        } else {
            (config.database_url.parse::<PgConnectOptions>()?, None)
        };
        let pool = pool_options(config.database.max_connections)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Database { pool, embedded })
    }

    /// Closes the pool, then stops the embedded cluster if there is one.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            match tokio::task::spawn_blocking(move || cluster.stop()).await {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(e)) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
                Err(e) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
            }
        }
    }
}

pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
}

/// Whether an error is a violation of the named unique constraint, so a
/// service can turn it into a 409/422 instead of a 500.
pub fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() && db.constraint().is_some_and(|c| c == constraint)
        }
        _ => false,
    }
}

/// A round trip to the database, for health checks.
pub async fn ping(db: impl sqlx::PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(db)
        .await
        .map(drop)
}

/// The database server's clock.
pub async fn database_time(
    db: impl sqlx::PgExecutor<'_>,
) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    sqlx::query_scalar("select now()").fetch_one(db).await
}
