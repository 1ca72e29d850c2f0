//! `/api/v1/accounts/verify_credentials` and `/update_credentials`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::http::api::params::WithFiles;
use crate::http::api::{Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::{accounts, profiles};
use crate::state::AppState;

pub(super) async fn verify_credentials(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token
        .account
        .as_ref()
        .ok_or_else(|| Error::Validation("This method requires an authenticated user".into()))?;
    if !token.scopes.allows("read:accounts") && !token.scopes.allows("profile") {
        token.require("read:accounts")?;
    }
    let presenter = Presenter::new(&state, Some(actor));
    Ok(Json(presenter.credential_account(user, actor).await?))
}

#[derive(Deserialize, Default)]
pub(super) struct CredentialsUpdate {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    discoverable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    indexable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::objects")]
    fields_attributes: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    source: Option<SourceUpdate>,
}

#[derive(Deserialize, Default)]
pub(super) struct SourceUpdate {
    privacy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
}

pub(super) async fn update_credentials(
    State(state): State<AppState>,
    token: Token,
    form: WithFiles<CredentialsUpdate>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let WithFiles {
        params: p,
        mut files,
    } = form;
    let fields = p.fields_attributes.map(|list| {
        list.into_iter()
            .map(|f| {
                let text = |k: &str| {
                    f.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                (text("name"), text("value"))
            })
            .collect()
    });
    let mut updated = profiles::update(
        &state,
        actor,
        profiles::ProfileUpdate {
            display_name: p.display_name,
            bio: p.note,
            locked: p.locked,
            discoverable: p.discoverable,
            indexable: p.indexable,
            bot: p.bot,
            fields,
            avatar: files.remove("avatar"),
            header: files.remove("header"),
            ..Default::default()
        },
    )
    .await?;
    let mut user = user.clone();
    if let Some(source) = p.source {
        let visibility = match source.privacy.as_deref() {
            None | Some("") => None,
            Some(v) => Some(
                Visibility::parse(v)
                    .ok_or_else(|| Error::Validation(format!("`{v}` is not a visibility")))?,
            ),
        };
        user = accounts::set_preferences(
            &state,
            &user,
            accounts::Preferences {
                visibility,
                sensitive: source.sensitive,
                language: source.language,
            },
        )
        .await?;
    }
    updated = accounts::by_id(&state, updated.id)
        .await?
        .unwrap_or(updated);
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(&user, &updated).await?))
}
