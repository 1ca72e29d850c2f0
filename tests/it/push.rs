//! Web Push as an app uses it: the subscription API, and pushes that reach
//! a push service on the test network, decrypted here with the
//! subscription's own keys and checked for a VAPID token signed by the
//! instance; alerts and policy; an expired endpoint; retries.

use std::sync::{Arc, Mutex};

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::signature::{self, ECDSA_P256_SHA256_FIXED};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

/// A push service at `push.test:<port>`: records what it is sent and
/// answers with the status it is told.
struct PushService {
    base: String,
    seen: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    answer: Arc<Mutex<u16>>,
    _task: tokio::task::JoinHandle<()>,
}

type Shared = (Arc<Mutex<Vec<(HeaderMap, Bytes)>>>, Arc<Mutex<u16>>);

async fn record(
    State((seen, answer)): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    seen.lock().unwrap().push((headers, body));
    StatusCode::from_u16(*answer.lock().unwrap()).unwrap()
}

impl PushService {
    async fn spawn() -> PushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(201));
        let app = Router::new()
            .fallback(record)
            .with_state((seen.clone(), answer.clone()));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        PushService {
            base: format!("http://push.test:{port}"),
            seen,
            answer,
            _task: task,
        }
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        self.seen.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        *self.answer.lock().unwrap() = status;
    }
}

/// A browser's side of a subscription: its P-256 key pair and auth secret.
struct Device {
    private: PrivateKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

impl Device {
    fn new() -> Device {
        let private = PrivateKey::generate(&ECDH_P256).unwrap();
        let public = private.compute_public_key().unwrap().as_ref().to_vec();
        Device {
            private,
            public,
            auth: *b"sixteen byte key",
        }
    }

    fn keys(&self) -> Value {
        json!({"p256dh": B64.encode(&self.public), "auth": B64.encode(self.auth)})
    }

    fn shared_secret(&self, sender_public: &[u8]) -> Vec<u8> {
        agreement::agree(
            &self.private,
            UnparsedPublicKey::new(&ECDH_P256, sender_public),
            (),
            |secret| Ok(secret.to_vec()),
        )
        .unwrap()
    }

    /// RFC 8291 §3.4 and RFC 8188 §2, read back.
    fn open_aes128gcm(&self, body: &[u8]) -> Value {
        let salt = &body[..16];
        assert_eq!(u32::from_be_bytes(body[16..20].try_into().unwrap()), 4096);
        let id_len = body[20] as usize;
        let sender = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        let shared = self.shared_secret(sender);
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public);
        info.extend_from_slice(sender);
        let ikm = hkdf(&self.auth, &shared, &info, 32);
        let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
        let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);
        let mut plain = open(&cek, &nonce, ciphertext);
        // The last record ends with the delimiter 2, then any padding zeros.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last-record delimiter");
        serde_json::from_slice(&plain).unwrap()
    }

    /// draft-ietf-webpush-encryption-04: salt and key in the headers.
    fn open_aesgcm(&self, headers: &HeaderMap, body: &[u8]) -> Value {
        let param = |header: &str, name: &str| -> Vec<u8> {
            let value = headers[header].to_str().unwrap();
            let found = value
                .split([';', ','])
                .find_map(|p| p.trim().strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{header} has {name}: {value}"));
            B64.decode(found).unwrap()
        };
        let salt = param("encryption", "salt");
        let sender = param("crypto-key", "dh");
        let shared = self.shared_secret(&sender);
        let ikm = hkdf(&self.auth, &shared, b"Content-Encoding: auth\0", 32);
        let mut context = b"P-256\0".to_vec();
        for key in [self.public.as_slice(), sender.as_slice()] {
            context.extend_from_slice(&(key.len() as u16).to_be_bytes());
            context.extend_from_slice(key);
        }
        let cek = hkdf(
            &salt,
            &ikm,
            &[&b"Content-Encoding: aesgcm\0"[..], &context].concat(),
            16,
        );
        let nonce = hkdf(
            &salt,
            &ikm,
            &[&b"Content-Encoding: nonce\0"[..], &context].concat(),
            12,
        );
        let plain = open(&cek, &nonce, body);
        let padding = u16::from_be_bytes([plain[0], plain[1]]) as usize;
        serde_json::from_slice(&plain[2 + padding..]).unwrap()
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    struct Len(usize);
    impl KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len)).unwrap();
    let mut out = vec![0; len];
    okm.fill(&mut out).unwrap();
    out
}

fn open(cek: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, cek).unwrap());
    let mut in_out = ciphertext.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).unwrap(),
            Aad::empty(),
            &mut in_out,
        )
        .expect("the push decrypts with the device's keys");
    plain.to_vec()
}

/// Checks a VAPID token against the instance's public key and returns its
/// claims.
fn verify_vapid(token: &str, server_key: &str) -> Value {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let key = B64.decode(server_key).unwrap();
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
        .verify(input.as_bytes(), &B64.decode(signature).unwrap())
        .expect("the VAPID token is signed with the instance's key");
    let (header, claims) = input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap()
}

async fn subscribe(
    app: &TestApp,
    token: &str,
    endpoint: &str,
    device: &Device,
    extra: Value,
) -> Value {
    let mut body = json!({
        "subscription": {"endpoint": endpoint, "keys": device.keys(), "standard": true},
        "data": {"alerts": {"favourite": true, "mention": true}},
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    let (status, subscription) = app.api_post(token, "/api/v1/push/subscription", body).await;
    assert_eq!(status, 200, "{subscription}");
    subscription
}

async fn post(app: &TestApp, token: &str, text: &str) -> String {
    let (status, created) = app
        .api_post(token, "/api/v1/statuses", json!({"status": text}))
        .await;
    assert_eq!(status, 200, "{created}");
    created["id"].as_str().unwrap().to_string()
}

async fn favourite(app: &TestApp, token: &str, id: &str) {
    let (status, _) = app
        .api_post(
            token,
            &format!("/api/v1/statuses/{id}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
}

async fn pushes(app: &TestApp) -> Vec<(String, i32)> {
    sqlx::query_as("select state, attempts from push_deliveries order by id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_subscription_api_keeps_one_subscription_per_token() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let device = Device::new();
    let (status, _) = app.api_get(&alice, "/api/v1/push/subscription").await;
    assert_eq!(status, 404);

    // Form-encoded, as most apps send it.
    let form = format!(
        "subscription[endpoint]=https%3A%2F%2Fpush.test%2Fa&subscription[keys][p256dh]={}&subscription[keys][auth]={}&data[alerts][mention]=true&data[alerts][follow]=0&data[policy]=followed",
        B64.encode(&device.public),
        B64.encode(device.auth)
    );
    let response = app
        .client
        .post(app.url("/api/v1/push/subscription"))
        .bearer_auth(&alice)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["endpoint"], "https://push.test/a");
    assert_eq!(first["standard"], false, "legacy unless asked");
    assert_eq!(first["policy"], "followed");
    assert_eq!(first["alerts"]["mention"], true);
    assert_eq!(first["alerts"]["follow"], false);
    assert_eq!(first["alerts"]["favourite"], false);
    assert!(first["id"].is_string());
    let (_, instance) = app.api_get(&alice, "/api/v2/instance").await;
    assert_eq!(
        first["server_key"],
        instance["configuration"]["vapid"]["public_key"]
    );
    assert_eq!(
        app.api_get(&alice, "/api/v1/push/subscription").await.1,
        first
    );

    // A second POST replaces the first.
    let second = subscribe(&app, &alice, "https://push.test/b", &device, json!({})).await;
    assert_ne!(second["id"], first["id"]);
    let rows: Vec<(String, Vec<String>, String)> =
        sqlx::query_as("select endpoint, alerts, policy from web_push_subscriptions")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![(
            "https://push.test/b".to_string(),
            vec!["favourite".to_string(), "mention".to_string()],
            "all".to_string()
        )]
    );

    // PUT replaces the data only.
    let (status, _, changed) = app
        .api(
            Method::PUT,
            "/api/v1/push/subscription",
            Some(&alice),
            Some(json!({"data": {"alerts": {"reblog": true}}, "policy": "none"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["id"], second["id"]);
    assert_eq!(changed["endpoint"], "https://push.test/b");
    assert_eq!(changed["alerts"]["reblog"], true);
    assert_eq!(changed["alerts"]["mention"], false);
    assert_eq!(changed["policy"], "none");

    // Bad keys are refused, and nothing changes.
    let (status, error) = app
        .api_post(
            &alice,
            "/api/v1/push/subscription",
            json!({"subscription": {"endpoint": "https://push.test/c",
                                    "keys": {"p256dh": "AAAA", "auth": B64.encode(device.auth)}}}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(
        app.api_get(&alice, "/api/v1/push/subscription").await.1["id"],
        second["id"]
    );

    let (status, _, body) = app
        .api(
            Method::DELETE,
            "/api/v1/push/subscription",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let left: i64 = sqlx::query_scalar("select count(*) from web_push_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_favourite_is_pushed_encrypted_for_the_device_and_signed_by_the_instance() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let service = PushService::spawn().await;
    let device = Device::new();
    let endpoint = format!("{}/push/alice", service.base);
    let subscription = subscribe(&app, &alice, &endpoint, &device, json!({})).await;

    let id = post(&app, &alice, "Push me").await;
    favourite(&app, &carol, &id).await;
    assert_eq!(pushes(&app).await, vec![("pending".to_string(), 0)]);
    assert_eq!(app.push().await, 1);

    let received = service.received();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["ttl"], "172800");
    assert_eq!(headers["urgency"], "normal");
    let authorization = headers["authorization"].to_str().unwrap();
    let (token, key) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("RFC 8292 authorization: {authorization}"));
    assert_eq!(key, subscription["server_key"].as_str().unwrap());
    let claims = verify_vapid(token, key);
    assert_eq!(
        claims["aud"],
        service.base.as_str(),
        "the endpoint's origin"
    );
    let now = skein::clock::Clock::now(&*app.clock).timestamp();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "{exp} within a day of {now}"
    );
    assert!(
        claims["sub"].as_str().unwrap().starts_with("http"),
        "{claims}"
    );

    let message = device.open_aes128gcm(body);
    let (notification_id, kind): (i64, String) =
        sqlx::query_as("select id, kind from notifications")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(message["notification_id"], notification_id);
    assert_eq!(message["notification_type"], kind);
    assert_eq!(message["access_token"], alice.as_str());
    assert_eq!(message["title"], "carol favorited your post");
    assert_eq!(message["body"], "Push me");
    assert_eq!(message["preferred_locale"], "en");
    assert!(message["icon"].as_str().unwrap().starts_with("http"));
    assert_eq!(pushes(&app).await, vec![("delivered".to_string(), 1)]);
}

#[tokio::test]
async fn a_legacy_subscription_gets_the_aesgcm_draft_encoding() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let service = PushService::spawn().await;
    let device = Device::new();
    let endpoint = format!("{}/legacy", service.base);
    let mut body = json!({"subscription": {"endpoint": endpoint, "keys": device.keys()}});
    body["data"] = json!({"alerts": {"favourite": "1"}});
    let (status, subscription) = app
        .api_post(&alice, "/api/v1/push/subscription", body)
        .await;
    assert_eq!(status, 200, "{subscription}");
    assert_eq!(subscription["standard"], false);

    let id = post(&app, &alice, "Old style").await;
    favourite(&app, &carol, &id).await;
    app.push().await;
    let (headers, body) = service.received().pop().expect("a push arrived");
    assert_eq!(headers["content-encoding"], "aesgcm");
    let token = headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("WebPush ")
        .unwrap()
        .to_string();
    let crypto_key = headers["crypto-key"].to_str().unwrap();
    let key = crypto_key
        .split(';')
        .find_map(|p| p.strip_prefix("p256ecdsa="))
        .unwrap();
    assert_eq!(key, subscription["server_key"].as_str().unwrap());
    verify_vapid(&token, key);
    let message = device.open_aesgcm(&headers, &body);
    assert_eq!(message["notification_type"], "favourite");
    assert_eq!(message["body"], "Old style");
}

#[tokio::test]
async fn alerts_and_policy_choose_what_is_pushed() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    app.create_user("dave").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;
    let service = PushService::spawn().await;
    let device = Device::new();
    let endpoint = format!("{}/push", service.base);
    // Mentions only, and only from accounts alice follows.
    subscribe(
        &app,
        &alice,
        &endpoint,
        &device,
        json!({"data": {"alerts": {"mention": true}, "policy": "followed"}}),
    )
    .await;
    let (_, found) = app
        .api_get(&alice, "/api/v1/accounts/lookup?acct=carol")
        .await;
    let carol_id = found["id"].as_str().unwrap();
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{carol_id}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    let id = post(&app, &alice, "Like me").await;
    favourite(&app, &carol, &id).await;
    post(&app, &dave, "@alice hello from a stranger").await;
    assert!(
        pushes(&app).await.is_empty(),
        "a favourite is not asked for; dave is not followed"
    );
    post(&app, &carol, "@alice hello from a friend").await;
    assert_eq!(pushes(&app).await.len(), 1);
    app.push().await;
    let (_, body) = service.received().pop().unwrap();
    let message = device.open_aes128gcm(&body);
    assert_eq!(message["notification_type"], "mention");
    assert_eq!(message["title"], "You were mentioned by carol");
    // Every notification exists; only the push was held back.
    let notified: i64 = sqlx::query_scalar(
        "select count(*) from notifications n join actors a on a.id = n.recipient_id
         where a.username = 'alice'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(notified, 3, "the favourite and two mentions");
}

#[tokio::test]
async fn an_expired_endpoint_loses_its_subscription_and_a_busy_one_is_retried() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let service = PushService::spawn().await;
    let device = Device::new();
    subscribe(
        &app,
        &alice,
        &format!("{}/busy", service.base),
        &device,
        json!({}),
    )
    .await;

    service.answer(503);
    let id = post(&app, &alice, "Retry me").await;
    favourite(&app, &carol, &id).await;
    app.push().await;
    assert_eq!(pushes(&app).await, vec![("pending".to_string(), 1)]);
    assert_eq!(app.push().await, 0, "not due before its backoff");
    app.clock.advance(chrono::Duration::minutes(5));
    service.answer(410);
    assert_eq!(app.push().await, 1);
    assert_eq!(service.received().len(), 2);
    let subscriptions: i64 = sqlx::query_scalar("select count(*) from web_push_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(subscriptions, 0, "410 Gone removes the subscription");
    assert!(pushes(&app).await.is_empty(), "and its queued pushes");
    let (status, _) = app.api_get(&alice, "/api/v1/push/subscription").await;
    assert_eq!(status, 404);
}
