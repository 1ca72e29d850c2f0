//! `/api/v1/streaming` (<https://docs.joinmastodon.org/methods/streaming/>):
//! the multiplexed WebSocket, the server-sent-event streams and the health
//! check. What a connection receives is decided in `streaming::subscriber`;
//! this module only carries messages.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::http::api::Token;
use crate::service::oauth;
use crate::state::AppState;
use crate::streaming::subscriber::{Message, Stream, StreamError, Subscriber};
use crate::streaming::{Event, HEARTBEAT};

type Params = HashMap<String, String>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/streaming", get(websocket))
        .route("/api/v1/streaming/", get(websocket))
        .route("/api/v1/streaming/health", get(health))
        .route("/api/v1/streaming/user", sse_of("user"))
        .route(
            "/api/v1/streaming/user/notification",
            sse_of("user:notification"),
        )
        .route("/api/v1/streaming/public", sse_of("public"))
        .route("/api/v1/streaming/public/local", sse_of("public:local"))
        .route("/api/v1/streaming/public/remote", sse_of("public:remote"))
        .route("/api/v1/streaming/hashtag", sse_of("hashtag"))
        .route("/api/v1/streaming/hashtag/local", sse_of("hashtag:local"))
        .route("/api/v1/streaming/list", sse_of("list"))
        .route("/api/v1/streaming/direct", sse_of("direct"))
}

/// The server-sent-event endpoint of one channel.
fn sse_of(channel: &'static str) -> MethodRouter<AppState> {
    get(move |s: State<AppState>, t: Token, q: Query<Params>| sse(s, t, q, channel))
}

async fn health() -> &'static str {
    "OK"
}

/// Mastodon's error body for streams: `{"error": ...}` with the status.
fn refuse(error: StreamError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(serde_json::json!({ "error": error.message }))).into_response()
}

/// The token of a WebSocket request: the `Authorization` header, the
/// `access_token` parameter, or `Sec-WebSocket-Protocol` (browsers cannot
/// set headers on WebSockets).
fn websocket_token(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    from_header
        .or_else(|| query.get("access_token").cloned())
        .or_else(|| protocol(headers))
        .filter(|t| !t.is_empty())
}

fn protocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
}

/// A user's token, with its account and scopes, or Mastodon's 401.
async fn subscriber_for(state: &AppState, token: Option<String>) -> Result<Subscriber, Response> {
    let unauthorized = |message: &str| Error::Unauthorized(message.to_string()).into_response();
    let Some(token) = token else {
        return Err(unauthorized("Missing access token"));
    };
    match oauth::authenticate(state, &token).await {
        Ok(Some(bearer)) => match bearer.account {
            Some((_, actor)) => Ok(Subscriber::new(actor, bearer.scopes)),
            None => Err(unauthorized("This method requires an authenticated user")),
        },
        Ok(None) => Err(unauthorized("Invalid access token")),
        Err(e) => Err(e.into_response()),
    }
}

/// `GET /api/v1/streaming`: a WebSocket carrying any number of streams,
/// chosen with `stream` (and `tag`) or with `subscribe` messages. A plain
/// request (no upgrade) answers 404: the API's own host serves streaming.
async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return Error::NotFound.into_response();
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let mut subscriber = match subscriber_for(&state, websocket_token(&headers, &query)).await {
        Ok(subscriber) => subscriber,
        Err(response) => return response,
    };
    if let Some(name) = query.get("stream") {
        let stream = Stream::parse(name, stream_param(&query));
        if let Err(e) = stream.and_then(|s| subscriber.subscribe(s)) {
            return refuse(e);
        }
    }
    // Subscribed before the upgrade: nothing committed after the handshake
    // is missed.
    let events = state.streams.subscribe();
    let upgrade = match protocol(&headers) {
        // Browsers drop a WebSocket whose offered protocol is not echoed.
        Some(offered) => upgrade.protocols([offered]),
        None => upgrade,
    };
    upgrade.on_upgrade(move |socket| serve_websocket(state, socket, subscriber, events))
}

/// What a client sends on the socket.
#[derive(Debug, Deserialize)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<String>,
}

/// The parameter a stream takes: a hashtag stream's `tag` or a list
/// stream's `list`.
fn stream_param(query: &std::collections::HashMap<String, String>) -> Option<&str> {
    query
        .get("tag")
        .or_else(|| query.get("list"))
        .map(String::as_str)
}

async fn serve_websocket(
    state: AppState,
    mut socket: WebSocket,
    mut subscriber: Subscriber,
    mut events: Receiver<Arc<Event>>,
) {
    let stopping = state.streams.stopping().clone();
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let close = |code: u16, reason: &'static str| {
        Frame::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            _ = stopping.cancelled() => {
                let _ = socket.send(close(1001, "the server is stopping")).await;
                break;
            }
            _ = heartbeat.tick() => {
                if socket.send(Frame::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Frame::Text(text))) => {
                    if let Err(e) = command(&mut subscriber, text.as_str()) {
                        let error = serde_json::json!({ "error": e.message, "status": e.status });
                        if socket.send(Frame::Text(error.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Frame::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(event) => {
                    let messages = match subscriber.messages(&state, &event).await {
                        Ok(messages) => messages,
                        Err(e) => {
                            tracing::warn!(error = %e, "presenting a streamed event failed");
                            continue;
                        }
                    };
                    let mut sent = true;
                    for message in messages {
                        if socket.send(Frame::Text(message.to_json().into())).await.is_err() {
                            sent = false;
                            break;
                        }
                    }
                    if !sent {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "a streaming client fell behind; disconnecting it");
                    let _ = socket.send(close(1013, "too slow; reconnect")).await;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
}

/// Applies a `subscribe` or `unsubscribe` message.
fn command(subscriber: &mut Subscriber, text: &str) -> Result<(), StreamError> {
    // Anything else on the socket is ignored, as Mastodon ignores it.
    let Ok(command) = serde_json::from_str::<Command>(text) else {
        return Ok(());
    };
    let stream = Stream::parse(
        &command.stream,
        command.tag.as_deref().or(command.list.as_deref()),
    )?;
    match command.kind.as_str() {
        "subscribe" => subscriber.subscribe(stream),
        "unsubscribe" => {
            subscriber.unsubscribe(&stream);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A server-sent-event stream for one channel (`only_media=true` turns a
/// public one into its media variant).
async fn sse(
    State(state): State<AppState>,
    token: Token,
    Query(query): Query<Params>,
    channel: &'static str,
) -> Response {
    let media = query
        .get("only_media")
        .is_some_and(|v| matches!(v.as_str(), "true" | "1"));
    let name = if media && channel.starts_with("public") {
        format!("{channel}:media")
    } else {
        channel.to_string()
    };
    let stream = match Stream::parse(&name, stream_param(&query)) {
        Ok(stream) => stream,
        Err(e) => return refuse(e),
    };
    let Some((_, actor)) = token.account.clone() else {
        return Error::Unauthorized("This method requires an authenticated user".into())
            .into_response();
    };
    let mut subscriber = Subscriber::new(actor, token.scopes.clone());
    if let Err(e) = subscriber.subscribe(stream) {
        return refuse(e);
    }
    let feed = Feed {
        events: state.streams.subscribe(),
        stopping: state.streams.stopping().clone(),
        state,
        subscriber,
        pending: VecDeque::new(),
    };
    let body = futures::stream::unfold(feed, |mut feed| async move {
        let message = feed.next().await?;
        let event = SseEvent::default()
            .event(message.event)
            .data(message.payload);
        Some((Ok::<_, Infallible>(event), feed))
    });
    Sse::new(body)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("thump"))
        .into_response()
}

/// What a server-sent-event body carries from one message to the next.
struct Feed {
    state: AppState,
    subscriber: Subscriber,
    events: Receiver<Arc<Event>>,
    stopping: CancellationToken,
    pending: VecDeque<Message>,
}

impl Feed {
    /// The next message for the client; None ends the body: the server is
    /// stopping, or the client fell too far behind (it reconnects).
    async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Some(message);
            }
            tokio::select! {
                _ = self.stopping.cancelled() => return None,
                event = self.events.recv() => match event {
                    Ok(event) => match self.subscriber.messages(&self.state, &event).await {
                        Ok(messages) => self.pending.extend(messages),
                        Err(e) => tracing::warn!(error = %e, "presenting a streamed event failed"),
                    },
                    Err(_) => return None,
                },
            }
        }
    }
}
