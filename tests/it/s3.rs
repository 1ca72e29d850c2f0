//! A real S3-compatible server for tests: `s3s-fs` (crates.io: the `s3s`
//! S3 protocol over hyper, objects kept as files under a directory), run
//! inside the test process on a loopback port with static keys. Any test,
//! or a test that spawns `skein` binaries, points Skein at it with
//! [`S3Server::env`] (the `SKEIN_STORAGE__*` variables, which a spawned
//! process takes from its environment as well).
//!
//! The server runs on the test's own tokio runtime: a test that blocks
//! its thread (`std::thread::sleep`, `Child::wait` outside
//! `spawn_blocking`) stalls it. For processes of the built binary
//! (`process::Instance`): `for (k, v) in s3.env("stream") { instance.set(&k, v) }`
//! before starting them; in "redirect" mode a client follows the
//! presigned redirect to `s3.endpoint` itself.
//!
//! [`S3Server::stop`] takes the bucket down (the port closed, open
//! connections cut); [`S3Server::restart`] brings it back on the same port
//! with the same objects.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub const ACCESS_KEY: &str = "skein-test-access";
pub const SECRET_KEY: &str = "skein-test-secret-key-0123456789";
pub const REGION: &str = "us-east-1";

pub struct S3Server {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub addr: SocketAddr,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// The directory the objects live under (`root/BUCKET/NAME`).
    pub root: PathBuf,
    _dir: Option<tempfile::TempDir>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A server on a fresh port over a fresh temporary directory, with an
/// empty bucket `media`.
pub async fn start_s3_server() -> S3Server {
    let dir = tempfile::Builder::new()
        .prefix("skein-test-s3-")
        .tempdir()
        .expect("a temporary directory for the bucket");
    let mut server = start_s3_server_in(dir.path(), "127.0.0.1:0".parse().unwrap()).await;
    server._dir = Some(dir);
    server
}

/// A server over `root` (kept by the caller) on `addr` (port 0: any),
/// with the bucket `media` created if missing.
pub async fn start_s3_server_in(root: &Path, addr: SocketAddr) -> S3Server {
    let bucket = "media".to_string();
    std::fs::create_dir_all(root.join(&bucket)).expect("the bucket's directory");
    let listener = TcpListener::bind(addr).await.expect("bind the S3 server");
    let addr = listener.local_addr().expect("addr");
    let server = serve(root, listener);
    S3Server {
        endpoint: format!("http://{addr}"),
        addr,
        bucket,
        access_key: ACCESS_KEY.to_string(),
        secret_key: SECRET_KEY.to_string(),
        root: root.to_path_buf(),
        _dir: None,
        server: Some(server),
    }
}

fn serve(root: &Path, listener: TcpListener) -> tokio::task::JoinHandle<()> {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs over the directory");
    let service = {
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(
            ACCESS_KEY,
            SECRET_KEY.to_string(),
        ));
        builder.build()
    };
    tokio::spawn(async move {
        // Dropped with the task when the server stops: every connection
        // is cut at once.
        let mut connections = JoinSet::new();
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            connections.spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    })
}

impl S3Server {
    /// The configuration that stores Skein's media in this bucket, as
    /// environment variables (for `Options::env` or a spawned process),
    /// with `/media/NAME` served as `serve` says ("redirect" or "stream").
    pub fn env(&self, serve: &str) -> Vec<(String, String)> {
        [
            ("SKEIN_STORAGE__BACKEND", "s3"),
            ("SKEIN_STORAGE__ENDPOINT", self.endpoint.as_str()),
            ("SKEIN_STORAGE__REGION", REGION),
            ("SKEIN_STORAGE__BUCKET", self.bucket.as_str()),
            ("SKEIN_STORAGE__ACCESS_KEY_ID", self.access_key.as_str()),
            ("SKEIN_STORAGE__SECRET_ACCESS_KEY", self.secret_key.as_str()),
            ("SKEIN_STORAGE__PATH_STYLE", "true"),
            ("SKEIN_STORAGE__SERVE", serve),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// A client of the bucket of its own, to read what Skein stored.
    pub fn client(&self) -> Arc<AmazonS3> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_bucket_name(&self.bucket)
                .with_region(REGION)
                .with_access_key_id(&self.access_key)
                .with_secret_access_key(&self.secret_key)
                .build()
                .expect("a client of the test bucket"),
        )
    }

    /// An object's bytes, read over the S3 protocol; None when absent.
    pub async fn object(&self, name: &str) -> Option<Bytes> {
        match self.client().get(&ObjectPath::from(name)).await {
            Ok(found) => Some(found.bytes().await.expect("the object's bytes")),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("reading {name} from the test bucket: {e}"),
        }
    }

    /// Every object's name, sorted, read over the S3 protocol.
    pub async fn names(&self) -> Vec<String> {
        use futures::TryStreamExt;
        let mut names: Vec<String> = self
            .client()
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .expect("listing the test bucket");
        names.sort();
        names
    }

    /// Takes the server down: the port is closed and open connections cut.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Brings a stopped server back on the same port, with its objects.
    pub async fn restart(&mut self) {
        assert!(self.server.is_none(), "the server is running");
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("bind the S3 server's port again");
        self.server = Some(serve(&self.root, listener));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
