//! The streaming API over real WebSockets and server-sent events: what a
//! connection receives when a followed account on another instance posts
//! and favourites, what public and hashtag streams keep out, visibility,
//! deletes and edits, scopes, and a clean close at shutdown.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message as Frame};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::{Options, TestApp};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a message that should come.
const WAIT: Duration = Duration::from_secs(15);

/// Opens `/api/v1/streaming` with `query`, the token in the Authorization
/// header.
async fn connect(app: &TestApp, token: &str, query: &str) -> Socket {
    connect_to(app.addr, token, query).await
}

pub async fn connect_to(addr: std::net::SocketAddr, token: &str, query: &str) -> Socket {
    let url = format!("ws://{addr}/api/v1/streaming?{query}");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket opens");
    assert_eq!(response.status(), 101);
    socket
}

/// The next JSON text message (pings are skipped).
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message arrives in time")
            .expect("the socket is open")
            .expect("a frame");
        match frame {
            Frame::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Frame::Ping(_) | Frame::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The payload of an `update`-like message, parsed (it is a string).
pub fn payload(message: &Value) -> Value {
    serde_json::from_str(message["payload"].as_str().expect("a string payload")).unwrap()
}

async fn subscribe(socket: &mut Socket, stream: &str) {
    let command = json!({"type": "subscribe", "stream": stream}).to_string();
    socket.send(Frame::Text(command.into())).await.unwrap();
}

/// `follower` (a token on `from`) follows `user` on `to`, and the follow is
/// accepted.
pub async fn follow(from: &TestApp, follower: &str, to: &TestApp, user: &str) {
    let (status, found) = from
        .api_get(
            follower,
            &format!(
                "/api/v2/search?q=%40{}&resolve=true&type=accounts",
                to.handle(user)
            ),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let id = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (status, relationship) = from
        .api_post(
            follower,
            &format!("/api/v1/accounts/{id}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{relationship}");
    from.deliver().await;
    to.deliver().await;
    let (_, relationships) = from
        .api_get(
            follower,
            &format!("/api/v1/accounts/relationships?id[]={id}"),
        )
        .await;
    assert_eq!(relationships[0]["following"], true, "{relationships}");
}

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{created}");
    created
}

#[tokio::test]
async fn the_user_stream_shows_a_followed_remote_post_and_its_authors_favourite() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    follow(&alpha, &alice, &beta, "bob").await;
    follow(&beta, &bob, &alpha, "alice").await;
    let mut stream = connect(&alpha, &alice, "stream=user").await;

    let written = post(&beta, &bob, json!({"status": "Fresh from beta"})).await;
    beta.deliver().await;
    let message = next(&mut stream).await;
    assert_eq!(message["stream"], json!(["user"]));
    assert_eq!(message["event"], "update");
    let status = payload(&message);
    assert_eq!(status["uri"], written["uri"]);
    assert_eq!(status["account"]["acct"], beta.handle("bob"));
    assert!(
        status["content"]
            .as_str()
            .unwrap()
            .contains("Fresh from beta")
    );
    // Presented for alice: her own flags are there, and the id is alpha's.
    assert_eq!(status["favourited"], false);
    let stored = alpha.post(written["uri"].as_str().unwrap()).await;
    assert_eq!(status["id"], stored.id.to_string());

    // Alice's own post enters her home timeline too.
    let mine = post(&alpha, &alice, json!({"status": "Hello bob"})).await;
    let message = next(&mut stream).await;
    assert_eq!(message["event"], "update");
    assert_eq!(payload(&message)["id"], mine["id"]);

    // Bob favourites it from beta; alice is told as the Like arrives.
    alpha.deliver().await;
    let (_, home) = beta.api_get(&bob, "/api/v1/timelines/home").await;
    let on_beta = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == mine["uri"])
        .unwrap_or_else(|| panic!("alice's post reached beta: {home}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = beta
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{on_beta}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    beta.deliver().await;
    let message = next(&mut stream).await;
    assert_eq!(message["stream"], json!(["user"]));
    assert_eq!(message["event"], "notification");
    let notification = payload(&message);
    assert_eq!(notification["type"], "favourite");
    assert_eq!(notification["account"]["acct"], beta.handle("bob"));
    assert_eq!(notification["status"]["id"], mine["id"]);
    let stored: (i64, String) =
        sqlx::query_as("select id, kind from notifications where post_id = $1")
            .bind(mine["id"].as_str().unwrap().parse::<i64>().unwrap())
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(notification["id"], stored.0.to_string());
    assert_eq!(stored.1, "favourite");
}

#[tokio::test]
async fn public_local_keeps_remote_posts_out_and_public_remote_keeps_them() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let bob = beta.token("bob").await;
    // Alice's follow brings bob's posts to alpha.
    follow(&alpha, &alice, &beta, "bob").await;

    // Carol watches with no stream at first, then subscribes on the socket.
    let mut stream = connect(&alpha, &carol, "").await;
    subscribe(&mut stream, "public:local").await;
    subscribe(&mut stream, "public:remote").await;
    // An answer on the socket shows the subscriptions were read.
    socket_roundtrip(&mut stream).await;

    let remote = post(&beta, &bob, json!({"status": "From afar"})).await;
    beta.deliver().await;
    let message = next(&mut stream).await;
    assert_eq!(message["stream"], json!(["public:remote"]), "{message}");
    assert_eq!(payload(&message)["uri"], remote["uri"]);
    alpha.post(remote["uri"].as_str().unwrap()).await;

    let local = post(&alpha, &alice, json!({"status": "From here"})).await;
    let message = next(&mut stream).await;
    assert_eq!(message["stream"], json!(["public:local"]), "{message}");
    assert_eq!(payload(&message)["id"], local["id"]);
}

/// Sends an unknown stream name and reads the error it causes: everything
/// sent before it has been read by the server.
async fn socket_roundtrip(socket: &mut Socket) {
    subscribe(socket, "no-such-stream").await;
    let error = next(socket).await;
    assert_eq!(
        error,
        json!({"error": "Unknown stream type", "status": 400})
    );
}

#[tokio::test]
async fn a_followers_only_post_reaches_followers_and_no_one_else() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    follow(&alpha, &carol, &alpha, "alice").await;
    let mut follower = connect(&alpha, &carol, "stream=user").await;
    let mut stranger = connect(&alpha, &dave, "stream=user").await;
    subscribe(&mut stranger, "public").await;
    socket_roundtrip(&mut stranger).await;

    let private = post(
        &alpha,
        &alice,
        json!({"status": "for my followers", "visibility": "private"}),
    )
    .await;
    let public = post(&alpha, &alice, json!({"status": "for everyone"})).await;

    let first = next(&mut follower).await;
    assert_eq!(payload(&first)["id"], private["id"]);
    assert_eq!(payload(&first)["visibility"], "private");
    assert_eq!(payload(&next(&mut follower).await)["id"], public["id"]);
    // Dave's first message is the public post: the private one never came.
    let first = next(&mut stranger).await;
    assert_eq!(first["stream"], json!(["public"]));
    assert_eq!(payload(&first)["id"], public["id"]);
}

#[tokio::test]
async fn a_followed_hashtag_streams_its_public_posts_to_the_user_stream() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let (status, _) = alpha
        .api_post(&carol, "/api/v1/tags/rust/follow", json!({}))
        .await;
    assert_eq!(status, 200);
    let mut stream = connect(&alpha, &carol, "stream=user").await;
    socket_roundtrip(&mut stream).await;

    post(
        &alpha,
        &alice,
        json!({"status": "quiet #rust", "visibility": "unlisted"}),
    )
    .await;
    post(&alpha, &alice, json!({"status": "no hashtag"})).await;
    let public = post(&alpha, &alice, json!({"status": "loud #Rust"})).await;
    // Carol follows no one: her first update is the public tagged post.
    let first = next(&mut stream).await;
    assert_eq!(first["event"], "update");
    assert_eq!(payload(&first)["id"], public["id"]);
}

#[tokio::test]
async fn edits_and_deletes_are_streamed_to_those_who_saw_the_post() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    follow(&alpha, &carol, &alpha, "alice").await;
    let mut stream = connect(&alpha, &carol, "stream=hashtag&tag=Rust").await;
    subscribe(&mut stream, "user").await;
    socket_roundtrip(&mut stream).await;

    let written = post(&alpha, &alice, json!({"status": "I like #rust"})).await;
    let id = written["id"].as_str().unwrap();
    // One message per stream that shows it.
    let mut streams = vec![next(&mut stream).await, next(&mut stream).await]
        .into_iter()
        .map(|m| {
            assert_eq!(m["event"], "update");
            m["stream"].clone()
        })
        .collect::<Vec<_>>();
    streams.sort_by_key(|s| s.to_string());
    assert_eq!(streams, vec![json!(["hashtag", "rust"]), json!(["user"])]);

    let (status, _, _) = alpha
        .api(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice),
            Some(json!({"status": "I love #rust"})),
        )
        .await;
    assert_eq!(status, 200);
    let edited = next(&mut stream).await;
    assert_eq!(edited["event"], "status.update");
    assert!(
        payload(&edited)["content"]
            .as_str()
            .unwrap()
            .contains("love")
    );
    assert!(payload(&edited)["edited_at"].is_string());
    next(&mut stream).await;

    let (status, _, _) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let mut deletes = vec![next(&mut stream).await, next(&mut stream).await];
    deletes.sort_by_key(|m| m["stream"].to_string());
    for message in &deletes {
        assert_eq!(message["event"], "delete");
        assert_eq!(message["payload"], id, "the payload is the bare id");
    }
    let tombstone = skein::db::posts::find_by_id(&alpha.db, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(tombstone.deleted_at.is_some());
}

#[tokio::test]
async fn notifications_need_the_notifications_scope_and_bad_tokens_are_refused() {
    let alpha = TestApp::spawn().await;
    let created = alpha.create_user("alice").await;
    // A token that may read statuses but not notifications.
    let raw = "statuses-only-token";
    skein::db::oauth::insert_token(
        &alpha.db,
        &skein::service::oauth::digest(raw),
        None,
        Some(created.user.id),
        "read:statuses",
        skein::clock::Clock::now(&*alpha.clock),
    )
    .await
    .unwrap();
    let mut stream = connect(&alpha, raw, "").await;
    subscribe(&mut stream, "user:notification").await;
    let error = next(&mut stream).await;
    assert_eq!(
        error,
        json!({"error": "Access token does not have the required scopes", "status": 401})
    );

    let url = format!(
        "ws://{}/api/v1/streaming?stream=user&access_token=nope",
        alpha.addr
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("a bad token is refused: {other:?}"),
    }
    // Without an upgrade the endpoint says streaming is served here (404).
    let (status, _, _) = alpha
        .api(Method::GET, "/api/v1/streaming", Some(raw), None)
        .await;
    assert_eq!(status, 404);
    let health = alpha.get("/api/v1/streaming/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "OK");
}

#[tokio::test]
async fn a_token_in_the_websocket_protocol_header_is_accepted_and_echoed() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    let alice = alpha.token("alice").await;
    let url = format!("ws://{}/api/v1/streaming?stream=user", alpha.addr);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&alice).unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        alice.as_str(),
        "browsers close sockets whose protocol is not echoed"
    );
    let mine = post(&alpha, &alice, json!({"status": "hi"})).await;
    assert_eq!(payload(&next(&mut socket).await)["id"], mine["id"]);
}

#[tokio::test]
async fn the_server_sent_event_stream_carries_the_same_updates() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    let alice = alpha.token("alice").await;
    let mut response = alpha
        .client
        .get(alpha.url("/api/v1/streaming/public/local"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mine = post(&alpha, &alice, json!({"status": "over SSE"})).await;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(WAIT, response.chunk())
            .await
            .expect("an event arrives in time")
            .unwrap()
            .expect("the stream is open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let event = text.split("\n\n").next().unwrap();
    assert!(event.starts_with("event: update\n"), "{event}");
    let data = event.split("data: ").nth(1).unwrap();
    let status: Value = serde_json::from_str(data).unwrap();
    assert_eq!(status["id"], mine["id"]);
}

#[tokio::test]
async fn connections_are_closed_cleanly_when_the_server_stops() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    let alice = alpha.token("alice").await;
    let mut socket = connect(&alpha, &alice, "stream=user").await;
    let mut sse = alpha
        .client
        .get(alpha.url("/api/v1/streaming/user"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    tokio::time::timeout(WAIT, alpha.stop())
        .await
        .expect("open streams do not hold the server up");
    let frame = tokio::time::timeout(WAIT, socket.next())
        .await
        .expect("the socket hears of it")
        .unwrap()
        .unwrap();
    match frame {
        Frame::Close(Some(close)) => assert_eq!(u16::from(close.code), 1001),
        other => panic!("a close frame: {other:?}"),
    }
    let end = tokio::time::timeout(WAIT, sse.chunk())
        .await
        .expect("the SSE body ends");
    assert!(matches!(end, Ok(None)), "{end:?}");
}

#[tokio::test]
async fn a_committed_change_reaches_every_process_and_a_rolled_back_one_none() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    let alice = alpha.token("alice").await;
    // A second Skein process on the same database.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let second = skein::app::Application::build_with_clock(
        alpha.config.clone(),
        alpha.db.clone(),
        listener,
        alpha.clock.clone(),
    )
    .await
    .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(second.run_until_stopped(shutdown.clone()));
    let mut socket = connect_to(addr, &alice, "stream=user").await;

    // A post written and rolled back announces nothing.
    let author = alpha.local("alice").await;
    let mut tx = alpha.db.begin().await.unwrap();
    let now = skein::clock::Clock::now(&*alpha.clock);
    let ap_id = alpha.url("/users/alice/statuses/rolled-back");
    skein::db::posts::insert(
        &mut tx,
        &skein::db::posts::NewPost {
            id: None,
            ap_id: &ap_id,
            author_id: author.id,
            url: None,
            content: "<p>never</p>",
            source: None,
            summary: "",
            sensitive: false,
            language: None,
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to_ap_id: None,
            published: now,
            quote_policy: Default::default(),
            reply_policy: Default::default(),
            interaction_policy: None,
        },
        &[],
        &[],
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();

    // A post made through the first process reaches the second's socket.
    let committed = post(&alpha, &alice, json!({"status": "seen everywhere"})).await;
    let message = next(&mut socket).await;
    assert_eq!(payload(&message)["id"], committed["id"], "{message}");
    let stored: i64 = sqlx::query_scalar("select count(*) from posts where ap_id = $1")
        .bind(&ap_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_list_stream_carries_its_members_posts_and_the_direct_stream_conversations() {
    let app = TestApp::spawn().await;
    for name in ["alice", "carol", "dave"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;
    let carol_id = app.local("carol").await.id.to_string();
    let dave_id = app.local("dave").await.id.to_string();
    for id in [&carol_id, &dave_id] {
        app.api_post(&alice, &format!("/api/v1/accounts/{id}/follow"), json!({}))
            .await;
    }
    let (_, list) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": "friends"}))
        .await;
    let list_id = list["id"].as_str().unwrap();
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v1/lists/{list_id}/accounts"),
            json!({"account_ids": [carol_id]}),
        )
        .await;
    assert_eq!(status, 200);

    let mut socket = connect(&app, &alice, &format!("stream=list&list={list_id}")).await;
    let mut direct = connect(&app, &alice, "stream=direct").await;
    socket_roundtrip(&mut socket).await;
    socket_roundtrip(&mut direct).await;
    post(&app, &dave, json!({"status": "not on the list"})).await;
    let from_carol = post(&app, &carol, json!({"status": "on the list"})).await;
    let message = next(&mut socket).await;
    assert_eq!(message["stream"], json!(["list", list_id]));
    assert_eq!(message["event"], "update");
    assert_eq!(
        payload(&message)["id"],
        from_carol["id"],
        "dave's post never came"
    );

    let dm = post(
        &app,
        &carol,
        json!({"status": format!("@{} psst", "alice"), "visibility": "direct"}),
    )
    .await;
    let message = next(&mut direct).await;
    assert_eq!(message["stream"], json!(["direct"]));
    assert_eq!(message["event"], "conversation");
    let conversation = payload(&message);
    assert_eq!(conversation["last_status"]["id"], dm["id"]);
    assert_eq!(conversation["accounts"][0]["acct"], "carol");
    assert_eq!(conversation["unread"], true);

    // Someone else's list shows nothing to dave.
    let mut theirs = connect(&app, &dave, &format!("stream=list&list={list_id}")).await;
    socket_roundtrip(&mut theirs).await;
    post(&app, &carol, json!({"status": "again"})).await;
    let message = next(&mut socket).await;
    assert_eq!(payload(&message)["content"], "<p>again</p>");
    socket_roundtrip(&mut theirs).await;
}
