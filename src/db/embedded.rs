//! The embedded store: a private PostgreSQL cluster that Skein initialises and
//! runs from the machine's own PostgreSQL binaries when no `database_url` is
//! configured.
//!
//! The cluster listens on a Unix socket only (no TCP), in a directory that only
//! its owner can enter. PostgreSQL refuses to run as root, so when Skein runs as
//! root the cluster belongs to an unprivileged system user.
//!
//! The server runs under a small `sh` watchdog whose standard input is a pipe
//! from Skein: when Skein exits for any reason, even SIGKILL, the pipe closes
//! and the watchdog stops PostgreSQL with a fast shutdown.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use nix::unistd::{Gid, Uid, User, chown};
use sha2::{Digest, Sha256};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The PostgreSQL role and database Skein uses inside its own cluster.
const ROLE: &str = "skein";
const DATABASE: &str = "skein";
/// Longest Unix socket path we create (the kernel's limit is 107 bytes).
const MAX_SOCKET_PATH: usize = 100;
const SOCKET_FILE: &str = ".s.PGSQL.5432";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no database_url is configured, so Skein runs its own PostgreSQL cluster, but the \
         PostgreSQL server binaries (initdb, postgres) were found neither in \
         database.embedded_bin_dir, nor on PATH, nor in /usr/lib/postgresql/*/bin: install the `postgresql` package (Debian and Ubuntu: \
         `apt-get install postgresql`; Fedora: `dnf install postgresql-server`) or set database_url"
    )]
    BinariesMissing,
    #[error(
        "Skein runs as root and PostgreSQL refuses to, but the system user `{0}` that should own \
         the embedded cluster does not exist: create it or set database.embedded_user"
    )]
    NoSuchUser(String),
    #[error(
        "the PostgreSQL user `{user}` cannot reach {path}: make every parent directory \
         searchable by others (chmod o+x) or choose another data_dir"
    )]
    Unreachable { user: String, path: PathBuf },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} failed; its output:\n{1}")]
    Command(String, String),
    #[error("the embedded PostgreSQL server did not come up; the end of its log ({log}):\n{tail}")]
    NotReady { log: PathBuf, tail: String },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let what = what.into();
    move |source| EmbeddedError::Io { what, source }
}

/// How the cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A real instance's data: fsync on, kept across runs.
    Durable,
    /// Throw-away data for tests: no fsync, the whole directory removed when
    /// the cluster stops.
    Ephemeral,
}

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The system user for the root case ("" picks `postgres` or `nobody`).
    pub run_as: String,
    /// Where initdb and postgres are; empty searches PATH and the usual places.
    pub bin_dir: PathBuf,
    pub durability: Durability,
}

/// A running private cluster. Dropping it stops the server too (the watchdog
/// sees its pipe close); [`EmbeddedPostgres::stop`] also waits for that.
pub struct EmbeddedPostgres {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    socket_dir: PathBuf,
    cluster_dir: PathBuf,
}

impl EmbeddedPostgres {
    /// Initialises the cluster under `data_dir/postgres` if needed, starts it
    /// and waits until it accepts connections.
    pub fn start(data_dir: &Path, settings: &Settings) -> Result<Self, EmbeddedError> {
        Self::start_from(data_dir, settings, None)
    }

    /// Starts a hot standby of `primary` under `data_dir/postgres`: a copy
    /// made with `pg_basebackup` that keeps replaying the primary's changes
    /// (streaming replication over the primary's socket) and answers
    /// read-only queries. The tests of `database.replica_url` run one.
    pub fn start_standby(
        data_dir: &Path,
        settings: &Settings,
        primary: &EmbeddedPostgres,
    ) -> Result<Self, EmbeddedError> {
        Self::start_from(data_dir, settings, Some(primary))
    }

    fn start_from(
        data_dir: &Path,
        settings: &Settings,
        primary: Option<&EmbeddedPostgres>,
    ) -> Result<Self, EmbeddedError> {
        let durability = settings.durability;
        let bin = find_binaries(&settings.bin_dir)?;
        fs::create_dir_all(data_dir).map_err(io(format!("creating {}", data_dir.display())))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(io(format!("resolving {}", data_dir.display())))?;
        let cluster_dir = data_dir.join("postgres");
        let owner = Owner::pick(&settings.run_as)?;
        if durability == Durability::Ephemeral {
            // Throw-away directories belong to the cluster, which removes them.
            owner.chown(&data_dir)?;
        }

        fs::create_dir_all(&cluster_dir)
            .map_err(io(format!("creating {}", cluster_dir.display())))?;
        fs::set_permissions(&cluster_dir, fs::Permissions::from_mode(0o700))
            .map_err(io(format!("setting the mode of {}", cluster_dir.display())))?;
        owner.chown(&cluster_dir)?;
        owner.check_reachable(&cluster_dir)?;

        if let Some(primary) = primary.filter(|_| !cluster_dir.join("PG_VERSION").exists()) {
            // Over the primary's socket, whose `local replication` line of
            // pg_hba.conf initdb wrote with trust; `--write-recovery-conf`
            // makes the copy a standby of it.
            let mut backup = owner.command(&companion(&bin, "pg_basebackup"));
            backup
                .arg("--pgdata")
                .arg(&cluster_dir)
                .arg("--host")
                .arg(&primary.socket_dir)
                .args(["--username", ROLE, "--write-recovery-conf"])
                .args(["--checkpoint", "fast"]);
            if durability == Durability::Ephemeral {
                backup.arg("--no-sync");
            }
            run(backup, "pg_basebackup")?;
            // The copy holds the primary's socket directory with its lock
            // file, which would stop this server from creating its own.
            let copied = cluster_dir.join("run");
            if copied.exists() {
                fs::remove_dir_all(&copied)
                    .map_err(io(format!("removing {}", copied.display())))?;
            }
        }
        if !cluster_dir.join("PG_VERSION").exists() {
            let mut initdb = owner.command(&bin.join("initdb"));
            initdb
                .arg("--pgdata")
                .arg(&cluster_dir)
                .args(["--username", ROLE, "--auth", "trust", "--encoding", "UTF8"])
                .args(["--locale", "C"]);
            if durability == Durability::Ephemeral {
                initdb.arg("--no-sync");
            }
            run(initdb, "initdb")?;
        }

        let socket_dir = socket_dir_for(&cluster_dir);
        fs::create_dir_all(&socket_dir)
            .map_err(io(format!("creating {}", socket_dir.display())))?;
        fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700))
            .map_err(io(format!("setting the mode of {}", socket_dir.display())))?;
        owner.chown(&socket_dir)?;

        let log = cluster_dir.join("server.log");
        let mut settings = vec![
            "listen_addresses=".to_string(),
            format!("unix_socket_directories={}", socket_dir.display()),
            "unix_socket_permissions=0700".to_string(),
            "max_connections=200".to_string(),
        ];
        if durability == Durability::Ephemeral {
            settings.extend(
                [
                    "fsync=off",
                    "synchronous_commit=off",
                    "full_page_writes=off",
                ]
                .map(String::from),
            );
        }
        // The watchdog: start postgres, stop it (fast shutdown) when our pipe
        // closes, and exit when postgres exits. Background jobs of a
        // non-interactive sh read /dev/null, so the pipe is kept on fd 3.
        let cleanup = match durability {
            Durability::Durable => "",
            Durability::Ephemeral => {
                "rm -rf \"$cluster\" \"$sockets\"; rmdir \"${cluster%/*}\" 2>/dev/null"
            }
        };
        let script = format!(
            r#"cluster="$1"; sockets="$2"; log="$3"; pg="$4"; shift 4
exec 3<&0
"$pg" -D "$cluster" "$@" </dev/null >>"$log" 2>&1 &
pid=$!
( read -r _ <&3; kill -INT "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"; status=$?
kill "$watcher" 2>/dev/null
{cleanup}
exit "$status""#
        );
        let mut command = owner.command(Path::new("/bin/sh"));
        command
            .arg("-c")
            .arg(script)
            .arg("skein-postgres")
            .arg(&cluster_dir)
            .arg(&socket_dir)
            .arg(&log)
            .arg(bin.join("postgres"));
        for setting in &settings {
            command.arg("-c").arg(setting);
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C at the terminal reaches Skein,
            // which then stops the cluster after the last request.
            .process_group(0);
        let mut watchdog = command.spawn().map_err(io("starting postgres"))?;
        let stdin = watchdog.stdin.take();
        let mut cluster = EmbeddedPostgres {
            watchdog,
            stdin,
            socket_dir,
            cluster_dir,
        };
        cluster.wait_until_ready(&log)?;
        Ok(cluster)
    }

    fn wait_until_ready(&mut self, log: &Path) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let socket = self.socket_dir.join(SOCKET_FILE);
        loop {
            let exited = matches!(self.watchdog.try_wait(), Ok(Some(_)));
            let pid_file_ready = fs::read_to_string(self.cluster_dir.join("postmaster.pid"))
                // A standby says "standby" once it accepts connections.
                .map(|text| text.contains("ready") || text.contains("standby"))
                .unwrap_or(false);
            if socket.exists() && pid_file_ready {
                return Ok(());
            }
            if exited || Instant::now() > deadline {
                let text = fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                return Err(EmbeddedError::NotReady {
                    log: log.to_path_buf(),
                    tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Connection options for the `skein` database, which is created on first
    /// use.
    pub async fn connect_options(&self) -> Result<PgConnectOptions, sqlx::Error> {
        let base = PgConnectOptions::new()
            .host(&self.socket_dir.to_string_lossy())
            .username(ROLE);
        let mut admin = base.clone().database("postgres").connect().await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut admin)
                .await?;
        if !exists {
            sqlx::query(&format!("create database {DATABASE}"))
                .execute(&mut admin)
                .await?;
        }
        Ok(base.database(DATABASE))
    }

    /// Options for another database of the cluster (test harnesses clone a
    /// template per test).
    pub fn options_for(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(&self.socket_dir.to_string_lossy())
            .username(ROLE)
            .database(database)
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    pub fn stop(mut self) -> Result<(), EmbeddedError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), EmbeddedError> {
        if let Some(mut stdin) = self.stdin.take() {
            // A line or the closed pipe both wake the watcher.
            let _ = stdin.write_all(b"stop\n");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.watchdog.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.watchdog.kill();
                    return Err(EmbeddedError::Command(
                        "stopping postgres".into(),
                        "it did not stop within 60 seconds".into(),
                    ));
                }
                Err(e) => return Err(io("waiting for postgres to stop")(e)),
            }
        }
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.shutdown();
        }
    }
}

/// The directory holding the server binaries: the one on PATH with both
/// `initdb` and `postgres`, else the newest under the distributions' usual
/// places.
fn find_binaries(configured: &Path) -> Result<PathBuf, EmbeddedError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if !configured.as_os_str().is_empty() {
        return if has_both(configured) {
            Ok(configured.to_path_buf())
        } else {
            Err(EmbeddedError::BinariesMissing)
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Ok(dir);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = Vec::new();
    for root in ["/usr/lib/postgresql", "/usr/local/pgsql", "/usr"] {
        let Ok(entries) = fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            // Debian: /usr/lib/postgresql/15/bin; RHEL: /usr/pgsql-15/bin.
            let version = name.trim_start_matches("pgsql-");
            let Ok(major) = version.split('.').next().unwrap_or_default().parse::<u32>() else {
                continue;
            };
            let dir = entry.path().join("bin");
            if has_both(&dir) {
                candidates.push((major, dir));
            }
        }
    }
    candidates.sort();
    candidates
        .pop()
        .map(|(_, dir)| dir)
        .ok_or(EmbeddedError::BinariesMissing)
}

/// Another program of the PostgreSQL installation whose server binaries
/// are in `bin`: beside them, or beside the file `postgres` links to (a
/// directory on PATH may hold links to the server binaries only).
fn companion(bin: &Path, program: &str) -> PathBuf {
    let beside = bin.join(program);
    if beside.is_file() {
        return beside;
    }
    bin.join("postgres")
        .canonicalize()
        .ok()
        .and_then(|server| server.parent().map(|dir| dir.join(program)))
        .filter(|p| p.is_file())
        .unwrap_or(beside)
}

/// A socket directory whose socket path stays under the kernel's limit.
fn socket_dir_for(cluster_dir: &Path) -> PathBuf {
    let preferred = cluster_dir.join("run");
    if preferred.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH {
        return preferred;
    }
    let digest = Sha256::digest(cluster_dir.as_os_str().as_encoded_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("skein-pg-{short}"))
}

/// Who runs the cluster: ourselves, or an unprivileged user when we are root.
enum Owner {
    Me,
    User { name: String, uid: Uid, gid: Gid },
}

impl Owner {
    fn pick(configured: &str) -> Result<Owner, EmbeddedError> {
        if !Uid::effective().is_root() {
            return Ok(Owner::Me);
        }
        let names: Vec<&str> = if configured.is_empty() {
            vec!["postgres", "nobody"]
        } else {
            vec![configured]
        };
        for name in &names {
            if let Ok(Some(user)) = User::from_name(name) {
                if user.uid.is_root() {
                    continue;
                }
                return Ok(Owner::User {
                    name: user.name,
                    uid: user.uid,
                    gid: user.gid,
                });
            }
        }
        Err(EmbeddedError::NoSuchUser(names.join("` or `")))
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir("/");
        if let Owner::User { uid, gid, .. } = self {
            // std drops supplementary groups when root sets a uid.
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        command
    }

    fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Owner::User { uid, gid, .. } = self {
            let meta = fs::metadata(path).map_err(io(format!("reading {}", path.display())))?;
            if meta.uid() != uid.as_raw() || meta.gid() != gid.as_raw() {
                chown(path, Some(*uid), Some(*gid)).map_err(|e| EmbeddedError::Io {
                    what: format!("handing {} to the PostgreSQL user", path.display()),
                    source: e.into(),
                })?;
            }
        }
        Ok(())
    }

    fn check_reachable(&self, dir: &Path) -> Result<(), EmbeddedError> {
        let Owner::User { name, .. } = self else {
            return Ok(());
        };
        let mut probe = self.command(Path::new("/bin/sh"));
        probe
            .arg("-c")
            .arg("test -w \"$1\"")
            .arg("probe")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let ok = probe
            .status()
            .map_err(io("checking the cluster directory"))?
            .success();
        if ok {
            Ok(())
        } else {
            Err(EmbeddedError::Unreachable {
                user: name.clone(),
                path: dir.to_path_buf(),
            })
        }
    }
}

fn run(mut command: Command, what: &str) -> Result<(), EmbeddedError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(io(format!("running {what}")))?;
    if output.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&output.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(EmbeddedError::Command(what.to_string(), text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cluster_paths_get_a_short_socket_directory() {
        let long = PathBuf::from(format!("/{}/postgres", "d".repeat(120)));
        let dir = socket_dir_for(&long);
        assert!(dir.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH);
        assert_eq!(
            dir,
            socket_dir_for(&long),
            "the same cluster, the same socket"
        );
        let short = PathBuf::from("/srv/skein/postgres");
        assert_eq!(socket_dir_for(&short), short.join("run"));
    }
}
