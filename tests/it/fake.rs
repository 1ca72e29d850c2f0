//! A fake fediverse server for tests: it serves actor documents with real
//! RSA keys (Mastodon-style `#main-key` ids or GoToSocial-style `/main-key`
//! key documents), WebFinger, documents served as given at any path (the
//! fixtures of other servers), and inboxes that record what they receive and
//! answer with programmable statuses. Tests sign requests as its actors.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use skein::federation::rfc9421;
use skein::federation::signatures::{SigningKey, sign_request};
use url::Url;

#[derive(Clone)]
pub struct FakeActor {
    pub name: String,
    pub id: String,
    pub key_id: String,
    pub private_pem: String,
    pub public_pem: String,
    /// GoToSocial style: the key id is `<actor>/main-key`, a document of its own.
    pub slash_key: bool,
}

/// Ways an actor document can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// The document's id is another URL on the same server.
    WrongId,
    /// Served as text/html.
    Html,
    /// Served as plain application/json.
    PlainJson,
    /// Larger than any peer should accept.
    Huge,
    /// The server fails: 500.
    ServerError,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Bytes,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    actors: HashMap<String, FakeActor>,
    gone: HashSet<String>,
    received: Vec<Received>,
    default_status: u16,
    /// Status and Retry-After per inbox path, before the default.
    by_path: HashMap<String, (u16, Option<String>)>,
    actor_fetches: usize,
    /// Documents served at `/notes/{name}`.
    notes: HashMap<String, Value>,
    /// Documents served as they are at their paths, before any route's own.
    documents: HashMap<String, Value>,
    /// Files served at their paths: media type and body.
    files: HashMap<String, (String, Bytes)>,
    /// GETs of each file's path.
    file_fetches: HashMap<String, usize>,
    /// Files take this long to answer (a slow server).
    file_delay: std::time::Duration,
    /// Avatar and header URLs of actors, by name.
    images: HashMap<String, (Option<String>, Option<String>)>,
    /// Properties set on actors' documents over the generated ones, by
    /// actor name.
    profiles: HashMap<String, serde_json::Map<String, Value>>,
    /// GETs of these paths are redirected (302) to the URL given.
    redirects: HashMap<String, String>,
    /// Misbehaviours of actor documents, by actor name.
    quirks: HashMap<String, Quirk>,
    shared_inbox: bool,
    delay: std::time::Duration,
    /// Actor documents take this long to answer.
    actor_delay: std::time::Duration,
    in_flight: usize,
    max_in_flight: usize,
    /// Inbox POSTs signed with RFC 9421 get 401 (a server that speaks only
    /// draft-cavage).
    refuse_rfc9421: bool,
}

pub struct FakeServer {
    pub domain: String,
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// A server at `name.test:<port>`.
    pub async fn spawn(name: &str) -> FakeServer {
        Self::spawn_with(name, true).await
    }

    /// A server whose actors have no shared inbox when `shared_inbox` is
    /// false (as Mitra's).
    pub async fn spawn_with(name: &str, shared_inbox: bool) -> FakeServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let domain = format!("{name}.test:{port}");
        let inner = Arc::new(Mutex::new(Inner {
            default_status: 202,
            shared_inbox,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/users/{name}", get(actor))
            .route("/users/{name}/main-key", get(key))
            .route("/notes/{name}", get(note))
            .route("/users/{name}/inbox", post(inbox))
            .route("/inbox", post(inbox))
            .route("/.well-known/webfinger", get(webfinger))
            .fallback(elsewhere)
            .layer(middleware::from_fn_with_state(
                (inner.clone(), domain.clone()),
                served_document,
            ))
            .with_state((inner.clone(), domain.clone()));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeServer {
            base: format!("http://{domain}"),
            domain,
            inner,
            _task: task,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Adds an actor with a fresh RSA key pair.
    pub fn add_actor(&self, name: &str, slash_key: bool) -> FakeActor {
        let pair = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
        let id = format!("{}/users/{name}", self.base);
        let actor = FakeActor {
            name: name.to_string(),
            key_id: if slash_key {
                format!("{id}/main-key")
            } else {
                format!("{id}#main-key")
            },
            id,
            private_pem: pair.private_key,
            public_pem: pair.public_key,
            slash_key,
        };
        self.lock().actors.insert(name.to_string(), actor.clone());
        actor
    }

    /// Gives an actor a new key pair (as a key rotation does).
    pub fn rotate_key(&self, name: &str) -> FakeActor {
        let pair = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
        let mut inner = self.lock();
        let actor = inner.actors.get_mut(name).unwrap();
        actor.private_pem = pair.private_key;
        actor.public_pem = pair.public_key;
        actor.clone()
    }

    /// Serves `document` at `/notes/{name}`; returns its URL.
    pub fn add_note(&self, name: &str, document: Value) -> String {
        self.lock().notes.insert(name.to_string(), document);
        format!("{}/notes/{name}", self.base)
    }

    /// Serves `document` as it is at `path`, ahead of anything generated
    /// there; POSTs to paths without a route are recorded as inbox POSTs.
    pub fn serve(&self, path: &str, document: Value) {
        self.lock().documents.insert(path.to_string(), document);
    }

    /// Serves `body` as a file of type `content_type` at `path`; an empty
    /// `content_type` sends none.
    pub fn serve_file(&self, path: &str, content_type: &str, body: &str) {
        self.serve_bytes(path, content_type, body.as_bytes().to_vec());
    }

    /// Serves `body` (any bytes) as a file of type `content_type` at
    /// `path`; returns its URL.
    pub fn serve_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> String {
        self.lock().files.insert(
            path.to_string(),
            (content_type.to_string(), Bytes::from(body)),
        );
        format!("{}{path}", self.base)
    }

    /// How many GETs the file at `path` had.
    pub fn file_fetches(&self, path: &str) -> usize {
        self.lock().file_fetches.get(path).copied().unwrap_or(0)
    }

    /// Files take this long to answer (a slow server).
    pub fn set_file_delay(&self, delay: std::time::Duration) {
        self.lock().file_delay = delay;
    }

    /// The actor's document names these avatar (`icon`) and header
    /// (`image`) URLs.
    pub fn set_images(&self, name: &str, avatar: Option<&str>, header: Option<&str>) {
        self.lock().images.insert(
            name.to_string(),
            (avatar.map(String::from), header.map(String::from)),
        );
    }

    /// The actor's document carries these properties (an object: `name`,
    /// `summary`, `tag` ...) over the generated ones.
    pub fn set_profile(&self, name: &str, properties: Value) {
        let Value::Object(map) = properties else {
            panic!("profile properties are an object");
        };
        self.lock().profiles.insert(name.to_string(), map);
    }

    /// The actor's document as it is served now.
    pub fn actor_document(&self, name: &str) -> Value {
        let inner = self.lock();
        let actor = inner.actors.get(name).expect("a fake actor");
        let mut doc = document(actor, &self.domain, inner.shared_inbox);
        for (key, value) in inner.profiles.get(name).into_iter().flatten() {
            doc[key] = value.clone();
        }
        doc
    }

    /// Stops serving the file at `path` (GETs answer 404).
    pub fn remove_file(&self, path: &str) {
        self.lock().files.remove(path);
    }

    /// GETs of `path` answer 302 with `location`.
    pub fn redirect(&self, path: &str, location: &str) {
        self.lock()
            .redirects
            .insert(path.to_string(), location.to_string());
    }

    /// The URL a note is (or would be) served at.
    pub fn note_url(&self, name: &str) -> String {
        format!("{}/notes/{name}", self.base)
    }

    pub fn set_quirk(&self, name: &str, quirk: Quirk) {
        self.lock().quirks.insert(name.to_string(), quirk);
    }

    pub fn clear_quirk(&self, name: &str) {
        self.lock().quirks.remove(name);
    }

    pub fn set_gone(&self, name: &str) {
        self.lock().gone.insert(name.to_string());
    }

    /// Inbox POSTs to `path` get this answer.
    pub fn answer_path(&self, path: &str, status: u16, retry_after: Option<&str>) {
        self.lock()
            .by_path
            .insert(path.to_string(), (status, retry_after.map(String::from)));
    }

    /// Inbox POSTs take this long to answer.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.lock().delay = delay;
    }

    /// Actor documents take this long to answer (a slow server).
    pub fn set_actor_delay(&self, delay: std::time::Duration) {
        self.lock().actor_delay = delay;
    }

    /// The most inbox POSTs that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Inbox POSTs being answered now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Answers inbox POSTs signed with RFC 9421 with 401 (they are
    /// recorded all the same), as a server that speaks only draft-cavage.
    pub fn refuse_rfc9421(&self) {
        self.lock().refuse_rfc9421 = true;
    }

    pub fn set_default_status(&self, status: u16) {
        self.lock().default_status = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    pub fn actor_fetches(&self) -> usize {
        self.lock().actor_fetches
    }

    /// The headers of a POST of `body` to `url`, signed by `actor`.
    pub fn sign(&self, actor: &FakeActor, url: &str, body: &[u8]) -> Vec<(&'static str, String)> {
        self.sign_at(actor, url, body, chrono::Utc::now())
    }

    /// Signs as of `now` (for a receiver whose clock was moved).
    pub fn sign_at(
        &self,
        actor: &FakeActor,
        url: &str,
        body: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(&'static str, String)> {
        let key = SigningKey::from_pkcs8_pem(&actor.key_id, &actor.private_pem).unwrap();
        sign_request("POST", &Url::parse(url).unwrap(), Some(body), &key, now)
    }

    /// `sign_at` with an RFC 9421 signature (`Signature-Input`,
    /// `Signature`, `Content-Digest`), as Mastodon 4.5 signs.
    pub fn sign_rfc9421_at(
        &self,
        actor: &FakeActor,
        url: &str,
        body: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(&'static str, String)> {
        let key = SigningKey::from_pkcs8_pem(&actor.key_id, &actor.private_pem).unwrap();
        rfc9421::sign_request("POST", &Url::parse(url).unwrap(), Some(body), &key, now)
    }
}

type Shared = (Arc<Mutex<Inner>>, String);

fn ap(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/activity+json")],
        value.to_string(),
    )
        .into_response()
}

fn document(actor: &FakeActor, domain: &str, shared_inbox: bool) -> Value {
    let public_key = json!({
        "id": actor.key_id, "owner": actor.id, "publicKeyPem": actor.public_pem
    });
    let mut document = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor.id,
        "type": "Person",
        "preferredUsername": actor.name,
        "name": format!("{} of {domain}", actor.name),
        "summary": "<p>A fake account <script>alert(1)</script></p>",
        "inbox": format!("{}/inbox", actor.id),
        "outbox": format!("{}/outbox", actor.id),
        "followers": format!("{}/followers", actor.id),
        "publicKey": public_key,
    });
    if shared_inbox {
        document["endpoints"] = json!({ "sharedInbox": format!("http://{domain}/inbox") });
    }
    document
}

async fn actor(State((inner, domain)): State<Shared>, Path(name): Path<String>) -> Response {
    let delay = {
        let mut inner = inner.lock().unwrap();
        inner.actor_fetches += 1;
        inner.actor_delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let inner = inner.lock().unwrap();
    if inner.gone.contains(&name) {
        return StatusCode::GONE.into_response();
    }
    let Some(actor) = inner.actors.get(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut doc = document(actor, &domain, inner.shared_inbox);
    if let Some((avatar, header)) = inner.images.get(&name) {
        if let Some(avatar) = avatar {
            doc["icon"] = json!({"type": "Image", "mediaType": "image/png", "url": avatar});
        }
        if let Some(header) = header {
            doc["image"] = json!({"type": "Image", "mediaType": "image/png", "url": header});
        }
    }
    for (key, value) in inner.profiles.get(&name).into_iter().flatten() {
        doc[key] = value.clone();
    }
    match inner.quirks.get(&name) {
        None => ap(doc),
        Some(Quirk::WrongId) => {
            doc["id"] = json!(format!("{}-other", actor.id));
            ap(doc)
        }
        Some(Quirk::Html) => {
            ([(header::CONTENT_TYPE, "text/html")], doc.to_string()).into_response()
        }
        Some(Quirk::PlainJson) => (
            [(header::CONTENT_TYPE, "application/json")],
            doc.to_string(),
        )
            .into_response(),
        Some(Quirk::Huge) => {
            doc["summary"] = json!("x".repeat(2 * 1024 * 1024));
            ap(doc)
        }
        Some(Quirk::ServerError) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// GETs of a path given to [`FakeServer::serve`] answer its document.
async fn served_document(
    State((inner, _)): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::GET {
        let (document, redirect, file, file_delay) = {
            let mut inner = inner.lock().unwrap();
            let path = request.uri().path().to_string();
            if inner.files.contains_key(&path) {
                *inner.file_fetches.entry(path.clone()).or_default() += 1;
            }
            (
                inner.documents.get(&path).cloned(),
                inner.redirects.get(&path).cloned(),
                inner.files.get(&path).cloned(),
                inner.file_delay,
            )
        };
        if let Some((content_type, body)) = file {
            if !file_delay.is_zero() {
                tokio::time::sleep(file_delay).await;
            }
            let mut response = body.into_response();
            response.headers_mut().remove(header::CONTENT_TYPE);
            if !content_type.is_empty() {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            }
            return response;
        }
        if let Some(location) = redirect {
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
        if let Some(document) = document {
            return ap(document);
        }
    }
    next.run(request).await
}

/// Paths without a route: inboxes of fixture actors take POSTs; the rest is
/// not found.
async fn elsewhere(
    state: State<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST {
        inbox(state, uri, headers, body).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn note(State((inner, _)): State<Shared>, Path(name): Path<String>) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.actor_fetches += 1;
    match inner.notes.get(&name) {
        Some(note) => ap(note.clone()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn key(State((inner, _)): State<Shared>, Path(name): Path<String>) -> Response {
    let inner = inner.lock().unwrap();
    match inner.actors.get(&name).filter(|a| a.slash_key) {
        Some(actor) => ap(json!({
            "@context": "https://w3id.org/security/v1",
            "id": actor.key_id, "owner": actor.id, "publicKeyPem": actor.public_pem
        })),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn webfinger(
    State((inner, domain)): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    let resource = query.get("resource").cloned().unwrap_or_default();
    let name = resource
        .strip_prefix("acct:")
        .and_then(|r| r.strip_suffix(&format!("@{domain}")))
        .unwrap_or_default();
    match inner.actors.get(name) {
        Some(actor) => (
            [(header::CONTENT_TYPE, "application/jrd+json")],
            json!({
                "subject": resource,
                "links": [{ "rel": "self", "type": "application/activity+json", "href": actor.id }]
            })
            .to_string(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// One inbox POST being answered.
struct InFlight(Arc<Mutex<Inner>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.0.lock() {
            inner.in_flight -= 1;
        }
    }
}

async fn inbox(
    State((inner, _)): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = {
        let mut inner = inner.lock().unwrap();
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        inner.delay
    };
    // Counted out when answered, or when the request is dropped half way
    // (its sender went away).
    let flight = InFlight(inner.clone());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    drop(flight);
    let mut inner = inner.lock().unwrap();
    inner.received.push(Received {
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body,
    });
    let by_path = inner.by_path.get(uri.path()).cloned();
    let (mut status, retry_after) = by_path.unwrap_or((inner.default_status, None));
    if inner.refuse_rfc9421
        && inner
            .received
            .last()
            .is_some_and(|r| r.headers.contains_key("signature-input"))
    {
        status = 401;
    }
    let mut response = StatusCode::from_u16(status).unwrap().into_response();
    if let Some(retry_after) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after.parse().unwrap());
    }
    response
}
