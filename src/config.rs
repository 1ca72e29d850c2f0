//! Typed configuration: `config/default.toml` (compiled in), then the file given
//! with `--config`, then `SKEIN_*` environment variables. Loaded once at start
//! and passed down; nothing reads the environment after this.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use serde::Deserialize;
use url::Url;

/// The documented defaults. Every key Skein knows is in this file.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "SKEIN_";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub domain: String,
    /// As written; [`Config::scheme`] is the one in force.
    pub scheme: SchemeSetting,
    pub listen: SocketAddr,
    /// What this process runs (`skein serve --role` overrides it).
    pub role: Role,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub registrations: Registrations,
    pub fediverse_sharing_default: bool,
    pub instance: InstanceConfig,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub posts: PostsConfig,
    pub trends: TrendsConfig,
    pub media: MediaConfig,
    pub link_previews: LinkPreviewsConfig,
    pub translation: TranslationConfig,
    pub storage: StorageConfig,
    pub delivery: DeliveryConfig,
    pub federation: FederationConfig,
    pub tls: TlsConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub smtp: SmtpConfig,
    pub test_network: TestNetworkConfig,
}

/// What one `skein serve` process runs. Any number of processes of any
/// role may share one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: a one-box instance.
    All,
    /// HTTP (and HTTPS) and streaming only.
    Web,
    /// Deliveries, Web Push, imports and timed work only; no listener.
    Worker,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "all" => Some(Role::All),
            "web" => Some(Role::Web),
            "worker" => Some(Role::Worker),
            _ => None,
        }
    }

    /// Whether this process serves HTTP.
    pub fn serves_http(self) -> bool {
        self != Role::Worker
    }

    /// Whether this process runs the background jobs.
    pub fn runs_jobs(self) -> bool {
        self != Role::Web
    }
}

/// The scheme of the public address, in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// The `scheme` key: `auto` (or empty) follows the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemeSetting {
    #[serde(alias = "")]
    Auto,
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registrations {
    Open,
    Approval,
    Closed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    pub name: String,
    pub description: String,
    pub contact_email: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    /// A streaming replica of the database for timeline and profile reads
    /// (`db::reads`); empty: every read goes to `database_url`.
    pub replica_url: String,
    /// The most connections Skein opens to the replica at once.
    pub replica_max_connections: u32,
    pub embedded_user: String,
    pub embedded_bin_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub request_timeout_seconds: u64,
    pub max_body_bytes: usize,
    pub trusted_proxies: Vec<IpAddr>,
    /// Check at start that signatures survive the way in through the
    /// public address (`service::self_check`).
    pub self_check: bool,
}

/// The SMTP server e-mail goes through (`crate::mail`); no `host`: none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// Empty: `notifications@` and the domain without its port.
    pub from_address: String,
    /// Empty: the instance's name.
    pub from_name: String,
    /// Certificate authorities (PEM) trusted for the SMTP server's
    /// certificate instead of the public ones; empty: the public ones.
    pub ca_file: PathBuf,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// A plain connection upgraded with STARTTLS, which must succeed.
    Starttls,
    /// TLS from the first byte ("SMTPS").
    Tls,
    /// No TLS at all: a relay on this machine or a private network.
    None,
}

impl SmtpConfig {
    /// Whether e-mail is sent at all: an SMTP host is set.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// The sender's address as configured, or `notifications@` and the
    /// domain's host.
    pub fn from_address(&self, domain: &str) -> String {
        match self.from_address.trim() {
            "" => {
                let host = match domain.rsplit_once(':') {
                    Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
                    _ => domain,
                };
                format!("notifications@{}", host.trim_matches(['[', ']']))
            }
            given => given.to_string(),
        }
    }
}

/// The Prometheus endpoint (`crate::prometheus`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// An address of its own for `GET /metrics`, without authentication
    /// (keep it private); empty: none.
    pub listen: String,
    /// A bearer token that opens `GET /metrics` on the main listener;
    /// empty: none there.
    pub token: String,
}

impl MetricsConfig {
    /// Whether metrics are recorded at all.
    pub fn enabled(&self) -> bool {
        !self.listen.trim().is_empty() || !self.token.is_empty()
    }

    /// The address of the metrics listener, if one is configured.
    pub fn listen_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.listen.trim().is_empty() {
            return Ok(None);
        }
        self.listen
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                key: "metrics.listen",
                message: format!("{:?} is not an address and port", self.listen),
            })
    }
}

/// Trends (Mastodon's `trends` and `trendable_by_default` settings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsConfig {
    /// Whether `/api/v1/trends/*` shows anything.
    pub enabled: bool,
    /// Whether hashtags and posts must be approved by a moderator before
    /// they trend.
    pub require_review: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostsConfig {
    pub max_characters: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Empty: `data_dir/media`.
    pub dir: PathBuf,
    pub max_image_bytes: usize,
    /// The ffmpeg program (a name looked up on PATH, or a path).
    pub ffmpeg: PathBuf,
    /// The ffprobe program.
    pub ffprobe: PathBuf,
    /// The largest video or audio file accepted, in bytes.
    pub max_video_bytes: usize,
    /// The longest video or audio accepted, in seconds.
    pub max_duration_seconds: u64,
    /// The highest frame rate accepted.
    pub max_frame_rate: u32,
    /// The most pixels a video frame may have.
    pub max_video_pixels: u64,
    /// How long one transcoding may run before it is stopped.
    pub transcode_timeout_seconds: u64,
    /// Cached remote files older than this many days are removed by the
    /// daily timed work (0: never; `skein media prune` does it by hand).
    pub remote_retention_days: u32,
    pub remote_cache: RemoteCacheConfig,
}

/// Downloading remote accounts' and posts' media (`[media.remote_cache]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteCacheConfig {
    /// False: remote media are shown from their servers, never downloaded.
    pub enabled: bool,
    /// Total time of one download, body included.
    pub timeout_seconds: u64,
    /// Downloads at once per worker process.
    pub concurrency: usize,
    /// Caps by kind, in bytes, checked while the body arrives.
    pub max_image_bytes: usize,
    pub max_video_bytes: usize,
    pub max_profile_image_bytes: usize,
    pub max_emoji_bytes: usize,
}

/// Link previews (`[link_previews]`): the cards of posts' first links.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPreviewsConfig {
    pub enabled: bool,
    /// Total time for one page, oEmbed answer or image, redirects included.
    pub timeout_seconds: u64,
    /// The largest preview image fetched, in bytes.
    pub max_image_bytes: usize,
}

/// Machine translation of posts (`[translation]`): a LibreTranslate
/// server, as Mastodon's `LIBRE_TRANSLATE_ENDPOINT`; off when empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationConfig {
    /// The server's base URL (`https://translate.example`); empty: off.
    pub libre_translate_endpoint: String,
    /// Sent as `api_key` when not empty.
    pub libre_translate_api_key: String,
    /// Total time for one request to the server, body included.
    pub timeout_seconds: u64,
}

impl TranslationConfig {
    /// The configured server, when there is one.
    pub fn endpoint(&self) -> Option<url::Url> {
        let raw = self.libre_translate_endpoint.trim();
        if raw.is_empty() {
            return None;
        }
        url::Url::parse(raw).ok()
    }
}

/// Where media files are kept (`[storage]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    /// Empty: AWS S3 in `region`.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `endpoint/bucket/key` rather than `bucket.endpoint/key`.
    pub path_style: bool,
    /// Media URLs start with this (a CDN) instead of `/media/`.
    pub public_base_url: String,
    pub serve: StorageServe,
}

/// The secret stays out of logs and error messages.
impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("backend", &self.backend)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .field("path_style", &self.path_style)
            .field("public_base_url", &self.public_base_url)
            .field("serve", &self.serve)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// Files in the media directory (`media.dir`).
    Local,
    /// Objects in an S3-compatible bucket.
    S3,
}

/// How `/media/NAME` answers when the files are in a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageServe {
    /// A redirect to `public_base_url`, or to a presigned bucket URL.
    Redirect,
    /// Skein reads the object and sends it.
    Stream,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    pub workers: usize,
    pub per_host: usize,
    pub lease_seconds: u64,
}

/// Which servers this instance federates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    /// Every server except those the domain blocks suspend.
    Blocklist,
    /// Only the servers of the allowed domains (and none that a block
    /// suspends).
    Allowlist,
}

/// How deliveries are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboundSignatures {
    /// RFC 9421 first, draft-cavage when a server refuses it (400 or 401),
    /// remembered per server.
    DoubleKnock,
    /// draft-cavage only.
    Cavage,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    pub mode: FederationMode,
    /// Every ActivityPub document (but the instance actor's) needs a signed
    /// GET, from a server the domain policy does not refuse.
    pub authorized_fetch: bool,
    /// How deliveries are signed.
    pub signatures: OutboundSignatures,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub listen: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestNetworkConfig {
    pub enabled: bool,
    pub hosts: BTreeMap<String, IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("bad configuration: {0}")]
    Parse(Box<figment::Error>),
    #[error("bad configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("bad configuration key `{key}` in the environment variable {name}: {message}")]
    Env {
        name: String,
        key: String,
        message: String,
    },
}

impl Config {
    /// Loads the layers from the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Loads the layers with the given environment, so tests need not touch
    /// the process's own.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let known = top_level_keys();
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace("__", ".");
            let top = key.split('.').next().unwrap_or_default();
            // Other SKEIN_* variables (a test harness's, say) are not keys.
            if !known.iter().any(|k| k == top) {
                continue;
            }
            // A string key takes the value as written: SKEIN_DOMAIN='[::1]:8080'
            // is a host, not an array. Tables and arrays are written in
            // TOML's inline syntax, e.g.
            // SKEIN_TEST_NETWORK__HOSTS='{ "alpha.test" = "127.0.0.2" }'.
            let trimmed = raw.trim_start();
            if default_is_string(&key) {
                figment = figment.merge(Serialized::default(&key, raw));
            } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
                let parsed = format!("value = {raw}")
                    .parse::<toml::Table>()
                    .map_err(|e| ConfigError::Env {
                        name: name.clone(),
                        key: key.clone(),
                        message: format!("not a TOML inline table or array: {e}"),
                    })?;
                if let Some(value) = parsed.get("value") {
                    figment = figment.merge(Serialized::default(&key, value.clone()));
                }
            } else {
                let value: Value = raw.parse().unwrap_or_else(|_| Value::from(raw.clone()));
                figment = figment.merge(Serialized::default(&key, value));
            }
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        config.validated()
    }

    fn validated(mut self) -> Result<Config, ConfigError> {
        self.domain = self.domain.trim().to_ascii_lowercase();
        let base =
            Url::parse(&format!("https://{}/", self.domain)).map_err(|e| ConfigError::Invalid {
                key: "domain",
                message: format!("`{}` is not a host name: {e}", self.domain),
            })?;
        if self.domain.is_empty() || authority(&base) != self.domain || base.path() != "/" {
            return Err(ConfigError::Invalid {
                key: "domain",
                message: format!(
                    "`{}` must be a bare host name, optionally with a port (e.g. social.example or localhost:8080)",
                    self.domain
                ),
            });
        }
        if self.scheme == SchemeSetting::Http && !is_loopback(&base) && !self.test_network.enabled {
            return Err(ConfigError::Invalid {
                key: "scheme",
                message: format!(
                    "\"http\" is only allowed for a localhost or loopback domain, or when \
                     test_network.enabled is true; `{}` must be served over https",
                    self.domain
                ),
            });
        }
        // The domain must also survive as an http URL (http's default port
        // would vanish from it).
        if authority(&self.base_url()) != self.domain {
            return Err(ConfigError::Invalid {
                key: "domain",
                message: format!(
                    "`{}` names the default port of {}: leave the port out",
                    self.domain,
                    self.scheme().as_str()
                ),
            });
        }
        let url = &self.database_url;
        if !url.is_empty() && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(ConfigError::Invalid {
                key: "database_url",
                message: "must be empty (embedded cluster) or a postgres:// URL".into(),
            });
        }
        let replica = &self.database.replica_url;
        if !replica.is_empty()
            && !replica.starts_with("postgres://")
            && !replica.starts_with("postgresql://")
        {
            return Err(ConfigError::Invalid {
                key: "database.replica_url",
                message: "must be empty (no replica) or a postgres:// URL".into(),
            });
        }
        if self.database.replica_max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.replica_max_connections",
                message: "must be at least 1".into(),
            });
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections",
                message: "must be at least 1".into(),
            });
        }
        if self.link_previews.timeout_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "link_previews.timeout_seconds",
                message: "must be at least 1".into(),
            });
        }
        if !self.translation.libre_translate_endpoint.trim().is_empty()
            && !matches!(
                self.translation.endpoint().as_ref().map(url::Url::scheme),
                Some("http" | "https")
            )
        {
            return Err(ConfigError::Invalid {
                key: "translation.libre_translate_endpoint",
                message: "must be empty (no translation) or an http(s) URL".into(),
            });
        }
        if self.translation.timeout_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "translation.timeout_seconds",
                message: "must be at least 1".into(),
            });
        }
        if self.http.request_timeout_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "http.request_timeout_seconds",
                message: "must be at least 1".into(),
            });
        }
        if self.http.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "http.max_body_bytes",
                message: "must be at least 1024".into(),
            });
        }
        self.metrics.listen_addr()?;
        if self.smtp.enabled() {
            if self.smtp.port == 0 {
                return Err(ConfigError::Invalid {
                    key: "smtp.port",
                    message: "must be a port number".into(),
                });
            }
            let from = self.smtp.from_address(&self.domain);
            if from.parse::<lettre::Address>().is_err() {
                return Err(ConfigError::Invalid {
                    key: "smtp.from_address",
                    message: format!("{from:?} is not an e-mail address"),
                });
            }
        }
        if !self.metrics.token.is_empty() && self.metrics.token.len() < 16 {
            return Err(ConfigError::Invalid {
                key: "metrics.token",
                message: "must be at least 16 characters".into(),
            });
        }
        if self.posts.max_characters == 0 {
            return Err(ConfigError::Invalid {
                key: "posts.max_characters",
                message: "must be at least 1".into(),
            });
        }
        if self.media.max_image_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "media.max_image_bytes",
                message: "must be at least 1024".into(),
            });
        }
        let cache = &self.media.remote_cache;
        for (key, value) in [
            ("media.remote_cache.max_image_bytes", cache.max_image_bytes),
            ("media.remote_cache.max_video_bytes", cache.max_video_bytes),
            (
                "media.remote_cache.max_profile_image_bytes",
                cache.max_profile_image_bytes,
            ),
            ("media.remote_cache.max_emoji_bytes", cache.max_emoji_bytes),
        ] {
            if value < 64 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 64".into(),
                });
            }
        }
        if cache.timeout_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "media.remote_cache.timeout_seconds",
                message: "must be at least 1".into(),
            });
        }
        if cache.concurrency == 0 {
            return Err(ConfigError::Invalid {
                key: "media.remote_cache.concurrency",
                message: "must be at least 1".into(),
            });
        }
        for (key, value) in [
            ("media.max_video_bytes", self.media.max_video_bytes as u64),
            (
                "media.max_duration_seconds",
                self.media.max_duration_seconds,
            ),
            ("media.max_frame_rate", u64::from(self.media.max_frame_rate)),
            ("media.max_video_pixels", self.media.max_video_pixels),
            (
                "media.transcode_timeout_seconds",
                self.media.transcode_timeout_seconds,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }
        for (key, value) in [
            ("media.ffmpeg", &self.media.ffmpeg),
            ("media.ffprobe", &self.media.ffprobe),
        ] {
            if value.as_os_str().is_empty() {
                return Err(ConfigError::Invalid {
                    key,
                    message: "names the program (e.g. \"ffmpeg\" or \"/usr/bin/ffmpeg\")".into(),
                });
            }
        }
        self.storage.validate()?;
        if self.delivery.per_host == 0 {
            return Err(ConfigError::Invalid {
                key: "delivery.per_host",
                message: "must be at least 1".into(),
            });
        }
        if self.delivery.lease_seconds < 10 {
            return Err(ConfigError::Invalid {
                key: "delivery.lease_seconds",
                message: "must be at least 10".into(),
            });
        }
        if self.instance.name.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "instance.name",
                message: "must not be empty".into(),
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::Invalid {
                key: "log.level",
                message: format!("`{}` is not a tracing filter", self.log.level),
            });
        }
        self.tls_listen()?;
        if self.tls_listen()?.is_some() {
            for (key, path) in [
                ("tls.cert_file", &self.tls.cert_file),
                ("tls.key_file", &self.tls.key_file),
            ] {
                if !path.is_file() {
                    return Err(ConfigError::Invalid {
                        key,
                        message: format!("{} is not a readable file", path.display()),
                    });
                }
            }
        }
        let mut hosts = BTreeMap::new();
        for (host, addr) in std::mem::take(&mut self.test_network.hosts) {
            hosts.insert(host.to_ascii_lowercase(), addr);
        }
        self.test_network.hosts = hosts;
        Ok(self)
    }

    /// The HTTPS listener's address, if one is configured.
    pub fn tls_listen(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.tls.listen.trim().is_empty() {
            return Ok(None);
        }
        self.tls
            .listen
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| ConfigError::Invalid {
                key: "tls.listen",
                message: format!("`{}` is not an address with a port: {e}", self.tls.listen),
            })
    }

    /// Where uploaded media are stored: `media.dir`, or `data_dir/media`.
    pub fn media_dir(&self) -> PathBuf {
        if self.media.dir.as_os_str().is_empty() {
            self.data_dir.join("media")
        } else {
            self.media.dir.clone()
        }
    }

    /// The scheme of the public address: the `scheme` key, or, when it is
    /// `auto`, http for a localhost or loopback domain (nothing else can
    /// reach it, and browsers treat it as secure) and https for any other.
    pub fn scheme(&self) -> Scheme {
        match self.scheme {
            SchemeSetting::Http => Scheme::Http,
            SchemeSetting::Https => Scheme::Https,
            SchemeSetting::Auto => match Url::parse(&format!("https://{}/", self.domain)) {
                Ok(url) if is_loopback(&url) => Scheme::Http,
                _ => Scheme::Https,
            },
        }
    }

    /// The scheme other servers are spoken to with: https, or in the test
    /// network this instance's own (the test instances all share one).
    pub fn peer_scheme(&self) -> Scheme {
        if self.test_network.enabled {
            self.scheme()
        } else {
            Scheme::Https
        }
    }

    /// The public base URL, e.g. `https://social.example/`.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("{}://{}/", self.scheme().as_str(), self.domain))
            .expect("the domain was validated when the configuration was loaded")
    }
}

impl StorageConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let http_url = |key: &'static str, value: &str| -> Result<(), ConfigError> {
            match Url::parse(value) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
                _ => Err(ConfigError::Invalid {
                    key,
                    message: format!("`{value}` is not an http:// or https:// URL"),
                }),
            }
        };
        if !self.public_base_url.is_empty() {
            http_url("storage.public_base_url", &self.public_base_url)?;
        }
        if self.backend == StorageBackend::Local {
            return Ok(());
        }
        if !self.endpoint.is_empty() {
            http_url("storage.endpoint", &self.endpoint)?;
        }
        for (key, value) in [
            ("storage.bucket", &self.bucket),
            ("storage.region", &self.region),
            ("storage.access_key_id", &self.access_key_id),
            ("storage.secret_access_key", &self.secret_access_key),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be set when storage.backend is \"s3\"".into(),
                });
            }
        }
        Ok(())
    }
}

/// `host[:port]` of a URL, as a domain is written.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

impl Config {
    /// Whether the public address is this machine's alone (`localhost`, a
    /// loopback address): nothing from elsewhere can reach it.
    pub fn is_loopback_instance(&self) -> bool {
        is_loopback(&self.base_url())
    }
}

/// `localhost`, a name under `.localhost` (RFC 6761 keeps them all on this
/// machine) or a loopback address.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether the default file gives `key` (dotted, e.g. `tls.listen`) a
/// string value.
fn default_is_string(key: &str) -> bool {
    let Ok(defaults) = DEFAULT_TOML.parse::<toml::Table>() else {
        return false;
    };
    let mut parts = key.split('.');
    let mut value = parts.next().and_then(|first| defaults.get(first));
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    matches!(value, Some(toml::Value::String(_)))
}

/// The top-level keys of the default file, which names every key.
fn top_level_keys() -> Vec<String> {
    DEFAULT_TOML
        .parse::<toml::Table>()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_defaults_load_and_validate() {
        let config = Config::load_from(None, env(&[])).expect("defaults are valid");
        assert_eq!(config.domain, "localhost:8080");
        assert_eq!(config.registrations, Registrations::Closed);
        assert!(!config.test_network.enabled);
        assert_eq!(config.scheme(), Scheme::Http);
        assert_eq!(config.base_url().as_str(), "http://localhost:8080/");
        assert_eq!(config.tls_listen().expect("valid"), None);
        assert_eq!(config.media_dir(), PathBuf::from("data/media"));
        assert_eq!(config.media.max_image_bytes, 16 * 1024 * 1024);
        assert_eq!(config.storage.backend, StorageBackend::Local);
        assert_eq!(config.storage.serve, StorageServe::Redirect);
    }

    #[test]
    fn a_bucket_is_configured_from_the_environment_and_its_secret_is_not_shown() {
        let config = Config::load_from(
            None,
            env(&[
                ("SKEIN_STORAGE__BACKEND", "s3"),
                ("SKEIN_STORAGE__ENDPOINT", "http://127.0.0.1:9000"),
                ("SKEIN_STORAGE__BUCKET", "media"),
                ("SKEIN_STORAGE__ACCESS_KEY_ID", "key"),
                ("SKEIN_STORAGE__SECRET_ACCESS_KEY", "very-secret"),
                ("SKEIN_STORAGE__PATH_STYLE", "true"),
                ("SKEIN_STORAGE__SERVE", "stream"),
            ]),
        )
        .expect("a valid bucket");
        assert_eq!(config.storage.backend, StorageBackend::S3);
        assert!(config.storage.path_style);
        assert_eq!(config.storage.serve, StorageServe::Stream);
        assert_eq!(config.storage.secret_access_key, "very-secret");
        assert!(!format!("{config:?}").contains("very-secret"));
    }

    fn scheme_of(pairs: &[(&str, &str)]) -> Scheme {
        Config::load_from(None, env(pairs))
            .expect("a valid configuration")
            .scheme()
    }

    #[test]
    fn the_scheme_follows_the_domain_unless_set() {
        for domain in [
            "localhost:8080",
            "localhost",
            "skein.localhost:8080",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
        ] {
            assert_eq!(
                scheme_of(&[("SKEIN_DOMAIN", domain)]),
                Scheme::Http,
                "{domain} is only reachable from this machine: plain http"
            );
        }
        for domain in [
            "social.example",
            "social.example:8443",
            "localhost.example",
            "192.168.1.5:8080",
        ] {
            assert_eq!(
                scheme_of(&[("SKEIN_DOMAIN", domain)]),
                Scheme::Https,
                "{domain} is a real address: https"
            );
        }
        for auto in ["auto", ""] {
            assert_eq!(scheme_of(&[("SKEIN_SCHEME", auto)]), Scheme::Http);
        }
        // An explicit setting wins wherever it is allowed.
        assert_eq!(scheme_of(&[("SKEIN_SCHEME", "https")]), Scheme::Https);
        assert_eq!(
            scheme_of(&[("SKEIN_DOMAIN", "127.0.0.1:8080"), ("SKEIN_SCHEME", "http")]),
            Scheme::Http
        );
        let https_localhost = Config::load_from(None, env(&[("SKEIN_SCHEME", "https")]))
            .expect("https on localhost is allowed");
        assert_eq!(
            https_localhost.base_url().as_str(),
            "https://localhost:8080/"
        );
    }

    #[test]
    fn plain_http_for_a_real_domain_needs_the_test_network() {
        let refused = Config::load_from(
            None,
            env(&[("SKEIN_DOMAIN", "social.example"), ("SKEIN_SCHEME", "http")]),
        )
        .expect_err("http for a public domain is refused");
        assert!(refused.to_string().contains("scheme"), "{refused}");
        let test_network = Config::load_from(
            None,
            env(&[
                ("SKEIN_DOMAIN", "alpha.test:4000"),
                ("SKEIN_SCHEME", "http"),
                ("SKEIN_TEST_NETWORK__ENABLED", "true"),
            ]),
        )
        .expect("the test network may use http");
        assert_eq!(test_network.base_url().as_str(), "http://alpha.test:4000/");
        assert_eq!(test_network.peer_scheme(), Scheme::Http);
    }

    #[test]
    fn other_servers_are_reached_over_https_whatever_this_one_uses() {
        let local = Config::load_from(None, env(&[])).expect("defaults");
        assert_eq!(local.scheme(), Scheme::Http);
        assert_eq!(local.peer_scheme(), Scheme::Https);
    }

    #[test]
    fn environment_variables_override_top_level_and_nested_keys() {
        let config = Config::load_from(
            None,
            env(&[
                ("SKEIN_DOMAIN", "Social.Example"),
                ("SKEIN_LISTEN", "0.0.0.0:9000"),
                ("SKEIN_DATABASE_URL", "postgres://u@h/db"),
                ("SKEIN_LOG__FORMAT", "json"),
                ("SKEIN_HTTP__REQUEST_TIMEOUT_SECONDS", "5"),
                ("SKEIN_TEST_NETWORK__ENABLED", "true"),
                (
                    "SKEIN_TEST_NETWORK__HOSTS",
                    "{ \"alpha.test\" = \"127.0.0.2\" }",
                ),
                ("SKEIN_SOMETHING_ELSE", "ignored: not a key of ours"),
                ("PATH", "/bin"),
            ]),
        )
        .expect("valid overrides");
        assert_eq!(config.domain, "social.example");
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database_url, "postgres://u@h/db");
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.http.request_timeout_seconds, 5);
        assert_eq!(
            config.test_network.hosts.get("alpha.test"),
            Some(&"127.0.0.2".parse().expect("ip"))
        );
    }

    #[test]
    fn a_file_layer_overrides_defaults_and_env_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("skein.toml");
        std::fs::write(
            &path,
            "domain = \"file.example\"\nregistrations = \"open\"\n[instance]\nname = \"From file\"\n",
        )
        .expect("write");
        let config =
            Config::load_from(Some(&path), env(&[("SKEIN_DOMAIN", "env.example")])).expect("valid");
        assert_eq!(config.domain, "env.example");
        assert_eq!(config.registrations, Registrations::Open);
        assert_eq!(config.instance.name, "From file");
    }

    fn error_of(file: Option<&str>, pairs: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("skein.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).expect("write");
        }
        Config::load_from(file.map(|_| path.as_path()), env(pairs))
            .expect_err("configuration must be refused")
            .to_string()
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (None, &[("SKEIN_LISTEN", "not an address")], "listen"),
            (
                None,
                &[("SKEIN_REGISTRATIONS", "sometimes")],
                "registrations",
            ),
            (None, &[("SKEIN_DOMAIN", "has/a/path")], "domain"),
            (None, &[("SKEIN_DOMAIN", "")], "domain"),
            (
                None,
                &[("SKEIN_DOMAIN", "social.example"), ("SKEIN_SCHEME", "http")],
                "scheme",
            ),
            (None, &[("SKEIN_SCHEME", "ftp")], "scheme"),
            (None, &[("SKEIN_DOMAIN", "localhost:80")], "domain"),
            (None, &[("SKEIN_DATABASE_URL", "mysql://x")], "database_url"),
            (
                None,
                &[("SKEIN_DATABASE__REPLICA_URL", "replica.internal")],
                "database.replica_url",
            ),
            (
                None,
                &[("SKEIN_DATABASE__REPLICA_MAX_CONNECTIONS", "0")],
                "database.replica_max_connections",
            ),
            (
                None,
                &[("SKEIN_TLS__LISTEN", "0.0.0.0:443")],
                "tls.cert_file",
            ),
            (None, &[("SKEIN_TLS__LISTEN", "nonsense")], "tls.listen"),
            (None, &[("SKEIN_LOG__FORMAT", "xml")], "format"),
            (
                None,
                &[("SKEIN_HTTP__MAX_BODY_BYTES", "-3")],
                "max_body_bytes",
            ),
            (
                None,
                &[("SKEIN_MEDIA__MAX_IMAGE_BYTES", "10")],
                "media.max_image_bytes",
            ),
            (
                None,
                &[("SKEIN_MEDIA__REMOTE_CACHE__MAX_VIDEO_BYTES", "10")],
                "media.remote_cache.max_video_bytes",
            ),
            (
                None,
                &[("SKEIN_MEDIA__REMOTE_CACHE__CONCURRENCY", "0")],
                "media.remote_cache.concurrency",
            ),
            (None, &[("SKEIN_STORAGE__BACKEND", "s3")], "storage.bucket"),
            (
                None,
                &[
                    ("SKEIN_STORAGE__BACKEND", "s3"),
                    ("SKEIN_STORAGE__BUCKET", "media"),
                    ("SKEIN_STORAGE__ACCESS_KEY_ID", "key"),
                ],
                "storage.secret_access_key",
            ),
            (
                None,
                &[("SKEIN_STORAGE__PUBLIC_BASE_URL", "cdn.example")],
                "storage.public_base_url",
            ),
            (None, &[("SKEIN_STORAGE__SERVE", "proxy")], "serve"),
            (Some("domian = \"typo.example\"\n"), &[], "domian"),
            (Some("[tls]\nlisten = 5\n"), &[], "listen"),
        ];
        for (file, pairs, key) in cases {
            let message = error_of(*file, pairs);
            assert!(
                message.contains(key),
                "error for {pairs:?} / {file:?} should name `{key}`: {message}"
            );
        }
    }

    #[test]
    fn smtp_is_off_by_default_and_set_by_its_host_with_a_valid_sender() {
        let off = Config::load_from(None, env(&[])).expect("defaults");
        assert!(!off.smtp.enabled());
        let on = Config::load_from(
            None,
            env(&[
                ("SKEIN_DOMAIN", "social.example:8443"),
                ("SKEIN_SMTP__HOST", "smtp.example"),
                ("SKEIN_SMTP__SECURITY", "tls"),
                ("SKEIN_SMTP__PORT", "465"),
                ("SKEIN_SMTP__PASSWORD", "12345"),
            ]),
        )
        .expect("valid");
        assert!(on.smtp.enabled());
        assert_eq!(on.smtp.security, SmtpSecurity::Tls);
        assert_eq!(on.smtp.port, 465);
        assert_eq!(
            on.smtp.password, "12345",
            "a string key keeps digits as text"
        );
        assert_eq!(
            on.smtp.from_address(&on.domain),
            "notifications@social.example"
        );
        let bad = Config::load_from(
            None,
            env(&[
                ("SKEIN_SMTP__HOST", "smtp.example"),
                ("SKEIN_SMTP__FROM_ADDRESS", "not an address"),
            ]),
        )
        .expect_err("a bad sender");
        assert!(bad.to_string().contains("smtp.from_address"), "{bad}");
        let bad = Config::load_from(None, env(&[("SKEIN_SMTP__SECURITY", "ssl")]))
            .expect_err("an unknown security");
        assert!(bad.to_string().contains("security"), "{bad}");
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Config::load_from(Some(Path::new("/nonexistent/skein.toml")), env(&[]))
            .expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/skein.toml"));
    }
}
