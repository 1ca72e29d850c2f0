//! Web Push (<https://docs.joinmastodon.org/methods/push/>): the instance's
//! VAPID key (RFC 8292), made once and kept in `instance_secrets` (apps read
//! its public half from the instance and app entities); subscriptions, one
//! per OAuth token; and what a push says. Pushes are queued with the
//! notification (`db::notifications::notify`) and sent by `jobs::push`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sqlx::PgPool;

use crate::db::{self, actors::Actor, push::Subscription};
use crate::domain::limits;
use crate::domain::notifications::NotificationKind;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::webpush;

const VAPID: &str = "vapid_p256_pkcs8";

/// The VAPID key pair (ECDSA P-256).
pub struct VapidKey {
    pub pair: EcdsaKeyPair,
    /// The uncompressed public point, base64url without padding, as apps
    /// expect `vapid_key`.
    pub public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish()
    }
}

/// Loads the instance's VAPID key, making and storing it on first start
/// (concurrent first starts agree on one key).
pub async fn load_or_create_vapid(pool: &PgPool) -> Result<VapidKey> {
    let stored: Option<Vec<u8>> = crate::db::secrets::find(pool, VAPID).await?;
    let pkcs8 = match stored {
        Some(bytes) => bytes,
        None => {
            let fresh = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|e| Error::Internal(anyhow::anyhow!("generating the VAPID key: {e}")))?;
            crate::db::secrets::insert_or_get(pool, VAPID, fresh.as_ref()).await?
        }
    };
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
        .map_err(|e| Error::Internal(anyhow::anyhow!("reading the VAPID key: {e}")))?;
    let public = B64.encode(pair.public_key().as_ref());
    Ok(VapidKey { pair, public })
}

pub fn vapid_public_key(state: &AppState) -> String {
    state.vapid.public.clone()
}

/// Notification types a subscription can ask for (Mastodon's
/// `data[alerts]`, less the admin ones Skein does not raise).
pub const ALERTS: &[&str] = &[
    "mention",
    "quote",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "quoted_update",
];

/// Whose notifications are pushed: everyone's, accounts the user follows,
/// accounts following the user, or nobody's.
pub const POLICIES: &[&str] = &["all", "followed", "follower", "none"];

/// What a client asks to be pushed (`data`): the alert types set to true,
/// and the policy (Mastodon's default is `all`).
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub alerts: Vec<String>,
    pub policy: Option<String>,
}

impl Data {
    fn checked(&self) -> Result<(Vec<String>, String)> {
        let policy = self.policy.clone().unwrap_or_else(|| "all".to_string());
        if !POLICIES.contains(&policy.as_str()) {
            return Err(Error::Validation(format!(
                "policy must be one of {}",
                POLICIES.join(", ")
            )));
        }
        let mut alerts: Vec<String> = self
            .alerts
            .iter()
            .filter(|a| ALERTS.contains(&a.as_str()))
            .cloned()
            .collect();
        alerts.sort();
        alerts.dedup();
        Ok((alerts, policy))
    }
}

/// A subscription as a client sends it (`subscription[...]`).
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
    pub standard: bool,
    pub data: Data,
}

/// The token a subscription belongs to: its id, its text (pushes carry it,
/// as Mastodon's do) and its account.
pub struct Subscriber<'a> {
    pub token_id: i64,
    pub token: &'a str,
    pub actor: &'a Actor,
}

/// Subscribes the token, replacing its earlier subscription
/// (<https://docs.joinmastodon.org/methods/push/#create>). The endpoint must
/// be a URL Skein may send to; the keys must be a P-256 point and a 16-byte
/// secret.
pub async fn subscribe(
    state: &AppState,
    who: Subscriber<'_>,
    new: NewSubscription<'_>,
) -> Result<Subscription> {
    if new.endpoint.trim().len() > limits::PUSH_ENDPOINT {
        return Err(Error::Validation(format!(
            "subscription[endpoint] has at most {} bytes",
            limits::PUSH_ENDPOINT
        )));
    }
    let endpoint = url::Url::parse(new.endpoint.trim())
        .map_err(|_| Error::Validation("subscription[endpoint] is not a URL".into()))?;
    state
        .http
        .policy()
        .check_url(&endpoint)
        .map_err(|e| Error::Validation(format!("subscription[endpoint] is refused: {e}")))?;
    let p256dh = webpush::decode_key(new.p256dh)
        .filter(|k| webpush::check_public_key(k).is_ok())
        .ok_or_else(|| {
            Error::Validation("subscription[keys][p256dh] is not a P-256 public key".into())
        })?;
    let auth = webpush::decode_key(new.auth)
        .filter(|k| webpush::check_auth_secret(k).is_ok())
        .ok_or_else(|| Error::Validation("subscription[keys][auth] is not 16 bytes".into()))?;
    let (alerts, policy) = new.data.checked()?;
    let mut tx = state.db.begin().await?;
    let subscription = db::push::replace(
        &mut tx,
        &db::push::NewSubscription {
            token_id: who.token_id,
            actor_id: who.actor.id,
            endpoint: endpoint.as_str(),
            key_p256dh: &B64.encode(p256dh),
            key_auth: &B64.encode(auth),
            standard: new.standard,
            alerts: &alerts,
            policy: &policy,
            access_token: who.token,
            now: state.clock.now(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(subscription)
}

/// The token's subscription (404 without one).
pub async fn current(state: &AppState, token_id: i64) -> Result<Subscription> {
    db::push::find_for_token(&state.db, token_id)
        .await?
        .ok_or(Error::NotFound)
}

/// Replaces what the token's subscription pushes (its endpoint and keys
/// stay).
pub async fn change(state: &AppState, token_id: i64, data: Data) -> Result<Subscription> {
    let (alerts, policy) = data.checked()?;
    db::push::update_data(&state.db, token_id, &alerts, &policy, state.clock.now())
        .await?
        .ok_or(Error::NotFound)
}

/// Removes the token's subscription, if any.
pub async fn unsubscribe(state: &AppState, token_id: i64) -> Result<()> {
    Ok(db::push::delete_for_token(&state.db, token_id).await?)
}

/// Who VAPID tokens name as the sender: the instance's contact address, or
/// its URL.
pub fn vapid_subject(state: &AppState) -> String {
    let email = state.config.instance.contact_email.trim();
    if email.is_empty() {
        state.urls.origin()
    } else {
        format!("mailto:{email}")
    }
}

/// What a push says, as Mastodon's `Web::NotificationSerializer` says it;
/// None when the notification, its account or its post is gone.
pub async fn payload(
    state: &AppState,
    subscription: &Subscription,
    notification_id: i64,
) -> Result<Option<serde_json::Value>> {
    let Some(n) = db::notifications::find_by_id(&state.db, notification_id).await? else {
        return Ok(None);
    };
    let Some(from) = db::actors::find_by_id(&state.db, n.from_actor_id).await? else {
        return Ok(None);
    };
    let post = match n.post_id {
        Some(id) => match db::posts::find_by_id(&state.db, id)
            .await?
            .filter(|p| p.deleted_at.is_none())
        {
            Some(post) => Some(post),
            None => return Ok(None),
        },
        None => None,
    };
    let locale = db::users::find_by_actor(&state.db, subscription.actor_id)
        .await?
        .and_then(|u| u.default_language)
        .unwrap_or_else(|| "en".to_string());
    let name = if from.display_name.trim().is_empty() {
        from.username.clone()
    } else {
        from.display_name.clone()
    };
    let text = match &post {
        Some(p) if !p.summary.trim().is_empty() => p.summary.clone(),
        Some(p) => strip_tags(&p.content),
        None => strip_tags(&from.summary),
    };
    let presenter = crate::mastodon::Presenter::new(state, None);
    let icon = from
        .avatar_url
        .clone()
        .unwrap_or_else(|| presenter.default_avatar());
    Ok(Some(serde_json::json!({
        "access_token": subscription.access_token,
        "preferred_locale": locale,
        // A number, as Mastodon sends it.
        "notification_id": n.id,
        "notification_type": n.kind.as_str(),
        "icon": icon,
        "title": title(n.kind, &name),
        "body": truncate(&text, 140),
    })))
}

/// Mastodon's English notification subjects.
fn title(kind: NotificationKind, name: &str) -> String {
    match kind {
        NotificationKind::Mention => format!("You were mentioned by {name}"),
        NotificationKind::Status => format!("{name} just posted"),
        NotificationKind::Reblog => format!("{name} boosted your post"),
        NotificationKind::Follow => format!("{name} is now following you"),
        NotificationKind::FollowRequest => format!("Pending follower: {name}"),
        NotificationKind::Favourite => format!("{name} favorited your post"),
        NotificationKind::Poll => format!("A poll by {name} has ended"),
        NotificationKind::Update => format!("{name} edited a post"),
        NotificationKind::Quote => format!("{name} quoted your post"),
        other => format!("{name}: {other}"),
    }
}

/// Text of sanitised HTML: tags dropped (paragraph and line breaks become
/// spaces), the entities the sanitiser writes decoded.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut tag = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (false, c) => text.push(c),
            (true, '>') => {
                in_tag = false;
                let name = tag.trim_start_matches('/').to_ascii_lowercase();
                if (name.starts_with("br") || name.starts_with('p')) && !text.ends_with(' ') {
                    text.push(' ');
                }
            }
            (true, c) => tag.push(c),
        }
    }
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, ending in "..." when cut (Rails' `truncate`).
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(3)).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_bodies_are_plain_text_cut_as_rails_cuts() {
        assert_eq!(
            strip_tags("<p>Hi <a href=\"x\">@a</a> &amp; you</p><p>next&lt;</p>"),
            "Hi @a & you next<"
        );
        let long = "x".repeat(200);
        let cut = truncate(&long, 140);
        assert_eq!(cut.chars().count(), 140);
        assert!(cut.ends_with("..."));
        assert_eq!(truncate("short", 140), "short");
    }

    #[test]
    fn unknown_policies_are_refused_and_unknown_alerts_ignored() {
        let data = Data {
            alerts: vec!["mention".into(), "admin.sign_up".into(), "mention".into()],
            policy: None,
        };
        assert_eq!(
            data.checked().expect("valid"),
            (vec!["mention".to_string()], "all".to_string())
        );
        let bad = Data {
            alerts: Vec::new(),
            policy: Some("friends".into()),
        };
        assert!(bad.checked().is_err());
    }
}
