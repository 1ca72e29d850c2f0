//! `/api/v1/push/subscription` (<https://docs.joinmastodon.org/methods/push/>):
//! one Web Push subscription per token, with the `push` scope.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::http::api::auth::BearerText;
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::entities::WebPushSubscription;
use crate::mastodon::present;
use crate::service::push::{self, Data, NewSubscription, Subscriber};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/push/subscription",
        post(create).get(show).put(update).delete(destroy),
    )
}

#[derive(Deserialize)]
struct CreateParams {
    subscription: SubscriptionParams,
    #[serde(default)]
    data: DataParams,
}

#[derive(Deserialize)]
struct SubscriptionParams {
    endpoint: String,
    keys: Keys,
    #[serde(default, deserialize_with = "lenient::bool")]
    standard: bool,
}

#[derive(Deserialize)]
struct Keys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize, Default)]
struct DataParams {
    #[serde(default)]
    alerts: HashMap<String, Value>,
    policy: Option<String>,
}

impl DataParams {
    /// The alerts set to a true value (form strings as Rails reads them:
    /// anything but "0", "f", "false", "off" and the empty string).
    fn data(self, policy: Option<String>) -> Data {
        let on = |v: &Value| match v {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
            Value::String(s) => !matches!(
                s.to_ascii_lowercase().as_str(),
                "" | "0" | "f" | "false" | "off"
            ),
            _ => false,
        };
        Data {
            alerts: self
                .alerts
                .into_iter()
                .filter(|(_, v)| on(v))
                .map(|(k, _)| k)
                .collect(),
            policy: self.policy.or(policy),
        }
    }
}

fn entity(
    state: &AppState,
    subscription: &crate::service::types::Subscription,
) -> Json<WebPushSubscription> {
    Json(present::web_push_subscription(
        subscription,
        &push::vapid_public_key(state),
    ))
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    BearerText(text): BearerText,
    Params(p): Params<CreateParams>,
) -> Result<Json<WebPushSubscription>> {
    let (_, actor) = token.user("push")?;
    let subscription = push::subscribe(
        &state,
        Subscriber {
            token_id: token.token_id,
            token: &text,
            actor,
        },
        NewSubscription {
            endpoint: &p.subscription.endpoint,
            p256dh: &p.subscription.keys.p256dh,
            auth: &p.subscription.keys.auth,
            standard: p.subscription.standard,
            data: p.data.data(None),
        },
    )
    .await?;
    Ok(entity(&state, &subscription))
}

async fn show(State(state): State<AppState>, token: Token) -> Result<Json<WebPushSubscription>> {
    token.user("push")?;
    let subscription = push::current(&state, token.token_id).await?;
    Ok(entity(&state, &subscription))
}

#[derive(Deserialize, Default)]
struct UpdateParams {
    #[serde(default)]
    data: DataParams,
    /// The documentation also names a top-level `policy`.
    policy: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<UpdateParams>,
) -> Result<Json<WebPushSubscription>> {
    token.user("push")?;
    let subscription = push::change(&state, token.token_id, p.data.data(p.policy)).await?;
    Ok(entity(&state, &subscription))
}

async fn destroy(State(state): State<AppState>, token: Token) -> Result<Json<Value>> {
    token.user("push")?;
    push::unsubscribe(&state, token.token_id).await?;
    Ok(Json(serde_json::json!({})))
}
