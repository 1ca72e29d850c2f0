//! What the benchmarks share: a durable private PostgreSQL cluster and the
//! built `skein` binary serving from it over loopback.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use skein::db::embedded::{Durability, EmbeddedPostgres, Settings};
use sqlx::PgPool;

pub const BIN: &str = env!("CARGO_BIN_EXE_skein");

/// The binary measured: this build's, or `SKEIN_BENCH_BIN` (another build,
/// for before-and-after figures).
pub fn binary() -> String {
    std::env::var("SKEIN_BENCH_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// The durable cluster of the run and the `skein` binary serving from it.
pub struct Bench {
    cluster: Option<EmbeddedPostgres>,
    pub pool: PgPool,
    pub database_url: String,
    /// The cluster's socket directory (for pgbench and psql).
    pub socket_dir: PathBuf,
    /// The cluster's own log.
    pub server_log: PathBuf,
    pub data_dir: PathBuf,
    pub binary_log: PathBuf,
    pub port: u16,
    /// `bench.test:PORT`, as in ids and handles.
    pub domain: String,
    server: Option<Child>,
    /// A client that reaches the binary by its host name.
    pub client: reqwest::Client,
    /// The run's scratch directory (removed at the end).
    pub tmp: tempfile::TempDir,
}

impl Bench {
    /// Starts the cluster (fsync and synchronous commit on, checked); the
    /// binary is started by `serve`.
    pub async fn start() -> Bench {
        let tmp = tempfile::Builder::new()
            .prefix("skein-bench-")
            .tempdir()
            .unwrap();
        // The cluster may belong to an unprivileged user, who must reach it.
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let pg_dir = tmp.path().join("pg");
        let cluster = tokio::task::spawn_blocking(move || {
            EmbeddedPostgres::start(
                &pg_dir,
                &Settings {
                    run_as: String::new(),
                    bin_dir: PathBuf::new(),
                    durability: Durability::Durable,
                },
            )
        })
        .await
        .unwrap()
        .expect("the benchmark's PostgreSQL cluster starts");
        let options = cluster.connect_options().await.unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        for setting in ["fsync", "synchronous_commit"] {
            let value: String = sqlx::query_scalar(&format!("show {setting}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(value, "on", "the cluster is durable: {setting} is on");
        }
        let socket_dir = cluster.socket_dir().to_path_buf();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let domain = format!("bench.test:{port}");
        let client = reqwest::Client::builder()
            .resolve("bench.test", ([127, 0, 0, 1], port).into())
            .pool_max_idle_per_host(4096)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        Bench {
            cluster: Some(cluster),
            pool,
            database_url: format!(
                "postgres://skein@localhost/skein?host={}",
                socket_dir.display()
            ),
            socket_dir,
            server_log: tmp.path().join("pg").join("postgres").join("server.log"),
            data_dir: tmp.path().join("data"),
            binary_log: tmp.path().join("skein.log"),
            port,
            domain,
            server: None,
            client,
            tmp,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SKEIN_DATABASE_URL", &self.database_url)
            .env("SKEIN_DATA_DIR", &self.data_dir)
            .env("SKEIN_DOMAIN", &self.domain)
            .env("SKEIN_SCHEME", "http")
            .env("SKEIN_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("SKEIN_TEST_NETWORK__ENABLED", "true")
            .env(
                "SKEIN_TEST_NETWORK__HOSTS",
                "{ \"*.test\" = \"127.0.0.1\" }",
            )
            .env(
                "SKEIN_LOG__LEVEL",
                std::env::var("SKEIN_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null());
        command
    }

    /// Runs a command of the binary to its end; its standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("the binary runs");
        assert!(
            output.status.success(),
            "skein {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    }

    /// Starts `skein serve` and waits until `/health` answers.
    pub async fn serve(&mut self) {
        let log = std::fs::File::create(&self.binary_log).unwrap();
        let child = self
            .command(&["serve"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the binary starts");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let response = self.client.get(self.url("/health")).send().await;
            if response.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server never became healthy; its log:\n{}",
                std::fs::read_to_string(&self.binary_log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.domain)
    }

    /// The serving binary's process id.
    pub fn pid(&self) -> u32 {
        self.server.as_ref().expect("the binary serves").id()
    }

    /// The single number `sql` returns.
    pub async fn count(&self, sql: &str) -> usize {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap();
        n as usize
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(server.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = server.wait();
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.binary_log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "the end of the server's log:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        if let Some(cluster) = self.cluster.take() {
            let _ = cluster.stop();
        }
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}
