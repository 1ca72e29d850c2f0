//! Settings: the profile (name, bio, avatar, header, up to four fields),
//! privacy (locked account, fediverse sharing, default visibility) and the
//! password. Each form saves and comes back to its page saying so; a
//! refused change comes back with the reason and what was typed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::cards::text_of;
use super::{Chrome, SignedIn, WebResult, checked, render, render_with, see_other};
use crate::domain::visibility::Visibility;
use crate::error::Error;
use crate::http::api::params::WithFiles;
use crate::http::client_ip::ClientIp;
use crate::http::session;
use crate::service::profiles::{self, MAX_FIELDS, Privacy, ProfileUpdate};
use crate::service::sessions;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    pub saved: Option<String>,
}

#[derive(Template)]
#[template(path = "web/settings_profile.html")]
struct ProfilePage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    display_name: String,
    note: String,
    avatar: String,
    /// The current header, when one was chosen.
    header: Option<String>,
    /// Whether the avatar is one of the account's own (it can be removed).
    own_avatar: bool,
    /// (index, name, value) of every field row, filled or not.
    fields: Vec<(usize, String, String)>,
    /// The account is marked as automated.
    bot: bool,
}

fn field_rows(fields: &[(String, String)]) -> Vec<(usize, String, String)> {
    (0..MAX_FIELDS)
        .map(|i| {
            let (name, value) = fields.get(i).cloned().unwrap_or_default();
            (i, name, value)
        })
        .collect()
}

/// `GET /settings/profile`
pub async fn profile_form(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<Saved>,
) -> WebResult {
    let actor = me.actor();
    let note = profiles::bio_source(&state.db, actor).await?;
    let fields: Vec<(String, String)> = actor
        .fields
        .0
        .iter()
        .map(|f| (f.name.clone(), text_of(&f.value)))
        .collect();
    render(&ProfilePage {
        section: "profile",
        saved: q.saved.is_some(),
        error: None,
        display_name: actor.display_name.clone(),
        note,
        avatar: actor
            .avatar_url
            .clone()
            .unwrap_or_else(|| crate::http::statics::url("avatar.png")),
        header: actor.header_url.clone(),
        own_avatar: actor.avatar_url.is_some(),
        fields: field_rows(&fields),
        bot: actor.kind == "Service",
        chrome: me.chrome,
    })
}

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    field_name_0: String,
    #[serde(default)]
    field_value_0: String,
    #[serde(default)]
    field_name_1: String,
    #[serde(default)]
    field_value_1: String,
    #[serde(default)]
    field_name_2: String,
    #[serde(default)]
    field_value_2: String,
    #[serde(default)]
    field_name_3: String,
    #[serde(default)]
    field_value_3: String,
    /// Checkboxes: back to the default pictures.
    #[serde(default)]
    remove_avatar: Option<String>,
    #[serde(default)]
    remove_header: Option<String>,
    /// Checkbox: an automated account.
    #[serde(default)]
    bot: Option<String>,
}

impl ProfileForm {
    fn fields(&self) -> Vec<(String, String)> {
        [
            (&self.field_name_0, &self.field_value_0),
            (&self.field_name_1, &self.field_value_1),
            (&self.field_name_2, &self.field_value_2),
            (&self.field_name_3, &self.field_value_3),
        ]
        .into_iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
    }
}

/// `POST /settings/profile` (multipart: `avatar` and `header` are files,
/// left empty to keep the current ones).
pub async fn profile(
    State(state): State<AppState>,
    me: SignedIn,
    form: Result<WithFiles<ProfileForm>, Error>,
) -> WebResult {
    let WithFiles {
        params: form,
        files,
    } = form?;
    me.check(&form.csrf_token)?;
    let picture = |name: &str| files.get(name).filter(|b| !b.is_empty()).cloned();
    let change = ProfileUpdate {
        display_name: Some(form.display_name.clone()),
        bio: Some(form.note.clone()),
        fields: Some(form.fields()),
        avatar: picture("avatar"),
        header: picture("header"),
        remove_avatar: form.remove_avatar.is_some(),
        remove_header: form.remove_header.is_some(),
        bot: Some(form.bot.is_some()),
        ..ProfileUpdate::default()
    };
    match profiles::update(&state, me.actor(), change).await {
        Ok(_) => Ok(see_other("/settings/profile?saved=1")),
        Err(e) if e.status().is_client_error() => {
            let actor = me.actor();
            let page = ProfilePage {
                section: "profile",
                saved: false,
                error: Some(e.public_message()),
                display_name: form.display_name.clone(),
                note: form.note.clone(),
                avatar: actor
                    .avatar_url
                    .clone()
                    .unwrap_or_else(|| crate::http::statics::url("avatar.png")),
                header: actor.header_url.clone(),
                own_avatar: actor.avatar_url.is_some(),
                fields: field_rows(&form.fields()),
                bot: form.bot.is_some(),
                chrome: me.chrome,
            };
            render_with(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "web/settings_privacy.html")]
struct PrivacyPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    locked: bool,
    indexable: bool,
    fediverse_sharing: bool,
    search_engine_indexing: bool,
    /// (value, label, selected)
    visibilities: Vec<(&'static str, &'static str, bool)>,
}

/// `GET /settings/privacy`
pub async fn privacy_form(me: SignedIn, Query(q): Query<Saved>) -> WebResult {
    let user = me.user();
    let selected = user.default_visibility.as_str();
    render(&PrivacyPage {
        section: "privacy",
        saved: q.saved.is_some(),
        locked: me.actor().manually_approves_followers,
        indexable: me.actor().indexable,
        fediverse_sharing: user.federating,
        search_engine_indexing: user.search_engine_indexing,
        visibilities: [
            ("public", "Public"),
            ("unlisted", "Quiet public"),
            ("private", "Followers only"),
        ]
        .into_iter()
        .map(|(v, label)| (v, label, v == selected))
        .collect(),
        chrome: me.chrome,
    })
}

#[derive(Deserialize)]
pub struct PrivacyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    locked: Option<String>,
    #[serde(default)]
    indexable: Option<String>,
    #[serde(default)]
    fediverse_sharing: Option<String>,
    #[serde(default)]
    search_engine_indexing: Option<String>,
    #[serde(default)]
    default_visibility: String,
}

/// `POST /settings/privacy`
pub async fn privacy(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<PrivacyForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let default_visibility = Visibility::parse(&form.default_visibility).ok_or_else(|| {
        Error::Validation(format!("`{}` is not a visibility", form.default_visibility))
    })?;
    let privacy = Privacy {
        locked: checked(&form.locked),
        indexable: checked(&form.indexable),
        fediverse_sharing: checked(&form.fediverse_sharing),
        search_engine_indexing: checked(&form.search_engine_indexing),
        default_visibility,
    };
    profiles::set_privacy(&state, me.user(), me.actor(), privacy).await?;
    Ok(see_other("/settings/privacy?saved=1"))
}

#[derive(Template)]
#[template(path = "web/settings_password.html")]
struct PasswordPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
}

/// `GET /settings/password`
pub async fn password_form(me: SignedIn, Query(q): Query<Saved>) -> WebResult {
    render(&PasswordPage {
        section: "password",
        saved: q.saved.is_some(),
        error: None,
        chrome: me.chrome,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /settings/password`: every other session ends; this browser
/// stays signed in with a new one.
pub async fn password(
    State(state): State<AppState>,
    me: SignedIn,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<PasswordForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let client = sessions::Client {
        ip: &ip,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    };
    match sessions::change_password(
        &state,
        &me.session,
        &form.current_password,
        &form.new_password,
        client,
    )
    .await
    {
        Ok((cookie, _)) => {
            let mut response = see_other("/settings/password?saved=1");
            response.headers_mut().append(
                header::SET_COOKIE,
                session::set_session_cookie(&state, &cookie),
            );
            Ok(response)
        }
        Err(e) if e.status().is_client_error() => {
            let status = if e.status() == StatusCode::UNAUTHORIZED {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status()
            };
            render_with(
                status,
                &PasswordPage {
                    section: "password",
                    saved: false,
                    error: Some(e.public_message()),
                    chrome: me.chrome,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
