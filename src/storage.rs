//! Where media files live: the media directory (`storage.backend =
//! "local"`) or an S3-compatible bucket (`"s3"`), behind `object_store`'s
//! one interface (its `LocalFileSystem` and `AmazonS3`; the bucket's
//! requests are signed by it, never here). `MediaStore` is built once from
//! the configuration and kept in `AppState`; services name files by the
//! names `domain::media::new_file_name` makes, and the store maps a name to
//! a file in the directory or an object of the same name in the bucket.
//!
//! Besides reading, writing and removing, it says where a file is shown
//! (`public_url`: `storage.public_base_url`, a CDN, when set) and whether
//! `/media/NAME` redirects (`redirect`: to that address, or to a presigned
//! bucket URL) or sends the bytes itself. `migrate_to_s3` is
//! `skein media migrate-to-s3`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig,
};

use crate::config::{Config, StorageBackend, StorageServe};
use crate::domain::media as rules;
use crate::imaging::OutputType;

/// How long a presigned redirect stays valid.
pub const PRESIGNED_FOR: Duration = Duration::from_secs(3600);
/// How long a browser may keep a redirect to a presigned URL: well within
/// its validity.
pub const PRESIGNED_REDIRECT_CACHE_SECONDS: u64 = 3000;
/// Objects never change (names are random): caches may keep them.
const OBJECT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// A bucket that does not answer fails a request within about this long
/// (connecting, then two quick retries), instead of holding an upload for
/// `object_store`'s default of minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_RETRIES: usize = 2;

/// Files copied into the bucket at once by `migrate_to_s3`.
const MIGRATION_CONCURRENCY: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No file or object by that name.
    #[error("no such media file")]
    NotFound,
    /// The directory or the bucket failed (down, refusing the keys, full).
    #[error("media storage ({backend}) failed on {name}: {source}")]
    Failed {
        backend: &'static str,
        name: String,
        #[source]
        source: object_store::Error,
    },
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => crate::error::Error::NotFound,
            failed => crate::error::Error::StorageUnavailable(anyhow::Error::new(failed)),
        }
    }
}

/// A stored file being read.
pub struct StoredFile {
    pub length: u64,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

impl std::fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFile")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// Where the media files are; cheap to clone.
#[derive(Clone, Debug)]
pub struct MediaStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backend: StorageBackend,
    store: Arc<dyn ObjectStore>,
    /// Local: the media directory as an absolute object path; S3: empty.
    prefix: ObjectPath,
    /// The bucket, for presigned redirects.
    bucket: Option<Arc<AmazonS3>>,
    /// `storage.public_base_url`, ending with a slash.
    public_base: Option<String>,
    serve: StorageServe,
}

impl MediaStore {
    /// The store `storage` configures. Nothing is contacted or created yet:
    /// the directory is made on the first write, and a bucket that is down
    /// fails requests, not the start.
    pub fn from_config(config: &Config) -> anyhow::Result<MediaStore> {
        let public_base = Some(config.storage.public_base_url.trim())
            .filter(|b| !b.is_empty())
            .map(|b| format!("{}/", b.trim_end_matches('/')));
        let (store, prefix, bucket): (Arc<dyn ObjectStore>, _, _) = match config.storage.backend {
            StorageBackend::Local => {
                let dir = std::path::absolute(config.media_dir()).map_err(|e| {
                    anyhow::anyhow!("the media directory {}: {e}", config.media_dir().display())
                })?;
                let prefix = ObjectPath::from_absolute_path(&dir)
                    .map_err(|e| anyhow::anyhow!("the media directory {}: {e}", dir.display()))?;
                // Written files are synced before the row naming them
                // commits, as before object storage.
                let local: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new().with_fsync(true));
                (local, prefix, None)
            }
            StorageBackend::S3 => {
                let bucket = Arc::new(s3_client(config)?);
                let store: Arc<dyn ObjectStore> = bucket.clone();
                (store, ObjectPath::default(), Some(bucket))
            }
        };
        Ok(MediaStore {
            inner: Arc::new(Inner {
                backend: config.storage.backend,
                store,
                prefix,
                bucket,
                public_base,
                serve: config.storage.serve,
            }),
        })
    }

    pub fn backend(&self) -> StorageBackend {
        self.inner.backend
    }

    fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            StorageBackend::Local => "local directory",
            StorageBackend::S3 => "s3 bucket",
        }
    }

    fn path(&self, name: &str) -> ObjectPath {
        self.inner.prefix.clone().join(name)
    }

    fn failed(&self, name: &str, source: object_store::Error) -> StoreError {
        match source {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            source => StoreError::Failed {
                backend: self.backend_name(),
                name: name.to_string(),
                source,
            },
        }
    }

    /// Stores a new file. With a bucket, the object carries its type and
    /// a long cache lifetime, for a CDN or a redirect to serve it as is.
    pub async fn put(
        &self,
        name: &str,
        bytes: Bytes,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        let options = match self.inner.backend {
            // The directory keeps no attributes. Names are never reused, so
            // a plain write (a staged file renamed into place) will do.
            StorageBackend::Local => PutOptions::from(PutMode::Overwrite),
            StorageBackend::S3 => {
                let mut attributes = Attributes::new();
                attributes.insert(Attribute::ContentType, content_type.into());
                attributes.insert(Attribute::CacheControl, OBJECT_CACHE_CONTROL.into());
                PutOptions::from(attributes)
            }
        };
        self.inner
            .store
            .put_opts(&self.path(name), PutPayload::from(bytes), options)
            .await
            .map_err(|e| self.failed(name, e))?;
        Ok(())
    }

    /// Reads a file as a stream of chunks.
    pub async fn get(&self, name: &str) -> Result<StoredFile, StoreError> {
        let found = self
            .inner
            .store
            .get(&self.path(name))
            .await
            .map_err(|e| self.failed(name, e))?;
        let length = found.meta.size;
        let body = found.into_stream().map_err(std::io::Error::other).boxed();
        Ok(StoredFile { length, body })
    }

    /// The size of a stored file, None when there is none by that name.
    pub async fn size(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.inner.store.head(&self.path(name)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(e) => match self.failed(name, e) {
                StoreError::NotFound => Ok(None),
                failed => Err(failed),
            },
        }
    }

    /// Removes a file; one already gone is no error.
    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        match self.inner.store.delete(&self.path(name)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.failed(name, e) {
                StoreError::NotFound => Ok(()),
                failed => Err(failed),
            },
        }
    }

    /// Where a file is shown when `storage.public_base_url` is set.
    pub fn public_url(&self, name: &str) -> Option<String> {
        self.inner
            .public_base
            .as_ref()
            .map(|base| format!("{base}{name}"))
    }

    /// The public base URL, ending with a slash, when one is set.
    pub fn public_base(&self) -> Option<&str> {
        self.inner.public_base.as_deref()
    }

    /// Where `/media/NAME` sends a browser instead of answering with the
    /// bytes, and how long the redirect may be kept (None: Skein sends the
    /// file). Only a bucket with `serve = "redirect"` redirects: to the
    /// public base URL, or to a URL presigned for `PRESIGNED_FOR`.
    pub async fn redirect(&self, name: &str) -> Result<Option<(String, u64)>, StoreError> {
        if self.inner.serve != StorageServe::Redirect {
            return Ok(None);
        }
        let Some(bucket) = &self.inner.bucket else {
            return Ok(None);
        };
        if let Some(url) = self.public_url(name) {
            return Ok(Some((url, 86_400)));
        }
        let url = bucket
            .signed_url(reqwest::Method::GET, &self.path(name), PRESIGNED_FOR)
            .await
            .map_err(|e| self.failed(name, e))?;
        Ok(Some((url.to_string(), PRESIGNED_REDIRECT_CACHE_SECONDS)))
    }
}

/// The bucket client `storage` describes, with short timeouts and few
/// retries so that a bucket that is down fails a request quickly.
fn s3_client(config: &Config) -> anyhow::Result<AmazonS3> {
    let storage = &config.storage;
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&storage.bucket)
        .with_region(&storage.region)
        .with_access_key_id(&storage.access_key_id)
        .with_secret_access_key(&storage.secret_access_key)
        .with_virtual_hosted_style_request(!storage.path_style)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        })
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(storage.endpoint.starts_with("http://"))
                .with_connect_timeout(CONNECT_TIMEOUT)
                .with_timeout(REQUEST_TIMEOUT),
        );
    if !storage.endpoint.is_empty() {
        builder = builder.with_endpoint(bucket_endpoint(
            &storage.endpoint,
            &storage.bucket,
            storage.path_style,
        )?);
    }
    builder
        .build()
        .map_err(|e| anyhow::anyhow!("the storage configuration: {e}"))
}

/// The endpoint `object_store` wants: the service's address for path-style
/// requests, the bucket's own host (`BUCKET.HOST`) for virtual-hosted ones.
fn bucket_endpoint(endpoint: &str, bucket: &str, path_style: bool) -> anyhow::Result<String> {
    let endpoint = endpoint.trim_end_matches('/');
    if path_style {
        return Ok(endpoint.to_string());
    }
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| anyhow::anyhow!("storage.endpoint `{endpoint}`: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("storage.endpoint `{endpoint}` has no host"))?
        .to_string();
    url.set_host(Some(&format!("{bucket}.{host}")))
        .map_err(|e| anyhow::anyhow!("storage.endpoint `{endpoint}` with the bucket: {e}"))?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// What `migrate_to_s3` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Files copied into the bucket.
    pub copied: usize,
    /// Files the bucket already had, with the same size.
    pub present: usize,
    /// Local files removed after their copy was in the bucket.
    pub removed: usize,
    /// Other files in the directory (not named as Skein names media), left alone.
    pub ignored: usize,
    /// Files that could not be copied, with why; running again retries them.
    pub failed: Vec<(String, String)>,
}

/// `skein media migrate-to-s3`: copies every media file of the media
/// directory (`media.dir`) into the bucket `storage` names (which must be
/// the "s3" backend). Idempotent: an object already there with the same
/// size is left as it is. Local files are removed only with `delete_local`,
/// each once its object is in the bucket. The database needs no change:
/// URLs already handed out name `/media/NAME`, which then serves from the
/// bucket.
pub async fn migrate_to_s3(config: &Config, delete_local: bool) -> anyhow::Result<Migration> {
    if config.storage.backend != StorageBackend::S3 {
        anyhow::bail!(
            "storage.backend is \"local\": configure the bucket (storage.backend = \"s3\", \
             storage.bucket, storage.endpoint, the keys) first"
        );
    }
    let bucket = MediaStore::from_config(config)?;
    let dir = config.media_dir();
    let mut migration = Migration::default();
    let mut names = Vec::new();
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(migration),
        Err(e) => anyhow::bail!("reading the media directory {}: {e}", dir.display()),
    };
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| anyhow::anyhow!("reading the media directory {}: {e}", dir.display()))?
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().await.is_ok_and(|t| t.is_file());
        if is_file && rules::is_file_name(&name) {
            names.push(name);
        } else {
            migration.ignored += 1;
        }
    }
    names.sort();
    let outcomes: Vec<(String, Result<Copied, String>)> = futures::stream::iter(names)
        .map(|name| {
            let bucket = &bucket;
            let path = dir.join(&name);
            async move {
                let outcome = copy_one(bucket, &path, &name, delete_local).await;
                (name, outcome)
            }
        })
        .buffer_unordered(MIGRATION_CONCURRENCY)
        .collect()
        .await;
    for (name, outcome) in outcomes {
        match outcome {
            Ok(copied) => {
                if copied.copied {
                    migration.copied += 1;
                } else {
                    migration.present += 1;
                }
                if copied.removed {
                    migration.removed += 1;
                }
            }
            Err(why) => migration.failed.push((name, why)),
        }
    }
    migration.failed.sort();
    Ok(migration)
}

struct Copied {
    copied: bool,
    removed: bool,
}

async fn copy_one(
    bucket: &MediaStore,
    path: &std::path::Path,
    name: &str,
    delete_local: bool,
) -> Result<Copied, String> {
    let local_size = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("reading {}: {e}", path.display()))?
        .len();
    let in_bucket = bucket.size(name).await.map_err(|e| e.to_string())?;
    let copied = in_bucket != Some(local_size);
    if copied {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let content_type = content_type_of(name).ok_or_else(|| format!("{name}: unknown type"))?;
        bucket
            .put(name, Bytes::from(bytes), content_type)
            .await
            .map_err(|e| e.to_string())?;
    }
    let removed = if delete_local {
        tokio::fs::remove_file(path)
            .await
            .map_err(|e| format!("removing {}: {e}", path.display()))?;
        true
    } else {
        false
    };
    Ok(Copied { copied, removed })
}

/// The type of a stored file, by the extension Skein gave it.
fn content_type_of(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1;
    [OutputType::Jpeg, OutputType::Png, OutputType::Gif]
        .into_iter()
        .find(|t| t.extension() == extension)
        .map(OutputType::content_type)
        .or_else(|| {
            crate::domain::sniff::StreamType::from_extension(extension)
                .map(crate::domain::sniff::StreamType::content_type)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosted_endpoints_put_the_bucket_in_the_host() {
        assert_eq!(
            bucket_endpoint("https://s3.example.net/", "media", false).expect("valid"),
            "https://media.s3.example.net"
        );
        assert_eq!(
            bucket_endpoint("http://127.0.0.1:9000", "media", true).expect("valid"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            bucket_endpoint("http://minio:9000/", "media", false).expect("valid"),
            "http://media.minio:9000"
        );
    }

    #[test]
    fn stored_names_have_their_types() {
        assert_eq!(
            content_type_of("0123456789abcdef0123456789abcdef.jpg"),
            Some("image/jpeg")
        );
        assert_eq!(content_type_of("x.png"), Some("image/png"));
        assert_eq!(content_type_of("x.gif"), Some("image/gif"));
        assert_eq!(content_type_of("x.webm"), Some("video/webm"));
        assert_eq!(content_type_of("x.html"), None);
    }
}
