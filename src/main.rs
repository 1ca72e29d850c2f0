//! The `skein` command: serve, migrate and manage users. Loads the
//! configuration, sets up logging and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use skein::app::{Application, stop_signal};
use skein::config::Config;
use skein::db::Database;
use skein::federation::urls::Urls;
use skein::service::{accounts, password};

#[derive(Parser)]
#[command(
    name = "skein",
    version,
    about = "A Threads-style microblog server for the fediverse"
)]
struct Cli {
    /// A TOML file layered over the defaults (config/default.toml lists every key).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTP, and HTTPS when configured) until SIGINT or SIGTERM.
    Serve {
        /// What this process runs: all (the default: a one-box instance),
        /// web (HTTP and streaming only) or worker (deliveries, Web Push,
        /// imports and timed work only; binds no port). Overrides the
        /// `role` key of the configuration.
        #[arg(long, value_name = "ROLE", value_parser = ["all", "web", "worker"])]
        role: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage local accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage client API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The instance's domain policy: blocks, and allowed domains in the
    /// allow-list mode. Every change is kept in the audit log.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Moderate an account, local (`name`) or remote (`user@host`). Every
    /// action is kept in the audit log.
    #[command(subcommand)]
    Account(AccountCommand),
    /// The instance's rules, shown on the about page and at sign-up and
    /// named by reports. Every change is kept in the audit log.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Repairs of the database.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// Media storage.
    #[command(subcommand)]
    Media(MediaCommand),
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Copy every file of the media directory (media.dir) into the bucket
    /// the [storage] keys name (storage.backend = "s3"). Safe to run again,
    /// and while the instance runs: files already in the bucket with the
    /// same size are skipped. Local files stay unless --delete-local.
    MigrateToS3 {
        /// Remove each local file once its copy is in the bucket.
        #[arg(long)]
        delete_local: bool,
    },
    /// Remove the cached copies of remote media (attachments, avatars,
    /// headers, custom emoji of other servers) downloaded more than this
    /// long ago, e.g. 30d (d: days, h: hours, w: weeks). Local uploads are
    /// never removed. A pruned file is downloaded again when someone asks
    /// for it; until then its remote URL is not needed (Skein shows
    /// /media_proxy/TOKEN).
    Prune {
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
}

#[derive(Subcommand)]
enum RuleCommand {
    /// List the rules in their order, with their ids.
    List,
    /// Add a rule after the others.
    Add {
        text: String,
        /// A longer explanation shown under the rule.
        #[arg(long, default_value = "")]
        hint: String,
    },
    /// Change a rule's text or explanation (what is not given stays).
    Edit {
        id: i64,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        hint: Option<String>,
    },
    /// Move a rule one place up or down.
    Move {
        id: i64,
        /// up or down
        direction: String,
    },
    /// Remove a rule (reports that named it still show it).
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Rebuild every account's follower, following and post counts and
    /// latest-post time from the rows they count (they are kept as things
    /// change; this repairs them after the database was edited by hand).
    Recount,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Suspend: a local account cannot sign in and its posts and profile are
    /// hidden; a remote account's activities are refused, follows with it
    /// end and what was stored of it is purged.
    Suspend {
        account: String,
        /// A note for the audit log.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a suspension.
    Unsuspend { account: String },
    /// Silence: the account's posts stay out of public timelines except for
    /// its followers.
    Silence {
        account: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a silence.
    Unsilence { account: String },
    /// Approve a sign-up waiting for approval.
    Approve { account: String },
}

#[derive(Subcommand)]
enum DomainCommand {
    /// Block a domain and its subdomains.
    Block {
        domain: String,
        /// silence (out of public timelines) or suspend (nothing in or out;
        /// what is stored from it is purged and follows end).
        #[arg(long, default_value = "suspend")]
        severity: String,
        /// Do not store or show media from the domain.
        #[arg(long)]
        reject_media: bool,
        /// Ignore reports from the domain.
        #[arg(long)]
        reject_reports: bool,
        /// A note for staff only.
        #[arg(long, default_value = "")]
        comment: String,
        /// A reason shown with the public list of blocks.
        #[arg(long, default_value = "")]
        public_comment: String,
    },
    /// Lift the block of a domain.
    Unblock { domain: String },
    /// List blocked domains.
    List,
    /// Block the domains of a Mastodon CSV export (existing blocks are kept).
    Import { file: std::path::PathBuf },
    /// Print the blocks as Mastodon's CSV.
    Export,
    /// Allow a domain (the allow-list federation mode).
    Allow { domain: String },
    /// Remove a domain from the allow list.
    Disallow { domain: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new bearer token with every scope for the local user NAME, for
    /// scripts (`Authorization: Bearer TOKEN`); moderators and admins also get
    /// the admin API's scopes.
    Create { name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; prints a generated password when none is given.
    Create {
        name: String,
        /// Give the account the admin role.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
    /// List local accounts.
    List,
    /// Set a new password; prints a generated one when none is given.
    SetPassword {
        name: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Set the role of a local account: user, moderator or admin.
    SetRole { name: String, role: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("skein: {e}");
            return ExitCode::from(2);
        }
    };
    skein::telemetry::init(&config.log);
    skein::memory::configure();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("skein: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("skein: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // Moving files needs no database.
    if let Command::Media(MediaCommand::MigrateToS3 { delete_local }) = command {
        return migrate_media(&config, delete_local).await;
    }
    let db = Database::open(&config).await?;
    let result = match command {
        Command::Serve { role } => {
            let mut config = config;
            if let Some(role) = role.as_deref().and_then(skein::config::Role::parse) {
                config.role = role;
            }
            serve(config, &db).await
        }
        Command::Migrate => {
            println!("migrations are up to date");
            Ok(())
        }
        Command::User(user) => user_command(user, &config, &db).await,
        Command::Domain(domain) => domain_command(domain, config, &db).await,
        Command::Account(account) => account_command(account, config, &db).await,
        Command::Rule(rule) => rule_command(rule, config, &db).await,
        Command::Maintenance(MaintenanceCommand::Recount) => {
            let wrong = skein::service::maintenance::recount_account_stats(&db.pool).await?;
            println!("recounted every account: {wrong} had wrong counts");
            Ok(())
        }
        Command::Media(MediaCommand::MigrateToS3 { delete_local }) => {
            migrate_media(&config, delete_local).await
        }
        Command::Media(MediaCommand::Prune { older_than }) => {
            prune_media(config, &db, &older_than).await
        }
        Command::Token(TokenCommand::Create { name }) => {
            let token =
                skein::service::oauth::create_script_token(&db.pool, chrono::Utc::now(), &name)
                    .await?;
            println!("{token}");
            Ok(())
        }
    };
    db.close().await;
    result
}

async fn prune_media(config: Config, db: &Database, older_than: &str) -> anyhow::Result<()> {
    let age = skein::service::remote_media::parse_age(older_than).map_err(anyhow::Error::msg)?;
    let state = Application::command_state(config, db.pool.clone(), skein::clock::system()).await?;
    let pruned = skein::service::remote_media::prune(&state, age).await?;
    println!(
        "removed {} cached remote media ({} files); local uploads are kept",
        pruned.media, pruned.files
    );
    Ok(())
}

async fn migrate_media(config: &Config, delete_local: bool) -> anyhow::Result<()> {
    let done = skein::storage::migrate_to_s3(config, delete_local).await?;
    println!(
        "copied {} files to the bucket; {} were there already; {} local files removed; \
         {} other files in {} left alone",
        done.copied,
        done.present,
        done.removed,
        done.ignored,
        config.media_dir().display()
    );
    for (name, why) in &done.failed {
        eprintln!("not copied: {name}: {why}");
    }
    if done.failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} files were not copied; run the command again once the bucket answers",
            done.failed.len()
        )
    }
}

async fn serve(config: Config, db: &Database) -> anyhow::Result<()> {
    let app = if config.role.serves_http() {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Application::build(config, db.pool.clone(), listener).await?
    } else {
        Application::build_worker(config, db.pool.clone()).await?
    };
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        stop_signal().await;
        trigger.cancel();
    });
    app.run_until_stopped(shutdown).await
}

async fn domain_command(
    command: DomainCommand,
    config: Config,
    db: &Database,
) -> anyhow::Result<()> {
    use skein::service::audit::Staff;
    use skein::service::domain_policy::{self, BlockRequest, Severity};
    let pool = &db.pool;
    // A running server hears of the change from the database and reloads
    // its policy.
    let state = Application::command_state(config, db.pool.clone(), skein::clock::system()).await?;
    let staff = Staff::cli();
    match command {
        DomainCommand::Block {
            domain,
            severity,
            reject_media,
            reject_reports,
            comment,
            public_comment,
        } => {
            let severity = Severity::parse(&severity)
                .ok_or_else(|| anyhow::anyhow!("severity must be silence, suspend or noop"))?;
            let request = BlockRequest {
                domain,
                severity,
                reject_media,
                reject_reports,
                private_comment: comment,
                public_comment,
                obfuscate: false,
            };
            let block = domain_policy::block(&state, &staff, &request).await?;
            println!("blocked {} ({})", block.domain, block.severity);
        }
        DomainCommand::Unblock { domain } => {
            let normal = skein::domain::domain_name::normalize(&domain)
                .ok_or_else(|| anyhow::anyhow!("{domain:?} is not a domain name"))?;
            let block = domain_policy::list(pool)
                .await?
                .into_iter()
                .find(|b| b.domain == normal)
                .ok_or_else(|| anyhow::anyhow!("{normal} is not blocked"))?;
            domain_policy::unblock(&state, &staff, block.id).await?;
            println!("unblocked {normal}");
        }
        DomainCommand::List => {
            println!(
                "{:<40} {:<9} {:<12} comment",
                "domain", "severity", "reject media"
            );
            for b in domain_policy::list(pool).await? {
                println!(
                    "{:<40} {:<9} {:<12} {}",
                    b.domain, b.severity, b.reject_media, b.private_comment
                );
            }
        }
        DomainCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = domain_policy::import_csv(&state, &staff, &text).await?;
            println!(
                "{} blocked, {} already blocked, {} refused",
                report.added.len(),
                report.kept.len(),
                report.failed.len()
            );
            for (domain, reason) in report.failed {
                println!("refused {domain}: {reason}");
            }
        }
        DomainCommand::Export => {
            print!(
                "{}",
                domain_policy::export_csv(&domain_policy::list(pool).await?)
            );
        }
        DomainCommand::Allow { domain } => {
            let allow = domain_policy::allow(&state, &staff, &domain).await?;
            println!("allowed {}", allow.domain);
        }
        DomainCommand::Disallow { domain } => {
            let normal = skein::domain::domain_name::normalize(&domain)
                .ok_or_else(|| anyhow::anyhow!("{domain:?} is not a domain name"))?;
            let allow = domain_policy::allows(pool)
                .await?
                .into_iter()
                .find(|a| a.domain == normal)
                .ok_or_else(|| anyhow::anyhow!("{normal} is not allowed"))?;
            domain_policy::disallow(&state, &staff, allow.id).await?;
            println!("{normal} is no longer allowed");
        }
    }
    Ok(())
}

async fn rule_command(command: RuleCommand, config: Config, db: &Database) -> anyhow::Result<()> {
    use skein::service::audit::Staff;
    use skein::service::rules::{self, Move};
    let state = Application::command_state(config, db.pool.clone(), skein::clock::system()).await?;
    let staff = Staff::cli();
    let print = |list: &[skein::db::rules::Rule]| {
        for (i, rule) in list.iter().enumerate() {
            println!("{}. [{}] {}", i + 1, rule.id, rule.text);
            if !rule.hint.is_empty() {
                println!("   {}", rule.hint);
            }
        }
    };
    match command {
        RuleCommand::List => {
            let list = rules::list(&db.pool).await?;
            if list.is_empty() {
                println!("no rules");
            }
            print(&list);
        }
        RuleCommand::Add { text, hint } => {
            let rule = rules::add(&state, &staff, &text, &hint).await?;
            println!("added rule {}", rule.id);
        }
        RuleCommand::Edit { id, text, hint } => {
            let current = rules::list(&db.pool)
                .await?
                .into_iter()
                .find(|r| r.id == id)
                .ok_or_else(|| anyhow::anyhow!("there is no rule {id}"))?;
            let text = text.unwrap_or(current.text);
            let hint = hint.unwrap_or(current.hint);
            rules::edit(&state, &staff, id, &text, &hint).await?;
            println!("rule {id} changed");
        }
        RuleCommand::Move { id, direction } => {
            let to = Move::parse(&direction)
                .ok_or_else(|| anyhow::anyhow!("the direction is up or down"))?;
            let list = rules::move_rule(&state, &staff, id, to)
                .await
                .map_err(|e| match e {
                    skein::error::Error::NotFound => anyhow::anyhow!("there is no rule {id}"),
                    other => other.into(),
                })?;
            print(&list);
        }
        RuleCommand::Remove { id } => {
            rules::remove(&state, &staff, id)
                .await
                .map_err(|e| match e {
                    skein::error::Error::NotFound => anyhow::anyhow!("there is no rule {id}"),
                    other => other.into(),
                })?;
            println!("rule {id} removed");
        }
    }
    Ok(())
}

async fn account_command(
    command: AccountCommand,
    config: Config,
    db: &Database,
) -> anyhow::Result<()> {
    use skein::service::audit::Staff;
    use skein::service::moderation::{self, AccountAction, Request};
    let state = Application::command_state(config, db.pool.clone(), skein::clock::system()).await?;
    let (account, action, reason) = match command {
        AccountCommand::Suspend { account, reason } => (account, AccountAction::Suspend, reason),
        AccountCommand::Unsuspend { account } => (account, AccountAction::Unsuspend, String::new()),
        AccountCommand::Silence { account, reason } => (account, AccountAction::Silence, reason),
        AccountCommand::Unsilence { account } => (account, AccountAction::Unsilence, String::new()),
        AccountCommand::Approve { account } => (account, AccountAction::Approve, String::new()),
    };
    let acct = account.trim().trim_start_matches('@');
    let target = skein::service::profiles::by_acct(&state, acct, false)
        .await
        .map_err(|_| anyhow::anyhow!("no account {acct} is known here"))?;
    let request = Request {
        report_id: None,
        text: &reason,
    };
    moderation::act_on_account(&state, &Staff::cli(), target.id, action, &request).await?;
    println!(
        "{acct}: {}",
        match action {
            AccountAction::Suspend => "suspended",
            AccountAction::Unsuspend => "no longer suspended",
            AccountAction::Silence => "silenced",
            AccountAction::Unsilence => "no longer silenced",
            _ => "approved",
        }
    );
    Ok(())
}

async fn user_command(command: UserCommand, config: &Config, db: &Database) -> anyhow::Result<()> {
    let urls = Urls::new(config.base_url());
    match command {
        UserCommand::Create {
            name,
            admin,
            email,
            password: given,
        } => {
            let generated = given.is_none().then(password::generate);
            let secret = given.or_else(|| generated.clone()).unwrap_or_default();
            let created = accounts::create_by(
                &db.pool,
                &urls,
                accounts::NewAccount {
                    username: &name,
                    email: email.as_deref(),
                    password: &secret,
                    role: if admin {
                        accounts::Role::Admin
                    } else {
                        accounts::Role::User
                    },
                    approved: true,
                    fediverse_sharing: config.fediverse_sharing_default,
                },
                chrono::Utc::now(),
                &skein::service::audit::Staff::cli(),
            )
            .await?;
            println!(
                "created @{}@{} ({})",
                created.actor.username,
                urls.domain(),
                created.user.role
            );
            if let Some(generated) = generated {
                println!("password: {generated}");
            }
        }
        UserCommand::List => {
            let users = accounts::list(&db.pool).await?;
            println!(
                "{:<30} {:<10} {:<9} {:<20} email",
                "username", "role", "state", "created"
            );
            for user in users {
                let state = if user.disabled {
                    "disabled"
                } else if !user.approved {
                    "pending"
                } else {
                    "active"
                };
                println!(
                    "{:<30} {:<10} {:<9} {:<20} {}",
                    user.username,
                    user.role,
                    state,
                    user.created_at.format("%Y-%m-%d %H:%M"),
                    user.email.unwrap_or_default()
                );
            }
        }
        UserCommand::SetPassword {
            name,
            password: given,
        } => {
            let generated = given.is_none().then(password::generate);
            let secret = given.or_else(|| generated.clone()).unwrap_or_default();
            let staff = skein::service::audit::Staff::cli();
            accounts::set_password(&db.pool, chrono::Utc::now(), &staff, &name, &secret)
                .await
                .map_err(|e| match e {
                    skein::error::Error::NotFound => anyhow::anyhow!("no local user named {name}"),
                    other => other.into(),
                })?;
            println!("password of {name} changed");
            if let Some(generated) = generated {
                println!("password: {generated}");
            }
        }
        UserCommand::SetRole { name, role } => {
            let staff = skein::service::audit::Staff::cli();
            let now = chrono::Utc::now();
            accounts::set_role(&db.pool, now, &staff, &name, &role)
                .await
                .map_err(|e| match e {
                    skein::error::Error::NotFound => anyhow::anyhow!("no local user named {name}"),
                    other => other.into(),
                })?;
            println!("{name} is now {role}");
        }
    }
    Ok(())
}
