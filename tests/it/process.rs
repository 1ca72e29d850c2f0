//! The built `skein` binary as separate processes on one database: started
//! with a role, stopped with SIGTERM or killed with SIGKILL. Used by the
//! tests of process roles, crashes and the several-process topology.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use skein::federation::urls::Urls;
use skein::service::accounts::{self, NewAccount, Role};
use sqlx::PgPool;

const BIN: &str = env!("CARGO_BIN_EXE_skein");

/// The password of the accounts `Instance::create_user` makes.
pub const PASSWORD: &str = "correct horse battery";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One instance, `alpha.test:<port>`, on one database: the processes it
/// runs share both.
pub struct Instance {
    pub port: u16,
    pub database_url: String,
    pub db: PgPool,
    /// Settings every process of the instance gets, beyond the defaults.
    pub env: Vec<(String, String)>,
    /// The instance's data directory (media, unless a process is given
    /// its own).
    pub data_dir: tempfile::TempDir,
}

impl Instance {
    pub async fn new() -> Instance {
        let (db, database_url) = crate::harness::fresh_database_url().await;
        Instance {
            port: free_port(),
            database_url,
            db,
            env: vec![("SKEIN_DELIVERY__WORKERS".into(), "2".into())],
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Sets (or replaces) a setting for every process started later.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
    }

    pub fn domain(&self) -> String {
        format!("alpha.test:{}", self.port)
    }

    pub fn urls(&self) -> Urls {
        Urls::new(url::Url::parse(&format!("http://{}/", self.domain())).unwrap())
    }

    /// A local account, made in the database directly.
    pub async fn create_user(&self, username: &str) -> skein::db::actors::Actor {
        accounts::create(
            &self.db,
            &self.urls(),
            NewAccount {
                username,
                email: None,
                password: PASSWORD,
                role: Role::User,
                approved: true,
                fediverse_sharing: true,
            },
        )
        .await
        .unwrap()
        .actor
    }

    pub async fn token(&self, username: &str) -> String {
        skein::service::oauth::create_script_token(&self.db, chrono::Utc::now(), username)
            .await
            .unwrap()
    }

    /// `skein serve --role <role>`, listening on `listen` when it listens.
    pub fn start(&self, role: &str, listen: u16) -> Process {
        self.start_with(role, listen, &[])
    }

    /// As `start`, with settings of this process's own (after the
    /// instance's).
    pub fn start_with(&self, role: &str, listen: u16, own: &[(&str, String)]) -> Process {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--role", role])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SKEIN_DATABASE_URL", &self.database_url)
            .env("SKEIN_DOMAIN", self.domain())
            .env("SKEIN_SCHEME", "http")
            .env("SKEIN_LISTEN", format!("127.0.0.1:{listen}"))
            .env("SKEIN_TEST_NETWORK__ENABLED", "true")
            .env(
                "SKEIN_TEST_NETWORK__HOSTS",
                "{ \"*.test\" = \"127.0.0.1\" }",
            )
            .env("SKEIN_DATA_DIR", self.data_dir.path())
            .env("SKEIN_LOG__LEVEL", "warn");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in own {
            command.env(key, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        Process { child, listen }
    }
}

/// A running `skein` process.
pub struct Process {
    child: Child,
    /// The port it listens on (if its role listens).
    pub listen: u16,
}

impl Process {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.listen)
    }

    /// Waits until `GET /health` answers 200.
    pub async fn ready(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/health", self.base());
        wait_until("the process answers", async || {
            client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
    }

    /// SIGTERM, and the exit status once it has finished what it held.
    pub async fn stop(self) -> ExitStatus {
        self.signal(Signal::SIGTERM).await
    }

    /// SIGKILL: gone at once, with whatever it held.
    pub async fn kill(self) -> ExitStatus {
        self.signal(Signal::SIGKILL).await
    }

    async fn signal(self, signal: Signal) -> ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let mut child = self.child;
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap()
    }
}

/// Polls `done` until it holds, for at most 90 seconds.
pub async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls until no delivery is waiting and no fan-out is left to expand.
pub async fn wait_for_quiet_queue(db: &PgPool) {
    wait_until("every delivery finished", async || {
        let pending: i64 = sqlx::query_scalar(
            "select (select count(*) from deliveries where state <> 'delivered')
                  + (select count(*) from fanouts)",
        )
        .fetch_one(db)
        .await
        .unwrap();
        pending == 0
    })
    .await;
}
