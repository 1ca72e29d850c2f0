//! Timeline reads at a million posts: home (first page, a walk down by
//! `max_id`, random depths), public local and federated, hashtag and
//! profile, through Skein's own queries (`skein::db::timelines`), each
//! printed beside the latency of a primary-key read of one post measured in
//! the same run on the same server.
//!
//!   cargo bench --bench timelines          full size (1,000,000 posts)
//!   cargo test --bench timelines           smoke size (CI runs this)
//!
//! The database is a fresh one, dropped afterwards, on the server named by
//! `SKEIN_BENCH_DATABASE_URL` or else `SKEIN_TEST_DATABASE_URL` (a superuser
//! URL), or else in a throw-away cluster started with Skein's embedded-cluster
//! code (`SKEIN_BENCH_KEEP=1` keeps the database on an external server, to
//! look at with psql). The population is generated with set-based SQL: actors (one in ten
//! local) whose activity follows a power law, a year of posts with replies,
//! reposts, unlisted, followers-only and direct posts, tombstones, mentions,
//! hashtags, a follow graph and blocks; the viewer is a local account of
//! median activity following `follows` accounts.
//!
//! Every read runs on a connection of its own through sqlx's statement cache,
//! as the server runs it, so PostgreSQL's switch from custom to generic plans
//! after five executions is part of what is measured. After the timed reads,
//! the plan of that cached statement is shown with EXPLAIN ANALYZE EXECUTE.
//! Nothing here fails on timing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use skein::db::embedded::{Durability, EmbeddedPostgres, Settings};
use skein::db::posts::Post;
use skein::db::timelines::{self, Page, ProfileTab, Scope};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

struct Size {
    actors: i64,
    posts: i64,
    /// Accounts the viewer follows.
    follows: i64,
    /// Timed reads per case: at most `reads`, and no more once `budget` is spent.
    reads: usize,
    budget: Duration,
}

const FULL: Size = Size {
    actors: 10_000,
    posts: 1_000_000,
    follows: 300,
    reads: 500,
    budget: Duration::from_secs(3),
};
const SMOKE: Size = Size {
    actors: 100,
    posts: 2_000,
    follows: 30,
    reads: 10,
    budget: Duration::from_millis(100),
};

/// Untimed reads first: PostgreSQL plans a prepared statement afresh for its
/// first five executions, then may keep a generic plan.
const WARMUP: usize = 10;
/// Mastodon's default page size.
const LIMIT: i64 = 20;

fn main() {
    // `cargo bench` passes --bench; `cargo test` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full { FULL } else { SMOKE };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = Server::start();
    runtime.block_on(async {
        let options = server.create_database().await;
        run(&size, full, &options).await;
        if keep() && matches!(server, Server::External(_)) {
            let name = options.get_database().expect("a database name");
            println!("kept    database {name} (SKEIN_BENCH_KEEP)");
        } else {
            server.drop_database(&options).await;
        }
    });
    server.stop();
}

/// Whether to keep the database on an external server for a look with psql.
fn keep() -> bool {
    std::env::var("SKEIN_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Where the benchmark database lives.
enum Server {
    External(Box<PgConnectOptions>),
    Embedded(EmbeddedPostgres),
}

impl Server {
    fn start() -> Server {
        let url = ["SKEIN_BENCH_DATABASE_URL", "SKEIN_TEST_DATABASE_URL"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|url| !url.is_empty());
        if let Some(url) = url {
            return Server::External(Box::new(url.parse().expect("a postgres URL")));
        }
        let dir: PathBuf = tempfile::Builder::new()
            .prefix("skein-bench-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        // The cluster may belong to an unprivileged user (when we are root).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let settings = Settings {
            run_as: String::new(),
            bin_dir: PathBuf::new(),
            durability: Durability::Ephemeral,
        };
        Server::Embedded(EmbeddedPostgres::start(&dir, &settings).expect("PostgreSQL starts"))
    }

    fn admin(&self) -> PgConnectOptions {
        match self {
            Server::External(admin) => (**admin).clone(),
            Server::Embedded(cluster) => cluster.options_for("postgres"),
        }
    }

    async fn create_database(&self) -> PgConnectOptions {
        let name = format!("skein_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = self.admin().connect().await.expect("connect");
        sqlx::raw_sql(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .expect("create the benchmark database");
        admin.close().await.expect("close");
        self.admin().database(&name)
    }

    async fn drop_database(&self, options: &PgConnectOptions) {
        let name = options.get_database().expect("a database name");
        let mut admin = self.admin().connect().await.expect("connect");
        sqlx::raw_sql(&format!("drop database {name} with (force)"))
            .execute(&mut admin)
            .await
            .expect("drop the benchmark database");
        admin.close().await.expect("close");
    }

    fn stop(self) {
        if let Server::Embedded(cluster) = self {
            cluster.stop().expect("PostgreSQL stops");
        }
    }
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
}

async fn run(size: &Size, full: bool, options: &PgConnectOptions) {
    println!(
        "timelines benchmark ({} size)",
        if full { "full" } else { "smoke" }
    );
    let mut conn = options.connect().await.expect("connect");
    skein::db::MIGRATOR
        .run(&mut conn)
        .await
        .expect("migrations apply");
    let started = Instant::now();
    let population = load(&mut conn, size).await;
    let loaded = started.elapsed();
    let (posts, actors, locals, follows, blocks, mentions, tags): (i64, i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select (select count(*) from posts), (select count(*) from actors),
                    (select count(*) from actors where domain is null), (select count(*) from follows),
                    (select count(*) from blocks), (select count(*) from post_mentions),
                    (select count(*) from post_tags)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let size_on_disk: String =
        sqlx::query_scalar("select pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    println!(
        "data    {posts} posts by {actors} actors ({locals} local), {follows} follows, {blocks} blocks, \
         {mentions} mentions, {tags} hashtag uses; {size_on_disk}; loaded and analyzed in {:.1}s",
        loaded.as_secs_f64()
    );
    println!(
        "data    viewer follows {} accounts; its home timeline holds {} posts",
        population.followees, population.home_posts
    );
    let server: String = sqlx::query_scalar(
        "select current_setting('server_version') || ', shared_buffers ' || current_setting('shared_buffers')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    println!("data    PostgreSQL {server}");

    // The yardsticks: a round trip, and one post by its primary key.
    let sample: Vec<i64> = sqlx::query_scalar("select id from posts order by random() limit 1000")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let sample: Vec<Option<i64>> = sample.into_iter().map(Some).collect();
    let mut c = options.connect().await.expect("connect");
    let round_trip = timed(size, &mut c, &Op::RoundTrip, &[None]).await;
    let pk = timed(size, &mut c, &Op::ByKey, &sample).await;
    c.close().await.unwrap();
    println!(
        "limit   select 1 round trip: p50 {}, p99 {}; one post by primary key: p50 {}, p99 {}, {:.0}/s",
        ms(round_trip.p50),
        ms(round_trip.p99),
        ms(pk.p50),
        ms(pk.p99),
        pk.per_second
    );

    let viewer = population.viewer;
    let mut cases = vec![
        Case::new("home, first page", Some(viewer), Read::Home, vec![None]),
        Case::new(
            "home, pages 2-51 by max_id",
            Some(viewer),
            Read::Home,
            walk(&mut conn, viewer, 50).await,
        ),
        Case::new(
            "home, random depth",
            Some(viewer),
            Read::Home,
            random_ids(
                &mut conn,
                &format!(
                    "deleted_at is null and (author_id = {viewer} or author_id in (
                         select followee_id from follows
                         where follower_id = {viewer} and state = 'accepted'))"
                ),
            )
            .await,
        ),
        Case::new(
            "home, new account, first page",
            Some(population.newcomer),
            Read::Home,
            vec![None],
        ),
        Case::new(
            "home, 10 quiet follows, first page",
            Some(population.lurker),
            Read::Home,
            vec![None],
        ),
        Case::new(
            "public local, first page",
            Some(viewer),
            Read::Public(Scope::Local),
            vec![None],
        ),
        Case::new(
            "public local, logged out",
            None,
            Read::Public(Scope::Local),
            vec![None],
        ),
        Case::new(
            "public local, random depth",
            Some(viewer),
            Read::Public(Scope::Local),
            random_ids(
                &mut conn,
                "visibility = 'public' and reblog_of_id is null and deleted_at is null
                 and author_id in (select id from actors where domain is null)",
            )
            .await,
        ),
        Case::new(
            "public federated, first page",
            Some(viewer),
            Read::Public(Scope::All),
            vec![None],
        ),
        Case::new(
            "public federated, random depth",
            Some(viewer),
            Read::Public(Scope::All),
            random_ids(
                &mut conn,
                "visibility = 'public' and reblog_of_id is null and deleted_at is null",
            )
            .await,
        ),
    ];
    let (popular, popular_uses) = population.popular_tag.clone();
    let (rare, rare_uses) = population.rare_tag.clone();
    cases.push(Case::new(
        &format!("tag #{popular} ({popular_uses} posts), first page"),
        Some(viewer),
        Read::Tag(popular.clone()),
        vec![None],
    ));
    cases.push(Case::new(
        &format!("tag #{popular}, random depth"),
        Some(viewer),
        Read::Tag(popular.clone()),
        random_ids(
            &mut conn,
            &format!("id in (select post_id from post_tags where tag = '{popular}')"),
        )
        .await,
    ));
    cases.push(Case::new(
        &format!("tag #{rare} ({rare_uses} posts), first page"),
        Some(viewer),
        Read::Tag(rare),
        vec![None],
    ));
    let (active, active_posts) = population.active;
    let (quiet, quiet_posts) = population.quiet;
    cases.push(Case::new(
        &format!("profile posts ({active_posts} posts), first page"),
        Some(viewer),
        Read::Profile(active, ProfileTab::Posts),
        vec![None],
    ));
    cases.push(Case::new(
        "profile posts, random depth",
        Some(viewer),
        Read::Profile(active, ProfileTab::Posts),
        random_ids(&mut conn, &format!("author_id = {active}")).await,
    ));
    cases.push(Case::new(
        "profile replies, first page",
        Some(viewer),
        Read::Profile(active, ProfileTab::Replies),
        vec![None],
    ));
    cases.push(Case::new(
        &format!("profile posts ({quiet_posts} posts), first page"),
        Some(viewer),
        Read::Profile(quiet, ProfileTab::Posts),
        vec![None],
    ));
    for case in cases.iter().filter(|c| matches!(c.read, Read::Home)) {
        check_home(&mut conn, case).await;
    }
    conn.close().await.unwrap();

    for case in &cases {
        let mut c = options.connect().await.expect("connect");
        let timing = timed(size, &mut c, &Op::Timeline(case), &case.max_ids).await;
        let plans = plans(&mut c, case).await;
        c.close().await.unwrap();
        assert!(
            timing.rows > 0.0 || case.label.contains("depth"),
            "{}: a first page has posts",
            case.label
        );
        println!(
            "read    {:<36} p50 {} p99 {} {:>6.0}/s {:>5.1}x a pk read, {:>4.1} rows",
            case.label,
            ms(timing.p50),
            ms(timing.p99),
            timing.per_second,
            timing.p50.as_secs_f64() / pk.p50.as_secs_f64(),
            timing.rows,
        );
        for plan in &plans {
            println!("plan      {}", plan.summary);
            if full && matches!(case.read, Read::Home) && case.label.contains("first page") {
                for line in &plan.lines {
                    println!("plan        {line}");
                }
            }
        }
    }
}

/// Which timeline to read.
enum Read {
    Home,
    Public(Scope),
    Tag(String),
    Profile(i64, ProfileTab),
}

impl Read {
    async fn run(
        &self,
        db: &mut PgConnection,
        viewer: Option<i64>,
        max_id: Option<i64>,
    ) -> Vec<Post> {
        let page = Page {
            max_id,
            limit: LIMIT,
            ..Page::default()
        };
        let now = chrono::Utc::now();
        match self {
            Read::Home => timelines::home(db, viewer.expect("a viewer"), page, now).await,
            Read::Public(scope) => timelines::public(db, viewer, *scope, page, now).await,
            Read::Tag(tag) => timelines::tag(db, viewer, tag, Scope::All, page, now).await,
            Read::Profile(author, tab) => {
                timelines::profile(db, viewer, *author, *tab, page, now).await
            }
        }
        .expect("the timeline reads")
    }

    /// The value bound to `$5` in db::timelines, as an SQL literal.
    fn extra(&self) -> String {
        match self {
            Read::Home | Read::Public(_) => "null".to_string(),
            Read::Tag(tag) => format!("'{tag}'"),
            Read::Profile(author, _) => format!("'{author}'"),
        }
    }
}

struct Case {
    label: String,
    viewer: Option<i64>,
    read: Read,
    /// The pages read, in turn.
    max_ids: Vec<Option<i64>>,
}

impl Case {
    fn new(label: &str, viewer: Option<i64>, read: Read, max_ids: Vec<Option<i64>>) -> Case {
        Case {
            label: label.to_string(),
            viewer,
            read,
            max_ids,
        }
    }
}

fn check_order(posts: &[Post], max_id: Option<i64>) {
    assert!(posts.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    if let (Some(first), Some(max_id)) = (posts.first(), max_id) {
        assert!(first.id < max_id, "older than max_id");
    }
}

/// The `max_id`s of the viewer's home pages 2..=pages+1, walking down.
async fn walk(conn: &mut PgConnection, viewer: i64, pages: usize) -> Vec<Option<i64>> {
    let mut max_ids = Vec::new();
    let mut max_id = None;
    for _ in 0..pages {
        let page = Read::Home.run(conn, Some(viewer), max_id).await;
        check_order(&page, max_id);
        let Some(last) = page.last() else { break };
        max_id = Some(last.id);
        max_ids.push(max_id);
    }
    max_ids
}

/// Up to 200 ids of live posts matching `filter`, in random order: `max_id`s
/// at depths spread evenly over a timeline.
async fn random_ids(conn: &mut PgConnection, filter: &str) -> Vec<Option<i64>> {
    sqlx::query_scalar(&format!(
        "select id from posts where {filter} order by random() limit 200"
    ))
    .fetch_all(conn)
    .await
    .unwrap()
    .into_iter()
    .map(Some)
    .collect()
}

struct Timing {
    p50: Duration,
    p99: Duration,
    per_second: f64,
    /// Rows per read, on average.
    rows: f64,
}

/// What is timed.
enum Op<'a> {
    /// `select 1`.
    RoundTrip,
    /// One post by its primary key.
    ByKey,
    Timeline(&'a Case),
}

impl Op<'_> {
    /// Runs once; returns the rows read.
    async fn once(&self, db: &mut PgConnection, input: Option<i64>) -> usize {
        match self {
            Op::RoundTrip => {
                sqlx::query_scalar::<_, i32>("select 1")
                    .fetch_one(db)
                    .await
                    .unwrap();
                1
            }
            Op::ByKey => {
                sqlx::query_as::<_, Post>("select * from posts where id = $1")
                    .bind(input.expect("an id"))
                    .fetch_one(db)
                    .await
                    .unwrap();
                1
            }
            Op::Timeline(case) => {
                let posts = case.read.run(db, case.viewer, input).await;
                check_order(&posts, input);
                posts.len()
            }
        }
    }
}

/// Runs `op` over `inputs` in turn on one connection: WARMUP times untimed,
/// then timed until `size.reads` reads or `size.budget` is spent.
async fn timed(size: &Size, db: &mut PgConnection, op: &Op<'_>, inputs: &[Option<i64>]) -> Timing {
    let mut inputs = inputs.iter().copied().cycle();
    for _ in 0..WARMUP {
        op.once(db, inputs.next().expect("inputs")).await;
    }
    let mut latencies = Vec::new();
    let mut rows = 0;
    let start = Instant::now();
    while latencies.len() < size.reads && start.elapsed() < size.budget {
        let input = inputs.next().expect("inputs");
        let began = Instant::now();
        rows += op.once(db, input).await;
        latencies.push(began.elapsed());
    }
    let wall = start.elapsed();
    latencies.sort();
    Timing {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        per_second: latencies.len() as f64 / wall.as_secs_f64(),
        rows: rows as f64 / latencies.len() as f64,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:>7.3} ms", d.as_secs_f64() * 1000.0)
}

struct Plan {
    /// A line: the statement, which plan the cache used, the top node, the
    /// scan of posts that drives it, the buffers.
    summary: String,
    lines: Vec<String>,
}

/// The plans the connection's cached timeline statements (those `case` ran)
/// use now, with actual rows and buffers from one more execution each.
async fn plans(conn: &mut PgConnection, case: &Case) -> Vec<Plan> {
    let statements: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select name, statement, generic_plans, custom_plans from pg_prepared_statements
         where statement like '%from posts p%' and statement not like '%pg_prepared_statements%'
         order by prepare_time",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(!statements.is_empty(), "{}: a cached statement", case.label);
    // A page from the middle of the ones read.
    let max_id =
        case.max_ids[case.max_ids.len() / 2].map_or("null".to_string(), |id| id.to_string());
    let mut plans = Vec::new();
    for (name, statement, generic, custom) in statements {
        let lines: Vec<String> = sqlx::query_scalar(&format!(
            "explain (analyze, buffers, costs off, timing off) execute {name}({}, {max_id}, null, {LIMIT}, {}, now())",
            case.viewer.unwrap_or(0),
            case.read.extra()
        ))
        .fetch_all(&mut *conn)
        .await
        .expect("explain");
        let kind = if generic > 0 { "generic" } else { "custom" };
        let nodes: Vec<&str> = lines
            .iter()
            .map(|l| l.trim_start().trim_start_matches("->").trim())
            .filter(|l| l.contains("(actual") && l.starts_with(char::is_uppercase))
            .collect();
        let top = nodes.first().copied().unwrap_or("?");
        let driver = nodes
            .iter()
            .find(|n| n.contains(" on posts p"))
            .copied()
            .unwrap_or("?");
        let buffers = lines
            .iter()
            .find(|l| l.contains("Buffers:"))
            .map_or("", |l| l.trim());
        let start: String = statement
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        plans.push(Plan {
            summary: format!(
                "[{start} ...] {kind} plan ({generic} generic, {custom} custom): {top} > {driver}, {buffers}"
            ),
            lines,
        });
    }
    plans
}

/// Checks home pages of `case` against a plain statement of what a home
/// timeline holds.
async fn check_home(conn: &mut PgConnection, case: &Case) {
    let viewer = case.viewer.expect("a viewer");
    let n = case.max_ids.len();
    for max_id in [case.max_ids[0], case.max_ids[n / 2], case.max_ids[n - 1]] {
        let got: Vec<i64> = Read::Home
            .run(conn, Some(viewer), max_id)
            .await
            .iter()
            .map(|p| p.id)
            .collect();
        let expected: Vec<i64> = sqlx::query_scalar(
            "select p.id from posts p
             where p.deleted_at is null and ($2::bigint is null or p.id < $2)
               and (p.author_id = $1 or p.author_id in (
                        select followee_id from follows where follower_id = $1 and state = 'accepted'))
               and (p.author_id = $1 or p.visibility in ('public', 'unlisted', 'private')
                    or exists (select 1 from post_mentions m where m.post_id = p.id and m.actor_id = $1))
               and not exists (select 1 from blocks b
                               where (b.blocker_id = $1 and b.blocked_id = p.author_id)
                                  or (b.blocker_id = p.author_id and b.blocked_id = $1))
             order by p.id desc limit $3",
        )
        .bind(viewer)
        .bind(max_id)
        .bind(LIMIT)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert_eq!(got, expected, "{}: the page below {max_id:?}", case.label);
    }
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
    }
}
