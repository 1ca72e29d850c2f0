//! The built `skein` binary: the embedded cluster, user management, tokens
//! for scripts, bad configuration and graceful shutdown on SIGTERM.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use skein::db::embedded::{Durability, EmbeddedPostgres, Settings};

const BIN: &str = env!("CARGO_BIN_EXE_skein");

struct Instance {
    dir: PathBuf,
    port: u16,
    _tmp: tempfile::TempDir,
}

impl Instance {
    fn new() -> Instance {
        let tmp = tempfile::Builder::new()
            .prefix("skein-cli-")
            .tempdir()
            .unwrap();
        // The cluster may belong to an unprivileged user, who must reach it.
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Instance {
            dir: tmp.path().join("data"),
            port,
            _tmp: tmp,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SKEIN_DATA_DIR", &self.dir)
            .env("SKEIN_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("SKEIN_DOMAIN", format!("localhost:{}", self.port))
            .env("SKEIN_LOG__LEVEL", "warn")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

async fn wait_for_health(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let client = reqwest::Client::new();
    loop {
        let response = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await;
        if response.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "the server never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pid_file(dir: &Path) -> PathBuf {
    dir.join("postgres").join("postmaster.pid")
}

#[tokio::test]
async fn the_binary_serves_webfinger_from_its_embedded_cluster_and_stops_it_on_sigterm() {
    let instance = Instance::new();

    let created = instance.run(&[
        "user",
        "create",
        "alice",
        "--admin",
        "--email",
        "alice@example.org",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let stdout = text(&created.stdout);
    assert!(
        stdout.contains(&format!(
            "created @alice@localhost:{} (admin)",
            instance.port
        )),
        "{stdout}"
    );
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password is printed")
        .to_string();
    assert_eq!(password.len(), 24);
    assert!(
        !pid_file(&instance.dir).exists(),
        "the cluster stops after a command"
    );
    let token = instance.run(&["token", "create", "alice"]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_string();
    assert_eq!(token.len(), 43, "a 256-bit token, base64url: {token}");
    let nobody = instance.run(&["token", "create", "nobody"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(text(&nobody.stderr).contains("no local user `nobody`"));

    let mut server = instance
        .command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_health(instance.port).await;
    let response = reqwest::get(format!(
        "http://127.0.0.1:{}/.well-known/webfinger?resource=acct:alice@localhost:{}",
        instance.port, instance.port
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/api/v1/accounts/verify_credentials",
            instance.port
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice", "the printed token works: {me}");
    let jrd: Value = response.json().await.unwrap();
    assert_eq!(
        jrd["subject"],
        format!("acct:alice@localhost:{}", instance.port)
    );
    assert!(
        pid_file(&instance.dir).exists(),
        "the embedded cluster runs"
    );

    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "a SIGTERM is a clean stop: {status:?}");
    assert!(
        !pid_file(&instance.dir).exists(),
        "the embedded cluster stopped with the server"
    );

    // The account and its password survived in the cluster.
    let data_dir = instance.dir.clone();
    let cluster = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(
            &data_dir,
            &Settings {
                run_as: String::new(),
                bin_dir: PathBuf::new(),
                durability: Durability::Durable,
            },
        )
    })
    .await
    .unwrap()
    .unwrap();
    let pool = sqlx::PgPool::connect_with(cluster.connect_options().await.unwrap())
        .await
        .unwrap();
    let user = skein::db::users::find_by_username(&pool, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "admin");
    assert_eq!(user.email.as_deref(), Some("alice@example.org"));
    assert!(
        skein::service::password::verify(&password, &user.password_hash)
            .await
            .unwrap()
    );
    pool.close().await;
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn user_commands_manage_accounts_and_refuse_bad_input() {
    let instance = Instance::new();
    let created = instance.run(&[
        "user",
        "create",
        "bob",
        "--password",
        "a long enough password",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(
        !text(&created.stdout).contains("password:"),
        "a given password is not printed"
    );

    let again = instance.run(&["user", "create", "BOB", "--password", "another password"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("taken"),
        "{}",
        text(&again.stderr)
    );

    let bad = instance.run(&[
        "user",
        "create",
        "no spaces",
        "--password",
        "a long enough password",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("letters"),
        "{}",
        text(&bad.stderr)
    );

    let short = instance.run(&["user", "create", "carol", "--password", "short"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(
        text(&short.stderr).contains("at least 8"),
        "{}",
        text(&short.stderr)
    );

    let list = instance.run(&["user", "list"]);
    assert!(list.status.success());
    let listing = text(&list.stdout);
    assert!(listing.contains("bob"), "{listing}");
    assert!(
        !listing.contains("carol"),
        "refused accounts were not created: {listing}"
    );
    assert_eq!(listing.lines().count(), 2, "a header and bob: {listing}");

    let set = instance.run(&["user", "set-password", "bob"]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(text(&set.stdout).contains("password: "));
    let missing = instance.run(&[
        "user",
        "set-password",
        "nobody",
        "--password",
        "whatever123",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no local user named nobody"));

    let role = instance.run(&["user", "set-role", "bob", "moderator"]);
    assert!(role.status.success(), "{}", text(&role.stderr));
    let bad_role = instance.run(&["user", "set-role", "bob", "king"]);
    assert_eq!(bad_role.status.code(), Some(1));
    assert!(text(&bad_role.stderr).contains("not a role"));
    let listing = text(&instance.run(&["user", "list"]).stdout);
    assert!(listing.contains("moderator"), "{listing}");

    let created = instance.run(&[
        "user",
        "create",
        "dan",
        "--password",
        "a long enough password",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let suspend = instance.run(&["account", "suspend", "dan", "--reason", "spam"]);
    assert!(suspend.status.success(), "{}", text(&suspend.stderr));
    assert!(text(&suspend.stdout).contains("dan: suspended"));
    let again = instance.run(&["account", "suspend", "dan"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already suspended"));
    let unknown = instance.run(&["account", "suspend", "nobody@nowhere.example"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no account nobody@nowhere.example"));
    let lifted = instance.run(&["account", "unsuspend", "@dan"]);
    assert!(lifted.status.success(), "{}", text(&lifted.stderr));
    let silenced = instance.run(&["account", "silence", "dan"]);
    assert!(silenced.status.success(), "{}", text(&silenced.stderr));

    // The domain policy: block (subdomains and odd spellings normalised),
    // a bad severity or name refused, Mastodon's CSV out and back in.
    let blocked = instance.run(&["domain", "block", "https://Spam.Example./@x"]);
    assert!(blocked.status.success(), "{}", text(&blocked.stderr));
    assert_eq!(
        text(&blocked.stdout).trim(),
        "blocked spam.example (suspend)"
    );
    let quiet = instance.run(&[
        "domain",
        "block",
        "loud.example",
        "--severity",
        "silence",
        "--reject-media",
    ]);
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    let bad = instance.run(&["domain", "block", "loud.example", "--severity", "mild"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("severity must be"));
    let bad = instance.run(&["domain", "block", "not a domain"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("not a domain name"),
        "{}",
        text(&bad.stderr)
    );
    let exported = instance.run(&["domain", "export"]);
    assert!(exported.status.success());
    let csv = text(&exported.stdout);
    assert!(
        csv.starts_with(
            "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
        ),
        "{csv}"
    );
    assert!(csv.contains("spam.example,suspend,false"), "{csv}");
    assert!(csv.contains("loud.example,silence,true"), "{csv}");
    let unblocked = instance.run(&["domain", "unblock", "spam.example"]);
    assert!(unblocked.status.success(), "{}", text(&unblocked.stderr));
    let file = instance.dir.parent().unwrap().join("blocks.csv");
    std::fs::write(
        &file,
        format!("{csv}bad domain!,suspend,false,false,,false\n"),
    )
    .unwrap();
    let imported = instance.run(&["domain", "import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stdout).starts_with("1 blocked, 1 already blocked, 1 refused"),
        "{}",
        text(&imported.stdout)
    );
    let listing = text(&instance.run(&["domain", "list"]).stdout);
    assert!(
        listing.contains("spam.example") && listing.contains("loud.example"),
        "{listing}"
    );

    // The instance's rules: added, listed with their ids, moved, edited,
    // removed.
    for (rule, hint) in [("Be kind", "No harassment."), ("No spam", "")] {
        let added = instance.run(&["rule", "add", rule, "--hint", hint]);
        assert!(added.status.success(), "{}", text(&added.stderr));
    }
    let listing = text(&instance.run(&["rule", "list"]).stdout);
    let ids: Vec<String> = regex::Regex::new(r"\[(\d+)\]")
        .unwrap()
        .captures_iter(&listing)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{listing}");
    assert!(listing.starts_with("1. ["), "{listing}");
    assert!(listing.contains("Be kind") && listing.contains("   No harassment."));
    let moved = instance.run(&["rule", "move", &ids[1], "up"]);
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    assert!(text(&moved.stdout).starts_with(&format!("1. [{}] No spam", ids[1])));
    let edited = instance.run(&["rule", "edit", &ids[1], "--text", "No spam, ever"]);
    assert!(edited.status.success(), "{}", text(&edited.stderr));
    let empty = instance.run(&["rule", "edit", &ids[1], "--text", " "]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(text(&empty.stderr).contains("needs a text"));
    let removed = instance.run(&["rule", "remove", &ids[0]]);
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let missing = instance.run(&["rule", "remove", &ids[0]]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("there is no rule"));
    let listing = text(&instance.run(&["rule", "list"]).stdout);
    assert_eq!(listing.trim(), format!("1. [{}] No spam, ever", ids[1]));

    let migrate = instance.run(&["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    assert!(text(&migrate.stdout).contains("up to date"));

    // The counts were kept as accounts were made: the repair finds nothing.
    let recount = instance.run(&["maintenance", "recount"]);
    assert!(recount.status.success(), "{}", text(&recount.stderr));
    assert!(
        text(&recount.stdout).contains("0 had wrong counts"),
        "{}",
        text(&recount.stdout)
    );

    // Pruning cached remote media (none cached here; tests/it/remote_media
    // covers what it removes); an age without a unit is refused.
    let prune = instance.run(&["media", "prune", "--older-than", "30d"]);
    assert!(prune.status.success(), "{}", text(&prune.stderr));
    assert!(
        text(&prune.stdout).contains("removed 0 cached remote media"),
        "{}",
        text(&prune.stdout)
    );
    let bad = instance.run(&["media", "prune", "--older-than", "30"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("unit"), "{}", text(&bad.stderr));
}

#[test]
fn bad_configuration_stops_the_binary_and_names_the_key() {
    let instance = Instance::new();
    let output = instance
        .command(&["migrate"])
        .env("SKEIN_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("listen"),
        "{}",
        text(&output.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("skein.toml");
    std::fs::write(&file, "registrations = \"sometimes\"\n").unwrap();
    let output = instance
        .command(&["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("registrations"),
        "{}",
        text(&output.stderr)
    );
    assert!(!instance.dir.exists(), "nothing was started or written");
}

#[test]
fn missing_postgres_binaries_give_one_clear_error() {
    let instance = Instance::new();
    let output = instance
        .command(&["serve"])
        .env("SKEIN_DATABASE__EMBEDDED_BIN_DIR", "/nonexistent/bin")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
    assert!(stderr.contains("database_url"), "{stderr}");
}
