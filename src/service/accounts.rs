//! Local accounts: creation (actor, key pair and user in one transaction),
//! passwords and listings.

use sqlx::PgPool;

use crate::db::{self, actors::NewLocalActor, users::UserSummary};
use crate::domain::username::Username;
use crate::error::{Error, Result};
use crate::federation::urls::{Urls, main_key_id};
use crate::service::{keys, password};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
    pub role: Role,
    /// False puts the account in the approval queue.
    pub approved: bool,
    /// Fediverse sharing (the instance default comes from the config).
    pub fediverse_sharing: bool,
}

/// The account that was created.
#[derive(Debug, Clone)]
pub struct Created {
    pub actor: db::actors::Actor,
    pub user: db::users::User,
}

/// Creates a local account: its Person actor with a fresh RSA key pair and
/// its user row, in one transaction.
pub async fn create(pool: &PgPool, urls: &Urls, new: NewAccount<'_>) -> Result<Created> {
    let username = Username::parse(new.username).map_err(|e| Error::Validation(e.to_string()))?;
    let email = match new.email.map(str::trim) {
        None | Some("") => None,
        Some(e) => Some(validate_email(e)?),
    };
    password::validate(new.password)?;
    let password_hash = password::hash(new.password).await?;
    let keypair = keys::generate().await?;

    let name = username.as_str();
    let ap_id = urls.actor(name);
    let key_id = main_key_id(&ap_id);
    let (url, inbox, shared_inbox, outbox) = (
        urls.profile_page(name),
        urls.inbox(name),
        urls.shared_inbox(),
        urls.outbox(name),
    );
    let (followers, following, featured) = (
        urls.followers(name),
        urls.following(name),
        urls.featured(name),
    );

    let mut tx = pool.begin().await?;
    let actor = db::actors::insert_local(
        &mut *tx,
        &NewLocalActor {
            kind: "Person",
            username: name,
            ap_id: &ap_id,
            url: &url,
            inbox_url: &inbox,
            shared_inbox_url: &shared_inbox,
            outbox_url: &outbox,
            followers_url: Some(&followers),
            following_url: Some(&following),
            featured_url: Some(&featured),
            public_key_id: &key_id,
            public_key_pem: &keypair.public_key,
            private_key_pem: &keypair.private_key,
            manually_approves_followers: false,
        },
    )
    .await
    .map_err(|e| {
        if db::is_unique_violation(&e, db::actors::USERNAME_TAKEN)
            || db::is_unique_violation(&e, "actors_ap_id_key")
        {
            Error::Conflict(format!("the username {name} is taken"))
        } else {
            e.into()
        }
    })?;
    let user = db::users::insert(
        &mut *tx,
        actor.id,
        email.as_deref(),
        &password_hash,
        new.role.as_str(),
        new.approved,
        new.fediverse_sharing,
    )
    .await
    .map_err(|e| {
        if db::is_unique_violation(&e, db::users::EMAIL_TAKEN) {
            Error::Conflict("the e-mail address is taken".to_string())
        } else {
            e.into()
        }
    })?;
    tx.commit().await?;
    Ok(Created { actor, user })
}

/// Sets a new password; NotFound when no local user has this username.
pub async fn set_password(pool: &PgPool, username: &str, new_password: &str) -> Result<()> {
    password::validate(new_password)?;
    let hash = password::hash(new_password).await?;
    if db::users::set_password_hash(pool, username, &hash).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<UserSummary>> {
    Ok(db::users::list(pool).await?)
}

fn validate_email(email: &str) -> Result<String> {
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty() && host.contains('.') && !host.contains('@')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(Error::Validation(format!(
            "`{email}` is not an e-mail address"
        )))
    }
}
