//! Timeline reads at a million posts, through the built `skein` binary over
//! HTTP, as apps and browsers read them: home, public local and federated,
//! a hashtag, an account's statuses, notifications and a long thread's
//! context, through `/api/v1` and through the web pages, first pages and
//! deep ones (a walk down by `max_id`, random depths). Each case's p50 and
//! p99 are printed beside `GET /health` and a primary-key read of one post
//! measured in the same run, and beside the goals (API p99 <= 20 ms, web
//! p99 <= 30 ms) as a ratio.
//!
//!   cargo bench --bench timelines          full size (1,000,000 posts)
//!   cargo test --bench timelines           smoke size (CI runs this)
//!
//! The database is a private cluster started for the run, durable (fsync
//! and synchronous commit on, checked; `benches/common`). The population is
//! loaded with set-based SQL, bypassing HTTP: actors (one in ten local)
//! whose activity follows a power law, a year of posts with replies,
//! reposts, unlisted, followers-only and direct posts, tombstones, mentions,
//! hashtags, a follow graph and blocks, the viewer's notifications and a
//! long thread; the viewer is a local account of median activity following
//! `follows` accounts. Accounts' counts are then rebuilt by the binary's
//! `skein maintenance recount`. The viewer reads with OAuth tokens made by
//! `skein token create` (several, used in turn: the API allows 300 calls per
//! 5 minutes per token) and a web session.
//!
//! Every read must answer 200 (and a first page must hold something), or
//! the benchmark fails; nothing fails on timing. `SKEIN_BENCH_KEEP=1` leaves
//! the server running at the end until Enter is pressed, to look at it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Bench, percentile};
use sqlx::PgConnection;

struct Size {
    actors: i64,
    posts: i64,
    /// Accounts the viewer follows.
    follows: i64,
    /// Notifications of the viewer, and replies in the long thread.
    notifications: i64,
    thread: i64,
    /// Timed reads per case: at most `reads`, and no more once `budget` is spent.
    reads: usize,
    budget: Duration,
}

const FULL: Size = Size {
    actors: 10_000,
    posts: 1_000_000,
    follows: 300,
    notifications: 5_000,
    thread: 300,
    reads: 400,
    budget: Duration::from_secs(4),
};
const SMOKE: Size = Size {
    actors: 100,
    posts: 2_000,
    follows: 30,
    notifications: 60,
    thread: 20,
    reads: 5,
    budget: Duration::from_millis(100),
};

/// Untimed reads first.
const WARMUP: usize = 5;
/// Mastodon's default page size.
const LIMIT: i64 = 20;
/// The goals for a page's p99.
const GOAL_API_MS: f64 = 20.0;
const GOAL_WEB_MS: f64 = 30.0;
/// Mastodon's API limit per token, less a margin.
const CALLS_PER_TOKEN: usize = 280;

fn main() {
    // `cargo bench` passes --bench; `cargo test` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full { FULL } else { SMOKE };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(&size, full));
}

/// What the population holds that the reads need.
struct Population {
    viewer: i64,
    /// A new local account: it follows nobody and has written two posts.
    newcomer: i64,
    /// A local account that follows 10 of the quietest accounts.
    lurker: i64,
    followees: i64,
    home_posts: i64,
    popular_tag: (String, i64),
    rare_tag: (String, i64),
    /// The viewer's most active followee and a quiet account, with their
    /// post counts.
    active: (i64, i64),
    quiet: (i64, i64),
    /// The long thread: its first post and its deepest reply.
    thread_root: i64,
    thread_leaf: i64,
}

/// Who reads: an account's tokens (used in turn) and web session cookie.
struct Reader {
    tokens: Vec<String>,
    next: std::cell::Cell<usize>,
    cookie: String,
}

impl Reader {
    fn token(&self) -> &str {
        let n = self.next.get();
        self.next.set(n + 1);
        &self.tokens[(n / CALLS_PER_TOKEN) % self.tokens.len()]
    }
}

async fn username(db: &sqlx::PgPool, id: i64) -> String {
    sqlx::query_scalar("select username from actors where id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

/// `user` or `user@host`, as web addresses name an account.
async fn acct(db: &sqlx::PgPool, id: i64) -> String {
    sqlx::query_scalar("select username || coalesce('@' || domain, '') from actors where id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Tokens enough for `calls` API calls, and a web session, for `id`.
async fn reader(bench: &Bench, id: i64, calls: usize) -> Reader {
    let name = username(&bench.pool, id).await;
    let tokens = (0..calls.div_ceil(CALLS_PER_TOKEN).max(1))
        .map(|_| bench.run(&["token", "create", &name]).trim().to_string())
        .collect();
    let cookie = skein::service::oauth::new_secret();
    sqlx::query(
        "insert into sessions (id_digest, user_id, csrf_token, created_at, last_seen_at, expires_at)
         select $1, u.id, 'csrf', now(), now(), now() + interval '1 day'
         from users u where u.actor_id = $2",
    )
    .bind(skein::service::oauth::digest(&cookie))
    .bind(id)
    .execute(&bench.pool)
    .await
    .unwrap();
    Reader {
        tokens,
        next: std::cell::Cell::new(0),
        cookie: format!("{}={cookie}", skein::service::sessions::COOKIE),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Api,
    Web,
    Plain,
}

/// A case: the paths read in turn, and how.
struct Case {
    label: String,
    via: Via,
    /// Signed in as the viewer (or another reader), or signed out.
    reader: Option<usize>,
    paths: Vec<String>,
    /// A first page: it must show something.
    first: bool,
}

impl Case {
    fn api(label: &str, reader: Option<usize>, paths: Vec<String>, first: bool) -> Case {
        Case {
            label: label.to_string(),
            via: Via::Api,
            reader,
            paths,
            first,
        }
    }

    fn web(label: &str, reader: Option<usize>, paths: Vec<String>, first: bool) -> Case {
        Case {
            label: label.to_string(),
            via: Via::Web,
            reader,
            paths,
            first,
        }
    }
}

struct Timing {
    p50: Duration,
    p99: Duration,
    reads: usize,
    /// Items per API page (statuses, notifications), on average.
    items: f64,
}

/// Reads `case` WARMUP times untimed, then timed until `size.reads` reads or
/// `size.budget` is spent. Every answer must be 200.
async fn timed(bench: &Bench, size: &Size, readers: &[Reader], case: &Case) -> Timing {
    let mut paths = case.paths.iter().cycle();
    let mut latencies = Vec::new();
    let mut items = 0usize;
    let mut start = Instant::now();
    let mut n = 0;
    loop {
        let timing = n >= WARMUP;
        if n == WARMUP {
            start = Instant::now();
        }
        if timing && (latencies.len() >= size.reads || start.elapsed() >= size.budget) {
            break;
        }
        n += 1;
        let path = paths.next().expect("paths");
        let mut request = bench.client.get(bench.url(path));
        if let Some(r) = case.reader {
            request = match case.via {
                Via::Api => request.bearer_auth(readers[r].token()),
                Via::Web => request
                    .header("cookie", &readers[r].cookie)
                    .header("accept", "text/html"),
                Via::Plain => request,
            };
        } else if case.via == Via::Web {
            request = request.header("accept", "text/html");
        }
        let began = Instant::now();
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let body = response.bytes().await.expect("the body");
        let took = began.elapsed();
        assert_eq!(
            status,
            200,
            "{}: GET {path}: {}",
            case.label,
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
        let count = match case.via {
            Via::Api => {
                let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
                match &value {
                    serde_json::Value::Array(list) => list.len(),
                    serde_json::Value::Object(o) if o.contains_key("descendants") => {
                        o["descendants"].as_array().map_or(0, Vec::len)
                            + o["ancestors"].as_array().map_or(0, Vec::len)
                    }
                    _ => 1,
                }
            }
            Via::Web => String::from_utf8_lossy(&body).matches("<article").count(),
            Via::Plain => 1,
        };
        if case.first {
            assert!(count > 0, "{}: GET {path} shows something", case.label);
        }
        if timing {
            latencies.push(took);
            items += count;
        }
    }
    latencies.sort();
    Timing {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        reads: latencies.len(),
        items: items as f64 / latencies.len().max(1) as f64,
    }
}

fn ms(d: Duration) -> String {
    format!("{:>8.2} ms", d.as_secs_f64() * 1000.0)
}

async fn run(size: &Size, full: bool) {
    println!(
        "timelines benchmark ({} size)",
        if full { "full" } else { "smoke" }
    );
    let mut bench = Bench::start().await;
    bench.run(&["migrate"]);
    let started = Instant::now();
    let population = {
        let mut conn = bench.pool.acquire().await.unwrap();
        load(&mut conn, size).await
    };
    // Accounts' counts, rebuilt by the binary's own repair.
    bench.run(&["maintenance", "recount"]);
    sqlx::raw_sql("vacuum analyze")
        .execute(&bench.pool)
        .await
        .expect("vacuum analyze");
    let loaded = started.elapsed();
    let (posts, actors, locals, follows, blocks, notifications): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select (select count(*) from posts), (select count(*) from actors),
                    (select count(*) from actors where domain is null), (select count(*) from follows),
                    (select count(*) from blocks), (select count(*) from notifications)",
        )
        .fetch_one(&bench.pool)
        .await
        .unwrap();
    let size_on_disk: String =
        sqlx::query_scalar("select pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&bench.pool)
            .await
            .unwrap();
    println!(
        "data    {posts} posts by {actors} actors ({locals} local), {follows} follows, {blocks} blocks, \
         {notifications} notifications; {size_on_disk}; loaded, recounted and analyzed in {:.1}s",
        loaded.as_secs_f64()
    );
    println!(
        "data    viewer follows {} accounts; its home timeline holds {} posts",
        population.followees, population.home_posts
    );
    let server: String = sqlx::query_scalar(
        "select current_setting('server_version') || ', fsync ' || current_setting('fsync')
                || ', synchronous_commit ' || current_setting('synchronous_commit')
                || ', shared_buffers ' || current_setting('shared_buffers')",
    )
    .fetch_one(&bench.pool)
    .await
    .unwrap();
    println!("data    PostgreSQL {server}");

    bench.serve().await;
    let viewer = population.viewer;
    let calls = 40 * (size.reads + WARMUP);
    let readers = vec![
        reader(&bench, viewer, calls).await,
        reader(&bench, population.newcomer, 2 * (size.reads + WARMUP)).await,
        reader(&bench, population.lurker, 2 * (size.reads + WARMUP)).await,
    ];
    let (v, newcomer, lurker) = (Some(0), Some(1), Some(2));

    // Deep pages: a walk down the home timeline by max_id, through the API.
    let mut walk = Vec::new();
    let mut max_id: Option<String> = None;
    for _ in 0..if full { 50 } else { 5 } {
        let path = match &max_id {
            None => format!("/api/v1/timelines/home?limit={LIMIT}"),
            Some(id) => format!("/api/v1/timelines/home?limit={LIMIT}&max_id={id}"),
        };
        let page: serde_json::Value = bench
            .client
            .get(bench.url(&path))
            .bearer_auth(readers[0].token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let Some(last) = page.as_array().and_then(|p| p.last()) else {
            break;
        };
        let id = last["id"].as_str().unwrap().to_string();
        walk.push(id.clone());
        max_id = Some(id);
    }
    let db = &bench.pool;
    let home_depths = random_ids(
        db,
        &format!(
            "deleted_at is null and (author_id = {viewer} or author_id in (
                 select followee_id from follows
                 where follower_id = {viewer} and state = 'accepted'))"
        ),
    )
    .await;
    let local_depths = random_ids(
        db,
        "visibility = 'public' and reblog_of_id is null and deleted_at is null
         and author_id in (select id from actors where domain is null)",
    )
    .await;
    let all_depths = random_ids(
        db,
        "visibility = 'public' and reblog_of_id is null and deleted_at is null",
    )
    .await;
    let (popular, popular_uses) = population.popular_tag.clone();
    let (rare, rare_uses) = population.rare_tag.clone();
    let tag_depths = random_ids(
        db,
        &format!("id in (select post_id from post_tags where tag = '{popular}')"),
    )
    .await;
    let (active, active_posts) = population.active;
    let (quiet, quiet_posts) = population.quiet;
    let active_depths = random_ids(db, &format!("author_id = {active}")).await;
    let notification_depths: Vec<i64> = sqlx::query_scalar(
        "select id from notifications where recipient_id = $1 order by random() limit 200",
    )
    .bind(viewer)
    .fetch_all(db)
    .await
    .unwrap();
    let active_acct = acct(db, active).await;
    let quiet_acct = acct(db, quiet).await;
    let root_acct: String = sqlx::query_scalar(
        "select a.username || coalesce('@' || a.domain, '') from posts p
         join actors a on a.id = p.author_id where p.id = $1",
    )
    .bind(population.thread_root)
    .fetch_one(db)
    .await
    .unwrap();

    let with = |base: &str, key: &str, ids: &[i64]| -> Vec<String> {
        let sep = if base.contains('?') { '&' } else { '?' };
        ids.iter()
            .map(|id| format!("{base}{sep}{key}={id}"))
            .collect()
    };
    let ids = |v: &[String]| -> Vec<i64> { v.iter().map(|s| s.parse().unwrap()).collect() };
    let one = |p: String| vec![p];
    let home = format!("/api/v1/timelines/home?limit={LIMIT}");
    let local = format!("/api/v1/timelines/public?local=true&limit={LIMIT}");
    let federated = format!("/api/v1/timelines/public?limit={LIMIT}");
    let tag = format!("/api/v1/timelines/tag/{popular}?limit={LIMIT}");
    let account = format!("/api/v1/accounts/{active}/statuses?limit={LIMIT}");
    let notes = format!("/api/v1/notifications?limit={LIMIT}");
    let thread = population.thread_root;
    let leaf = population.thread_leaf;
    let cases = vec![
        Case::api("home, first page", v, one(home.clone()), true),
        Case::api(
            "home, pages 2-51 by max_id",
            v,
            with(&home, "max_id", &ids(&walk)),
            true,
        ),
        Case::api(
            "home, random depth",
            v,
            with(&home, "max_id", &home_depths),
            false,
        ),
        Case::api("home, new account", newcomer, one(home.clone()), true),
        Case::api("home, 10 quiet follows", lurker, one(home.clone()), true),
        Case::api("public local, first page", v, one(local.clone()), true),
        Case::api(
            "public local, random depth",
            v,
            with(&local, "max_id", &local_depths),
            false,
        ),
        Case::api(
            "public federated, first page",
            v,
            one(federated.clone()),
            true,
        ),
        Case::api(
            "public federated, random depth",
            v,
            with(&federated, "max_id", &all_depths),
            false,
        ),
        Case::api(
            &format!("tag #{popular} ({popular_uses}), first page"),
            v,
            one(tag.clone()),
            true,
        ),
        Case::api(
            &format!("tag #{popular}, random depth"),
            v,
            with(&tag, "max_id", &tag_depths),
            false,
        ),
        Case::api(
            &format!("tag #{rare} ({rare_uses}), first page"),
            v,
            one(format!("/api/v1/timelines/tag/{rare}?limit={LIMIT}")),
            true,
        ),
        Case::api(
            &format!("account ({active_posts} posts), first page"),
            v,
            one(account.clone()),
            true,
        ),
        Case::api(
            "account, random depth",
            v,
            with(&account, "max_id", &active_depths),
            false,
        ),
        Case::api(
            &format!("account ({quiet_posts} posts), first page"),
            v,
            one(format!("/api/v1/accounts/{quiet}/statuses?limit={LIMIT}")),
            true,
        ),
        Case::api("notifications, first page", v, one(notes.clone()), true),
        Case::api(
            "notifications, random depth",
            v,
            with(&notes, "max_id", &notification_depths),
            false,
        ),
        Case::api(
            &format!("context of a {}-post thread", size.thread + 1),
            v,
            one(format!("/api/v1/statuses/{thread}/context")),
            true,
        ),
        Case::api(
            "context of its deepest reply",
            v,
            one(format!("/api/v1/statuses/{leaf}/context")),
            true,
        ),
        Case::web("home, first page", v, one("/home".into()), true),
        Case::web(
            "home, pages 2-51 by max_id",
            v,
            with("/home", "max_id", &ids(&walk)),
            true,
        ),
        Case::web(
            "home, random depth",
            v,
            with("/home", "max_id", &home_depths),
            false,
        ),
        Case::web(
            "public local (front page), signed out",
            None,
            one("/".into()),
            true,
        ),
        Case::web(
            "public local, random depth",
            None,
            with("/", "max_id", &local_depths),
            false,
        ),
        Case::web(
            "public federated, first page",
            v,
            one("/home?tab=fediverse".into()),
            true,
        ),
        Case::web(
            "public federated, random depth",
            v,
            with("/home?tab=fediverse", "max_id", &all_depths),
            false,
        ),
        Case::web(
            &format!("tag #{popular}, first page"),
            v,
            one(format!("/tags/{popular}")),
            true,
        ),
        Case::web(
            &format!("tag #{popular}, random depth"),
            v,
            with(&format!("/tags/{popular}"), "max_id", &tag_depths),
            false,
        ),
        Case::web(
            "profile, first page",
            v,
            one(format!("/@{active_acct}")),
            true,
        ),
        Case::web(
            "profile, random depth",
            v,
            with(&format!("/@{active_acct}"), "max_id", &active_depths),
            false,
        ),
        Case::web(
            "profile of a quiet account",
            v,
            one(format!("/@{quiet_acct}")),
            true,
        ),
        Case::web(
            "notifications, first page",
            v,
            one("/notifications".into()),
            true,
        ),
        Case::web(
            "notifications, random depth",
            v,
            with("/notifications", "max_id", &notification_depths),
            false,
        ),
        Case::web(
            "thread page",
            v,
            one(format!("/@{root_acct}/{thread}")),
            true,
        ),
    ];

    // The yardsticks, in the same run: the binary's health check, and one
    // post by its primary key on a connection of the same cluster.
    let health = Case {
        label: "GET /health".into(),
        via: Via::Plain,
        reader: None,
        paths: one("/health".into()),
        first: false,
    };
    let health = timed(&bench, size, &readers, &health).await;
    let pk = pk_reads(&bench, size).await;
    println!(
        "limit   GET /health: p50 {} p99 {}; one post by primary key (SQL): p50 {} p99 {}",
        ms(health.p50),
        ms(health.p99),
        ms(pk.p50),
        ms(pk.p99),
    );
    println!(
        "goal    p99 <= {GOAL_API_MS} ms through /api/v1, <= {GOAL_WEB_MS} ms for web pages (ratio: p99 / goal)"
    );
    for case in &cases {
        let t = timed(&bench, size, &readers, case).await;
        let (via, goal) = match case.via {
            Via::Web => ("web", GOAL_WEB_MS),
            _ => ("api", GOAL_API_MS),
        };
        let ratio = t.p99.as_secs_f64() * 1000.0 / goal;
        println!(
            "read    {via} {:<40} p50 {} p99 {} {:>5.2}x goal{} {:>5.1}x /health p50, {:>4} reads, {:>5.1} items",
            case.label,
            ms(t.p50),
            ms(t.p99),
            ratio,
            if ratio > 1.0 { " (over)" } else { "       " },
            t.p50.as_secs_f64() / health.p50.as_secs_f64().max(1e-9),
            t.reads,
            t.items,
        );
    }
    if std::env::var("SKEIN_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0") {
        println!(
            "kept    the server runs at {} (database {}); press Enter to stop",
            bench.url("/"),
            bench.database_url
        );
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
}

/// One post by its primary key, on one connection, as often as a case reads.
async fn pk_reads(bench: &Bench, size: &Size) -> Timing {
    let sample: Vec<i64> = sqlx::query_scalar("select id from posts order by random() limit 1000")
        .fetch_all(&bench.pool)
        .await
        .unwrap();
    let mut conn = bench.pool.acquire().await.unwrap();
    let mut latencies = Vec::new();
    let start = Instant::now();
    for (n, id) in sample.iter().cycle().enumerate() {
        if n >= WARMUP && (latencies.len() >= size.reads || start.elapsed() >= size.budget) {
            break;
        }
        let began = Instant::now();
        sqlx::query("select * from posts where id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        if n >= WARMUP {
            latencies.push(began.elapsed());
        }
    }
    latencies.sort();
    Timing {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        reads: latencies.len(),
        items: 1.0,
    }
}

/// Up to 200 ids of live posts matching `filter`, in random order: `max_id`s
/// at depths spread evenly over a timeline.
async fn random_ids(db: &sqlx::PgPool, filter: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "select id from posts where {filter} order by random() limit 200"
    ))
    .fetch_all(db)
    .await
    .unwrap()
}

/// Generates the population with set-based SQL.
async fn load(conn: &mut PgConnection, size: &Size) -> Population {
    let a = size.actors;
    let p = size.posts;
    // A year of posts, one every `step` ms, with Skein's time-ordered ids.
    let year_ms: i64 = 365 * 24 * 3600 * 1000;
    let t0 = chrono::Utc::now().timestamp_millis() - year_ms;
    let step = year_ms / p;
    // An actor drawn with a power law: rank floor(a * u^k) (a few accounts
    // write much of everything), spread over the ids by a multiplier prime to a.
    let pick =
        |k: f64| format!("(((floor({a} * power(random(), {k:.1}))::bigint * 7919) % {a}) + 1)");
    let author = pick(3.0);
    let popular = pick(2.0);
    // Triggers off while loading (accounts' counts are rebuilt afterwards
    // by `skein maintenance recount`).
    sqlx::raw_sql("set session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "select setseed(0.42);

         -- One actor in ten is local; remote ones live on 250 servers.
         insert into actors (id, ap_id, username, domain, inbox_url, shared_inbox_url,
                             followers_url, public_key_id, public_key_pem, private_key_pem)
         select i, base || '/users/u' || i, 'u' || i, domain,
                base || '/users/u' || i || '/inbox', base || '/inbox',
                base || '/users/u' || i || '/followers', base || '/users/u' || i || '#main-key',
                'pem', case when domain is null then 'pem' end
         from (select i, case when i % 10 <> 0 then 'r' || (i % 250) || '.example' end as domain
               from generate_series(1, {a}) i) s,
              lateral (select 'https://' || coalesce(s.domain, 'skein.example') as base) b;
         insert into users (actor_id, password_hash) select id, 'x' from actors where domain is null;

         create temp table g as
         select i,
                (({t0} + i * {step}) << 16) | (i & 65535) as id,
                {author} as author,
                random() as kind, random() as vis, random() as del,
                -- What a reply or repost points at: one of the 20,000 posts before.
                greatest(i - 1 - floor(random() * least(i - 1, 20000))::bigint, 1) as parent
         from generate_series(1::bigint, {p}) i;

         -- 8% reposts, 20% replies; of the rest 75% public, 12% unlisted,
         -- 9% followers-only, 4% direct; 1% deleted (tombstones).
         insert into posts (id, ap_id, author_id, url, content, summary, language, visibility,
                            in_reply_to_id, in_reply_to_ap_id, reblog_of_id, published,
                            created_at, deleted_at)
         select n.id,
                a.ap_id || '/statuses/' || n.id || case when n.repost then '/activity' else '' end,
                n.author,
                case when not n.repost then a.ap_id || '/statuses/' || n.id end,
                case when n.repost or n.deleted then ''
                     else '<p>Post ' || n.i || ' ' || md5(n.i::text) || ' lorem ipsum dolor sit amet, '
                          || 'consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore '
                          || md5(n.author::text) || '</p>' end,
                '', 'en',
                case when n.repost or n.vis < 0.75 then 'public' when n.vis < 0.87 then 'unlisted'
                     when n.vis < 0.96 then 'private' else 'direct' end,
                case when n.reply then q.id end,
                case when n.reply then pa.ap_id || '/statuses/' || q.id end,
                case when n.repost then q.id end,
                n.at, n.at, case when n.deleted then n.at + interval '1 hour' end
         from (select g.*, g.i > 1 and g.kind < 0.08 as repost,
                      g.i > 1 and g.kind >= 0.08 and g.kind < 0.28 as reply,
                      -- An account reposts a post once: a second repost
                      -- is a tombstone (posts_one_live_repost).
                      g.del < 0.01
                          or (g.i > 1 and g.kind < 0.08
                              and row_number() over (partition by g.author, g.parent,
                                                                  g.i > 1 and g.kind < 0.08
                                                     order by g.i) > 1) as deleted,
                      to_timestamp(({t0} + g.i * {step}) / 1000.0) as at
               from g) n
         join actors a on a.id = n.author
         join g q on q.i = n.parent
         join actors pa on pa.id = q.author
         order by n.id;
         drop table g;

         -- Replies mention the author they answer; direct posts and 5% of
         -- the others mention someone.
         insert into post_mentions (post_id, actor_id)
         select p.id, q.author_id from posts p join posts q on q.id = p.in_reply_to_id
         where q.author_id <> p.author_id
         on conflict do nothing;
         insert into post_mentions (post_id, actor_id)
         select id, {popular} from posts
         where visibility = 'direct' or (reblog_of_id is null and random() < 0.05)
         on conflict do nothing;

         -- 15% of original posts carry a hashtag out of 500, a few of them popular.
         insert into post_tags (post_id, tag)
         select id, 'tag' || floor(500 * power(random(), 3))::int from posts
         where reblog_of_id is null and deleted_at is null and random() < 0.18
         on conflict do nothing;

         -- Everyone follows about 20 accounts, popular ones more often.
         insert into follows (follower_id, followee_id, state)
         select f, x, case when random() < 0.02 then 'pending' else 'accepted' end
         from (select f, {popular} as x
               from generate_series(1, {a}) f, generate_series(1, 20) k) s
         where x <> f
         on conflict do nothing;

         -- Blocks between others.
         insert into blocks (blocker_id, blocked_id)
         select x, y from (select 1 + floor(random() * {a})::bigint as x,
                                  1 + floor(random() * {a})::bigint as y
                           from generate_series(1, {a} / 2)) s
         where x <> y
         on conflict do nothing;"
    ))
    .execute(&mut *conn)
    .await
    .expect("the population loads");

    // The viewer: a local account of median activity.
    let viewer: i64 = sqlx::query_scalar(
        "select a.id from actors a where a.domain is null
         order by (select count(*) from posts p where p.author_id = a.id), a.id
         offset (select count(*) / 2 from actors where domain is null) limit 1",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let f = size.follows;
    let not_followed = format!(
        "x <> {viewer} and not exists (
             select 1 from follows where follower_id = {viewer} and followee_id = x)"
    );
    sqlx::raw_sql(&format!(
        "delete from follows where follower_id = {viewer};
         -- The viewer follows {f} accounts, popular ones more likely, and
         -- waits on 5 more.
         insert into follows (follower_id, followee_id, state)
         select {viewer}, x, 'accepted'
         from (select distinct {popular} as x from generate_series(1, {f} * 4)) s
         where x <> {viewer}
         order by random() limit {f};
         insert into follows (follower_id, followee_id, state)
         select {viewer}, x, 'pending' from generate_series(1, {a}) x
         where {not_followed} order by random() limit 5;
         -- It blocks 20 accounts it does not follow; 10 block it.
         insert into blocks (blocker_id, blocked_id)
         select {viewer}, x from generate_series(1, {a}) x
         where {not_followed} order by random() limit 20
         on conflict do nothing;
         insert into blocks (blocker_id, blocked_id)
         select x, {viewer} from generate_series(1, {a}) x
         where {not_followed} order by random() limit 10
         on conflict do nothing;
         -- One post in a thousand mentions it.
         insert into post_mentions (post_id, actor_id)
         select id, {viewer} from posts
         where author_id <> {viewer} and reblog_of_id is null and random() < 0.001
         on conflict do nothing;"
    ))
    .execute(&mut *conn)
    .await
    .expect("the viewer's follows and blocks load");

    // A settled instance has been vacuumed (visibility map) and analyzed by
    // autovacuum; do it now rather than wait for it.
    sqlx::raw_sql("vacuum analyze")
        .execute(&mut *conn)
        .await
        .expect("vacuum analyze");

    let (followees, home_posts): (i64, i64) = sqlx::query_as(
        "select (select count(*) from follows where follower_id = $1 and state = 'accepted'),
                (select count(*) from posts where deleted_at is null and (author_id = $1
                     or author_id in (select followee_id from follows
                                      where follower_id = $1 and state = 'accepted')))",
    )
    .bind(viewer)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let tags: Vec<(String, i64)> = sqlx::query_as(
        "select tag, count(*) from post_tags group by tag order by count(*) desc, tag",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    // A rare tag: about one post in 50,000 (at least 2).
    let rare_uses = (size.posts / 50_000).max(2);
    let rare_tag = tags
        .iter()
        .min_by_key(|(tag, n)| ((n - rare_uses).abs(), tag.clone()))
        .cloned()
        .expect("tags");
    let active: (i64, i64) = sqlx::query_as(
        "select f.followee_id, count(*) from follows f join posts p on p.author_id = f.followee_id
         where f.follower_id = $1 and f.state = 'accepted'
         group by f.followee_id order by count(*) desc, f.followee_id limit 1",
    )
    .bind(viewer)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let quiet: (i64, i64) = sqlx::query_as(
        "select author_id, count(*) from posts
         where not exists (select 1 from blocks
                           where (blocker_id = $1 and blocked_id = author_id)
                              or (blocker_id = author_id and blocked_id = $1))
         group by author_id
         having count(*) filter (where visibility = 'public' and in_reply_to_id is null
                                   and deleted_at is null) >= 3
         order by count(*), author_id limit 1",
    )
    .bind(viewer)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let newcomer = a + 1;
    let lurker = a + 2;
    sqlx::raw_sql(&format!(
        "insert into actors (id, ap_id, username, inbox_url, public_key_id, public_key_pem,
                             private_key_pem)
         select i, 'https://skein.example/users/u' || i, 'u' || i,
                'https://skein.example/users/u' || i || '/inbox',
                'https://skein.example/users/u' || i || '#main-key', 'pem', 'pem'
         from generate_series({newcomer}, {lurker}) i;
         insert into users (actor_id, password_hash) values ({newcomer}, 'x'), ({lurker}, 'x');
         -- The newcomer has said hello, twice.
         insert into posts (id, ap_id, author_id, content, visibility)
         select m + i, 'https://skein.example/users/u{newcomer}/statuses/' || (m + i), {newcomer},
                '<p>Hello</p>', 'public'
         from (select max(id) as m from posts) s, generate_series(1, 2) i;
         insert into follows (follower_id, followee_id, state)
         select {lurker}, author_id, 'accepted' from posts
         group by author_id order by count(*), author_id limit 10;
         analyze actors, follows;"
    ))
    .execute(&mut *conn)
    .await
    .expect("the newcomer and the lurker load");
    // The viewer's notifications: likes and reposts of its posts and
    // follows from accounts drawn with the power law, and the mentions.
    let n = size.notifications;
    sqlx::raw_sql(&format!(
        "insert into notifications (recipient_id, kind, from_actor_id, post_id, created_at)
         select {viewer}, kind, from_id, case when kind = 'follow' then null else vp.ids[1 + i % cardinality(vp.ids)] end,
                now() - (({n} - i) || ' minutes')::interval
         from (select i, case i % 3 when 0 then 'favourite' when 1 then 'reblog' else 'follow' end as kind,
                      {popular} as from_id
               from generate_series(1, {n}) i) s,
              (select array_agg(id) as ids from posts
               where author_id = {viewer} and deleted_at is null and reblog_of_id is null) vp
         where from_id <> {viewer}
         on conflict do nothing;
         insert into notifications (recipient_id, kind, from_actor_id, post_id, created_at)
         select {viewer}, 'mention', p.author_id, p.id, p.published
         from post_mentions m join posts p on p.id = m.post_id
         where m.actor_id = {viewer} and p.deleted_at is null and p.author_id <> {viewer}
         on conflict do nothing;"
    ))
    .execute(&mut *conn)
    .await
    .expect("the viewer's notifications load");

    // A long thread under a post of the viewer's most active followee:
    // each reply answers the one before or an earlier one at random.
    let t = size.thread;
    let (thread_author, _) = active;
    let thread_root: i64 = sqlx::query_scalar(&format!(
        "with m as (select max(id) + 100 as m from posts)
         insert into posts (id, ap_id, author_id, url, content, summary, language, visibility,
                            in_reply_to_id, published, created_at)
         select m.m + k, a.ap_id || '/statuses/' || (m.m + k), a.id, a.ap_id || '/statuses/' || (m.m + k),
                '<p>Thread post ' || k || ' ' || md5(k::text) || '</p>', '', 'en', 'public',
                case when k = 0 then null
                     when random() < 0.4 then m.m + k - 1
                     else m.m + floor(random() * k)::bigint end,
                now(), now()
         from m, generate_series(0, {t}) k,
              lateral (select case when k = 0 then {thread_author} else {popular} end as author) w
         join actors a on a.id = w.author
         order by k
         returning (select m from m)"
    ))
    .fetch_all(&mut *conn)
    .await
    .unwrap()[0];
    sqlx::query(
        "update posts c set in_reply_to_ap_id = p.ap_id from posts p
         where p.id = c.in_reply_to_id and c.id > $1",
    )
    .bind(thread_root)
    .execute(&mut *conn)
    .await
    .unwrap();
    let thread_leaf: i64 = sqlx::query_scalar(
        "with recursive d (id, depth) as (
             select $1::bigint, 0
             union all
             select p.id, d.depth + 1 from posts p join d on p.in_reply_to_id = d.id)
         select id from d order by depth desc, id limit 1",
    )
    .bind(thread_root)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql(
        "update posts p set replies_count = r.n
         from (select in_reply_to_id as id, count(*) as n from posts
               where in_reply_to_id is not null and deleted_at is null group by 1) r
         where p.id = r.id;
         set session_replication_role = origin;",
    )
    .execute(&mut *conn)
    .await
    .unwrap();

    Population {
        viewer,
        newcomer,
        lurker,
        followees,
        home_posts,
        popular_tag: tags[0].clone(),
        rare_tag,
        active,
        quiet,
        thread_root,
        thread_leaf,
    }
}
