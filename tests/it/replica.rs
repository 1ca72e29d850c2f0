//! `database.replica_url`: a private primary and a streaming replica of it,
//! started here from the machine's PostgreSQL binaries with Skein's own
//! embedded-cluster code, and an instance reading its timelines and
//! profiles from the replica. Pausing the replica's replay shows which
//! reads it serves: they miss what was just written, while writes and the
//! reads that must see them (the posting answer, the post itself, one's own
//! account) come from the primary.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::{Value, json};
use skein::db::embedded::{Durability, EmbeddedPostgres, Settings};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::harness::{Options, TestApp};

const METRICS_TOKEN: &str = "a-metrics-token-of-some-length";

/// The two clusters; dropping it (also when a test panics) stops both, the
/// replica first, and removes their files.
struct Pair {
    replica: Option<EmbeddedPostgres>,
    primary: Option<EmbeddedPostgres>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        drop(self.replica.take());
        drop(self.primary.take());
    }
}

fn settings() -> Settings {
    Settings {
        run_as: String::new(),
        bin_dir: PathBuf::new(),
        durability: Durability::Ephemeral,
    }
}

/// A directory the cluster's (possibly unprivileged) owner can reach.
fn cluster_dir(prefix: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
        .keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// Starts a primary, creates and migrates Skein's database on it, then
/// starts a replica copied from it; returns the pair, a pool on the
/// primary, a pool on the replica and the replica's URL.
async fn start_pair() -> (Pair, PgPool, PgPool, String) {
    let primary = tokio::task::spawn_blocking(|| {
        EmbeddedPostgres::start(&cluster_dir("skein-primary-"), &settings())
    })
    .await
    .expect("join")
    .expect("the primary starts");
    let pair = Pair {
        replica: None,
        primary: Some(primary),
    };
    let primary = pair.primary.as_ref().expect("started");
    let options = primary
        .connect_options()
        .await
        .expect("the skein database on the primary");
    let primary_pool = skein::db::pool_options(4)
        .connect_with(options.clone())
        .await
        .expect("connect to the primary");
    skein::db::MIGRATOR
        .run(&primary_pool)
        .await
        .expect("migrations apply on the primary");

    let (replica, pair_back) = tokio::task::spawn_blocking(move || {
        let replica = EmbeddedPostgres::start_standby(
            &cluster_dir("skein-replica-"),
            &settings(),
            pair.primary.as_ref().expect("started"),
        );
        (replica, pair)
    })
    .await
    .expect("join");
    let mut pair = pair_back;
    pair.replica = Some(replica.expect("the replica starts"));
    let replica = pair.replica.as_ref().expect("started");

    let replica_options = replica.options_for("skein");
    let replica_pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(replica_options.clone())
        .await
        .expect("connect to the replica");
    let in_recovery: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(&replica_pool)
        .await
        .expect("query the replica");
    assert!(in_recovery, "the replica is a standby");
    let url = format!(
        "postgres://skein@localhost/skein?host={}",
        replica.socket_dir().display()
    );
    (pair, primary_pool, replica_pool, url)
}

/// Waits until the replica has replayed everything the primary wrote so
/// far (polling the replica's replay position, not a clock). The target is
/// the primary's WAL insert position: test clusters commit without waiting
/// for the WAL to be written (`synchronous_commit=off`), so the write
/// position (`pg_current_wal_lsn`) can still be short of a commit that has
/// already been answered.
async fn caught_up(primary: &PgPool, replica: &PgPool) {
    let target: String = sqlx::query_scalar("select pg_current_wal_insert_lsn()::text")
        .fetch_one(primary)
        .await
        .expect("the primary's position");
    for _ in 0..2_000 {
        let done: bool = sqlx::query_scalar(
            "select coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
        )
        .bind(&target)
        .fetch_one(replica)
        .await
        .expect("the replica's position");
        if done {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the replica did not catch up with {target}");
}

async fn pause_replay(replica: &PgPool) {
    sqlx::query("select pg_wal_replay_pause()")
        .execute(replica)
        .await
        .expect("pause replay");
    for _ in 0..2_000 {
        let state: String = sqlx::query_scalar("select pg_get_wal_replay_pause_state()")
            .fetch_one(replica)
            .await
            .expect("the pause state");
        if state == "paused" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("replay did not pause");
}

fn ids(statuses: &Value) -> Vec<String> {
    statuses
        .as_array()
        .expect("a list of statuses")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect()
}

fn title(page: &str) -> String {
    page.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title.to_string())
        .expect("a title")
}

async fn spawn(primary: &PgPool, replica_url: &str) -> TestApp {
    TestApp::spawn_on_database(
        Options::named("replicated")
            .env("SKEIN_DATABASE__REPLICA_URL", replica_url)
            .env("SKEIN_DATABASE__REPLICA_MAX_CONNECTIONS", "2")
            .env("SKEIN_METRICS__TOKEN", METRICS_TOKEN),
        primary.clone(),
    )
    .await
}

#[tokio::test]
async fn timelines_and_profiles_are_read_from_the_replica_and_what_was_just_written_from_the_primary()
 {
    let (pair, primary, replica, replica_url) = start_pair().await;
    let app = spawn(&primary, &replica_url).await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    let alice_token = app.token("alice").await;
    let bob_token = app.token("bob").await;
    let (status, before) = app
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "before the pause #replica"}),
        )
        .await;
    assert_eq!(status, 200, "{before}");
    let before_id = before["id"].as_str().expect("an id").to_string();
    caught_up(&primary, &replica).await;

    pause_replay(&replica).await;
    let (status, posted) = app
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "during the pause #replica"}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    let posted_id = posted["id"].as_str().expect("an id").to_string();
    assert!(
        posted["content"]
            .as_str()
            .is_some_and(|c| c.contains("during the pause")),
        "the posting answer shows the post: {posted}"
    );
    // Read-after-write: the post itself is read on the primary.
    let (status, shown) = app
        .api_get(&bob_token, &format!("/api/v1/statuses/{posted_id}"))
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["id"], posted_id.as_str());
    // The stored row is there on the primary, not yet on the replica.
    let on = |pool: &PgPool| {
        let pool = pool.clone();
        let id: i64 = posted_id.parse().expect("a numeric id");
        async move {
            sqlx::query_scalar::<_, bool>("select exists (select 1 from posts where id = $1)")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("query")
        }
    };
    assert!(on(&primary).await);
    assert!(!on(&replica).await, "replay is paused");

    // Timelines come from the replica: the earlier post, not the new one.
    let alice_id = alice.actor.id.to_string();
    for (token, path) in [
        (&bob_token, "/api/v1/timelines/public".to_string()),
        (&bob_token, "/api/v1/timelines/tag/replica".to_string()),
        (&alice_token, "/api/v1/timelines/home".to_string()),
        (&bob_token, format!("/api/v1/accounts/{alice_id}/statuses")),
    ] {
        let (status, page) = app.api_get(token, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let page = ids(&page);
        assert!(page.contains(&before_id), "{path} is read: {page:?}");
        assert!(
            !page.contains(&posted_id),
            "{path} is read from the paused replica: {page:?}"
        );
    }
    // One's own posts are read on the primary.
    let (_, own) = app
        .api_get(
            &alice_token,
            &format!("/api/v1/accounts/{alice_id}/statuses"),
        )
        .await;
    assert!(ids(&own).contains(&posted_id), "{own}");
    // So is the web's front page (the local timeline, signed out).
    let page = app.get("/").await.text().await.expect("body");
    assert!(page.contains("before the pause"), "{page}");
    assert!(!page.contains("during the pause"));

    // A profile changed during the pause: others read it from the replica,
    // its owner on the primary.
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice_token)
        .form(&[("display_name", "Alice Renamed")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let (_, me) = app
        .api_get(&alice_token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me["display_name"], "Alice Renamed");
    let (_, own) = app
        .api_get(&alice_token, &format!("/api/v1/accounts/{alice_id}"))
        .await;
    assert_eq!(own["display_name"], "Alice Renamed");
    let (_, seen) = app
        .api_get(&bob_token, &format!("/api/v1/accounts/{alice_id}"))
        .await;
    assert_ne!(
        seen["display_name"], "Alice Renamed",
        "read from the replica"
    );
    let (_, looked_up) = app
        .api_get(&bob_token, "/api/v1/accounts/lookup?acct=alice")
        .await;
    assert_eq!(looked_up["id"], alice_id.as_str());
    assert_ne!(looked_up["display_name"], "Alice Renamed");
    // The web profile's account is read from the replica too (its posts'
    // cards are presented from the primary, by id).
    let profile = app.get("/@alice").await.text().await.expect("body");
    let shown = title(&profile);
    assert!(shown.contains("alice"), "{shown}");
    assert!(
        !shown.contains("Alice Renamed"),
        "the web profile is read from the replica: {shown}"
    );
    // An account the replica does not have yet is found on the primary.
    let carol = app.create_user("carol").await;
    let (status, found) = app
        .api_get(&bob_token, &format!("/api/v1/accounts/{}", carol.actor.id))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["username"], "carol");
    let (status, _) = app
        .api_get(&bob_token, "/api/v1/accounts/lookup?acct=carol")
        .await;
    assert_eq!(status, 200);

    // Replay resumes: once the replica has caught up, everything shows.
    sqlx::query("select pg_wal_replay_resume()")
        .execute(&replica)
        .await
        .expect("resume replay");
    caught_up(&primary, &replica).await;
    let (_, page) = app.api_get(&bob_token, "/api/v1/timelines/public").await;
    assert!(ids(&page).contains(&posted_id), "{page}");
    let (_, home) = app.api_get(&alice_token, "/api/v1/timelines/home").await;
    assert!(ids(&home).contains(&posted_id), "{home}");
    let (_, seen) = app
        .api_get(&bob_token, &format!("/api/v1/accounts/{alice_id}"))
        .await;
    assert_eq!(seen["display_name"], "Alice Renamed");
    let profile = app.get("/@alice").await.text().await.expect("body");
    assert!(title(&profile).contains("Alice Renamed"), "{profile}");

    app.stop().await;
    replica.close().await;
    primary.close().await;
    drop(pair);
}

#[tokio::test]
async fn with_the_replica_down_timelines_and_profiles_are_read_from_the_primary() {
    let (mut pair, primary, replica, replica_url) = start_pair().await;
    let app = spawn(&primary, &replica_url).await;
    let alice = app.create_user("alice").await;
    let token = app.token("alice").await;
    app.create_user("bob").await;
    let bob_token = app.token("bob").await;
    // The replica has served a read, so its pool holds a connection.
    let (status, _) = app.api_get(&bob_token, "/api/v1/timelines/public").await;
    assert_eq!(status, 200);

    replica.close().await;
    let stopped = pair.replica.take().expect("started");
    tokio::task::spawn_blocking(move || stopped.stop())
        .await
        .expect("join")
        .expect("the replica stops");

    let (status, posted) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "replica down"}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    let posted_id = posted["id"].as_str().expect("an id").to_string();
    let (status, page) = app.api_get(&bob_token, "/api/v1/timelines/public").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        ids(&page).contains(&posted_id),
        "read on the primary: {page}"
    );
    let (status, seen) = app
        .api_get(&bob_token, &format!("/api/v1/accounts/{}", alice.actor.id))
        .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["username"], "alice");
    let response = app.get("/@alice").await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("replica down")
    );

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let fallbacks: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("skein_replica_fallbacks_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the fallbacks are counted");
    assert!(fallbacks >= 3.0, "{fallbacks}");
    assert!(metrics.contains("skein_db_replica_pool_connections{state=\"busy\"}"));

    app.stop().await;
    primary.close().await;
    drop(pair);
}
