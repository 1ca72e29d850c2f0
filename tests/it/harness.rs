//! The test harness: a PostgreSQL for the whole run, a migrated template
//! database cloned for every test, and real Skein instances on loopback ports
//! with distinct host names.
//!
//! The database server is the one named by `SKEIN_TEST_DATABASE_URL` (a
//! superuser URL, e.g. postgres://postgres@127.0.0.1/postgres) or, when that
//! is unset, a throw-away cluster started from the machine's PostgreSQL
//! binaries with Skein's own embedded-cluster code; it disappears when the
//! test process exits.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use skein::app::Application;
use skein::clock::ManualClock;
use skein::config::Config;
use skein::db::actors::Actor;
use skein::db::embedded::{Durability, EmbeddedPostgres, Settings};
use skein::jobs::delivery::Deliverer;
use skein::jobs::pool::Worker;
use skein::jobs::push::Pusher;
use skein::service::accounts::{self, Created, NewAccount, Role};
use skein::state::AppState;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::net::TcpListener;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

pub const AP: &str = "application/activity+json";

/// The server all tests share, and the name of the migrated template.
struct TestServer {
    admin: PgConnectOptions,
    template: String,
    /// How a process outside the tests (the built binary) reaches a database.
    url_base: UrlBase,
    _cluster: Option<EmbeddedPostgres>,
}

enum UrlBase {
    External(url::Url),
    Socket(PathBuf),
}

static SERVER: OnceCell<TestServer> = OnceCell::const_new();

async fn server() -> &'static TestServer {
    SERVER
        .get_or_init(|| async {
            let (admin, cluster, url_base) = match std::env::var("SKEIN_TEST_DATABASE_URL") {
                Ok(url) if !url.is_empty() => (
                    url.parse::<PgConnectOptions>()
                        .expect("SKEIN_TEST_DATABASE_URL is a postgres URL"),
                    None,
                    UrlBase::External(url::Url::parse(&url).expect("a URL")),
                ),
                _ => {
                    let dir = tempfile::Builder::new()
                        .prefix("skein-test-pg-")
                        .tempdir()
                        .expect("a temporary directory")
                        .keep();
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
                        .expect("chmod");
                    let cluster = tokio::task::spawn_blocking(move || {
                        EmbeddedPostgres::start(
                            &dir,
                            &Settings {
                                run_as: String::new(),
                                bin_dir: PathBuf::new(),
                                durability: Durability::Ephemeral,
                            },
                        )
                    })
                    .await
                    .expect("join")
                    .expect("the test PostgreSQL cluster starts");
                    let socket = cluster.socket_dir().to_path_buf();
                    (
                        cluster.options_for("postgres"),
                        Some(cluster),
                        UrlBase::Socket(socket),
                    )
                }
            };
            let template = template_name();
            let mut conn = admin.connect().await.expect("connect to the test server");
            let exists: bool =
                sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                    .bind(&template)
                    .fetch_one(&mut conn)
                    .await
                    .expect("query");
            if !exists {
                sqlx::query(&format!("create database {template}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the template database");
                let mut tpl = admin
                    .clone()
                    .database(&template)
                    .connect()
                    .await
                    .expect("connect to the template");
                skein::db::MIGRATOR
                    .run(&mut tpl)
                    .await
                    .expect("migrations apply to an empty database");
                tpl.close().await.expect("close");
            }
            conn.close().await.expect("close");
            TestServer {
                admin,
                template,
                url_base,
                _cluster: cluster,
            }
        })
        .await
}

/// Templates are named after the migrations they hold, so a changed
/// migration on a shared server gets a fresh template.
fn template_name() -> String {
    let mut hash = Sha256::new();
    for migration in skein::db::MIGRATOR.iter() {
        hash.update(migration.version.to_le_bytes());
        hash.update(&*migration.checksum);
    }
    let digest = hash.finalize();
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("skein_tpl_{short}")
}

/// A fresh database and a URL the built binary can use for it.
pub async fn fresh_database_url() -> (PgPool, String) {
    let (pool, options) = fresh_database().await;
    let name = options.get_database().expect("a database name").to_string();
    let url = match &server().await.url_base {
        UrlBase::External(base) => {
            let mut url = base.clone();
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        UrlBase::Socket(dir) => format!("postgres://skein@localhost/{name}?host={}", dir.display()),
    };
    (pool, url)
}

/// A fresh database cloned from the template, and its pool.
pub async fn fresh_database() -> (PgPool, PgConnectOptions) {
    let server = server().await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = server.admin.connect().await.expect("connect");
    sqlx::query(&format!(
        "create database {name} template {}",
        server.template
    ))
    .execute(&mut conn)
    .await
    .expect("clone the template");
    conn.close().await.expect("close");
    let options = server.admin.clone().database(&name);
    let pool = skein::db::pool_options(4)
        .connect_with(options.clone())
        .await
        .expect("connect to the test database");
    (pool, options)
}

/// Options for a test instance. `name` becomes the host `name.test`,
/// unless `host` is set.
pub struct Options {
    pub name: &'static str,
    pub host: Option<&'static str>,
    pub env: Vec<(String, String)>,
}

impl Options {
    pub fn named(name: &'static str) -> Options {
        Options {
            name,
            host: None,
            env: Vec::new(),
        }
    }

    /// An instance as the README's first run starts it: the domain
    /// `localhost:PORT`, the scheme the configuration's default gives it,
    /// and no test network.
    pub fn first_run() -> Options {
        Options {
            name: "localhost",
            host: Some("localhost"),
            env: Vec::new(),
        }
        .env("SKEIN_SCHEME", skein_default("scheme").as_str())
        .env("SKEIN_TEST_NETWORK__ENABLED", "false")
    }

    pub fn env(mut self, key: &str, value: &str) -> Options {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

/// A running Skein instance on a loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `name.test:port`, as in ids and handles.
    pub domain: String,
    /// `http://name.test:port`
    pub base: String,
    pub db: PgPool,
    pub config: Config,
    /// A client that reaches this instance by its host name.
    pub client: reqwest::Client,
    pub tls_addr: Option<SocketAddr>,
    /// The metrics listener, when `metrics.listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    pub deliverer: Arc<Deliverer>,
    pub pusher: Arc<Pusher>,
    /// The instance's clock: it starts at the real time and only moves when
    /// a test moves it.
    pub clock: Arc<ManualClock>,
    /// The instance's `data_dir` (uploaded media go under it), removed when
    /// the test ends.
    _data_dir: tempfile::TempDir,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::named("alpha")).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        let (db, _) = fresh_database().await;
        Self::spawn_on(options, db, None).await
    }

    /// An instance on a database the test prepared itself (migrated), such
    /// as the primary of a replicated pair.
    pub async fn spawn_on_database(options: Options, db: PgPool) -> TestApp {
        Self::spawn_on(options, db, None).await
    }

    /// A second process of this instance: the same database and domain, on
    /// a port of its own (as a second `skein serve` behind a load
    /// balancer). Its `client` reaches the first process, since the host
    /// name is the same: reach this one at `addr` with a `Host` header.
    pub async fn spawn_beside(&self) -> TestApp {
        Self::spawn_on(
            Options::named("beside"),
            self.db.clone(),
            Some(self.domain.clone()),
        )
        .await
    }

    /// Like [`TestApp::spawn_beside`], with more configuration (e.g. the
    /// same instance after its media moved to a bucket).
    pub async fn spawn_beside_with(&self, options: Options) -> TestApp {
        Self::spawn_on(options, self.db.clone(), Some(self.domain.clone())).await
    }

    async fn spawn_on(options: Options, db: PgPool, domain: Option<String>) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let domain = domain.unwrap_or_else(|| match options.host {
            Some(host) => format!("{host}:{}", addr.port()),
            None => format!("{}.test:{}", options.name, addr.port()),
        });
        let host = domain
            .rsplit_once(':')
            .map_or(domain.clone(), |(host, _)| host.to_string());
        let data_dir = tempfile::Builder::new()
            .prefix("skein-test-data-")
            .tempdir()
            .expect("a temporary data directory");
        let mut env = vec![
            (
                "SKEIN_DATA_DIR".to_string(),
                data_dir.path().display().to_string(),
            ),
            ("SKEIN_DOMAIN".to_string(), domain.clone()),
            ("SKEIN_SCHEME".to_string(), "http".to_string()),
            ("SKEIN_LISTEN".to_string(), addr.to_string()),
            (
                "SKEIN_TEST_NETWORK__ENABLED".to_string(),
                "true".to_string(),
            ),
            // Every test host (instances, fake servers, sinks) is on loopback.
            (
                "SKEIN_TEST_NETWORK__HOSTS".to_string(),
                "{ \"*.test\" = \"127.0.0.1\" }".to_string(),
            ),
            ("SKEIN_LOG__LEVEL".to_string(), "warn".to_string()),
            // Tests that want the start-up self-check turn it on.
            ("SKEIN_HTTP__SELF_CHECK".to_string(), "false".to_string()),
            // Tests deliver synchronously with `deliver()`.
            ("SKEIN_DELIVERY__WORKERS".to_string(), "0".to_string()),
        ];
        env.extend(options.env);
        let config = Config::load_from(None, env).expect("the test configuration is valid");
        let clock = ManualClock::new(chrono::Utc::now());
        let app =
            Application::build_with_clock(config.clone(), db.clone(), listener, clock.clone())
                .await
                .expect("the application builds");
        let tls_addr = app.tls_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state().clone();
        let deliverer = app.deliverer();
        let pusher = app.pusher();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let client = reqwest::Client::builder()
            .resolve(&host, addr)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        TestApp {
            addr,
            base: format!("http://{domain}"),
            domain,
            db,
            config,
            client,
            tls_addr,
            metrics_addr,
            state,
            deliverer,
            pusher,
            clock,
            _data_dir: data_dir,
            shutdown,
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with_accept(&self, path: &str, accept: &str) -> reqwest::Response {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(accept).expect("header"));
        self.client
            .get(self.url(path))
            .headers(headers)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_ap(&self, path: &str) -> reqwest::Response {
        self.get_with_accept(path, AP).await
    }

    /// `user@domain` of a local account.
    pub fn handle(&self, user: &str) -> String {
        format!("{user}@{}", self.domain)
    }

    /// Delivers everything due now, synchronously; returns how many
    /// deliveries were attempted.
    pub async fn deliver(&self) -> usize {
        self.deliverer.drain().await.expect("deliveries run")
    }

    /// Sends every Web Push due now, synchronously; returns how many were
    /// attempted.
    pub async fn push(&self) -> usize {
        self.pusher.drain().await.expect("pushes run")
    }

    pub async fn local(&self, name: &str) -> Actor {
        skein::db::actors::find_local_person(&self.db, name)
            .await
            .unwrap()
            .expect("a local account")
    }

    /// Resolves a handle or actor URL over federation, as a user's search.
    pub async fn resolve(&self, query: &str) -> Actor {
        skein::service::remote_actors::resolve(&self.state, query)
            .await
            .expect("the account resolves")
    }

    /// POSTs `activity` to `path` here, signed by an actor of a fake server
    /// as Mastodon signs; returns the status.
    pub async fn post_signed(
        &self,
        fake: &crate::fake::FakeServer,
        actor: &crate::fake::FakeActor,
        path: &str,
        activity: serde_json::Value,
    ) -> u16 {
        let request = self.client.post(self.url(path));
        self.send_signed(request, fake, actor, path, &activity)
            .await
    }

    /// `post_signed`, sent to this process's own address (for a process
    /// made by `spawn_beside`, which shares the host name of the first).
    pub async fn post_signed_here(
        &self,
        fake: &crate::fake::FakeServer,
        actor: &crate::fake::FakeActor,
        path: &str,
        activity: serde_json::Value,
    ) -> u16 {
        let request = reqwest::Client::new()
            .post(format!("http://{}{path}", self.addr))
            .header(reqwest::header::HOST, &self.domain);
        self.send_signed(request, fake, actor, path, &activity)
            .await
    }

    /// Sends `activity` with `request`, signed for `path` here by `actor`.
    async fn send_signed(
        &self,
        request: reqwest::RequestBuilder,
        fake: &crate::fake::FakeServer,
        actor: &crate::fake::FakeActor,
        path: &str,
        activity: &serde_json::Value,
    ) -> u16 {
        let body = serde_json::to_vec(activity).unwrap();
        let headers = fake.sign(actor, &self.url(path), &body);
        let mut request = request.body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// A stored post by its ActivityPub id.
    pub async fn post(&self, ap_id: &str) -> skein::db::posts::Post {
        skein::db::posts::find_by_ap_id(&self.db, ap_id)
            .await
            .unwrap()
            .expect("the post is stored")
    }

    /// `follower` (local) follows an actor of a fake server, which accepts:
    /// the follow is accepted here afterwards.
    pub async fn follow_fake(
        &self,
        fake: &crate::fake::FakeServer,
        follower: &Actor,
        actor: &crate::fake::FakeActor,
    ) {
        let remote = self.resolve(&actor.id).await;
        skein::service::follows::follow(&self.state, follower, &remote)
            .await
            .unwrap();
        self.deliver().await;
        let follow = fake
            .received()
            .into_iter()
            .rev()
            .find(|r| r.body["type"] == "Follow" && r.body["object"] == actor.id.as_str())
            .expect("the Follow reached the fake server");
        let accept = serde_json::json!({
            "id": format!("{}/activities/accept-{}", fake.base, uuid::Uuid::new_v4()),
            "type": "Accept",
            "actor": actor.id,
            "object": follow.body["id"],
        });
        assert_eq!(self.post_signed(fake, actor, "/inbox", accept).await, 202);
    }

    /// Row counts of the tables an activity can change, to show that a
    /// refused request changed nothing.
    pub async fn table_counts(&self) -> BTreeMap<&'static str, i64> {
        let mut counts = BTreeMap::new();
        for table in [
            "actors",
            "users",
            "follows",
            "blocks",
            "posts",
            "deliveries",
            "inbox_activities",
            "domain_failures",
            "unavailable_domains",
        ] {
            let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
                .fetch_one(&self.db)
                .await
                .unwrap();
            counts.insert(table, n);
        }
        counts
    }

    pub async fn create_user(&self, name: &str) -> Created {
        accounts::create(
            &self.db,
            &skein::federation::urls::Urls::new(self.config.base_url()),
            NewAccount {
                username: name,
                email: None,
                password: "correct horse battery",
                role: Role::User,
                approved: true,
                fediverse_sharing: self.config.fediverse_sharing_default,
            },
        )
        .await
        .expect("the account is created")
    }

    /// A local account with a staff role ("moderator" or "admin").
    pub async fn create_staff(&self, name: &str, role: &str) -> Created {
        let mut created = self.create_user(name).await;
        created.user.role = role.to_string();
        sqlx::query("update users set role = $1 where id = $2")
            .bind(role)
            .bind(created.user.id)
            .execute(&self.db)
            .await
            .expect("the role is set");
        created
    }

    /// A bearer token with every scope for a local user (what
    /// `skein token create` prints).
    pub async fn token(&self, name: &str) -> String {
        skein::service::oauth::create_script_token(
            &self.db,
            skein::clock::Clock::now(&*self.clock),
            name,
        )
        .await
        .expect("a token is issued")
    }

    /// Calls the client API; the answer's status, headers and JSON body
    /// (Null when the body is not JSON).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        (status, headers, json)
    }

    pub async fn api_get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let (status, _, body) = self
            .api(reqwest::Method::GET, path, Some(token), None)
            .await;
        (status, body)
    }

    pub async fn api_delete(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let (status, _, body) = self
            .api(reqwest::Method::DELETE, path, Some(token), None)
            .await;
        (status, body)
    }

    pub async fn api_post(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let (status, _, body) = self
            .api(reqwest::Method::POST, path, Some(token), Some(body))
            .await;
        (status, body)
    }

    /// Waits for the work the instance started after a request (profile
    /// link checks, followers resynchronisations) to finish.
    pub async fn settle(&self) {
        let background = &self.state.background;
        background.close();
        background.wait().await;
        background.reopen();
    }

    /// Stops the server and waits until it has drained.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("the server stops cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A top-level key's value in `config/default.toml`, as a string.
fn skein_default(key: &str) -> String {
    let defaults: toml::Table = skein::config::DEFAULT_TOML
        .parse()
        .expect("the default configuration is TOML");
    match defaults.get(key) {
        Some(toml::Value::String(s)) => s.clone(),
        other => panic!("no string default for {key}: {other:?}"),
    }
}

/// Inserts a remote actor row as the inbox will once it fetches actors.
pub async fn insert_remote_actor(db: &PgPool, host: &str, username: &str) -> i64 {
    let ap_id = format!("https://{host}/users/{username}");
    sqlx::query_scalar(
        "insert into actors (ap_id, username, domain, inbox_url, shared_inbox_url,
                             public_key_id, public_key_pem)
         values ($1, $2, $3, $1 || '/inbox', 'https://' || $3 || '/inbox', $1 || '#main-key', 'pem')
         returning id",
    )
    .bind(&ap_id)
    .bind(username)
    .bind(host)
    .fetch_one(db)
    .await
    .expect("insert a remote actor")
}

/// A draft of a plain post: text only, in English, with the default reply
/// and quote policies.
pub fn draft(
    text: &str,
    visibility: skein::domain::visibility::Visibility,
) -> skein::service::posts::Draft<'_> {
    skein::service::posts::Draft {
        text,
        spoiler: "",
        sensitive: false,
        language: Some("en"),
        visibility,
        in_reply_to: None,
        poll: None,
        quote_of: None,
        quote_policy: Default::default(),
        reply_policy: Default::default(),
        media_ids: None,
        media_attributes: &[],
    }
}

/// Queues `payload` (the activity `activity_id` of `sender`) for each
/// inbox, stored once as the outbox stores it.
pub async fn queue_activity(
    db: &PgPool,
    activity_id: &str,
    sender: i64,
    payload: &str,
    inboxes: &[String],
    now: chrono::DateTime<chrono::Utc>,
) {
    let mut conn = db.acquire().await.unwrap();
    let (outbound, _) = skein::db::outbound::store(&mut conn, activity_id, sender, payload, now)
        .await
        .unwrap();
    skein::db::deliveries::enqueue(&mut conn, activity_id, outbound, sender, inboxes, now)
        .await
        .unwrap();
}
