//! Discovery: which local actor a WebFinger resource names, and the usage
//! figures NodeInfo publishes.

use sqlx::PgPool;
use url::Url;

use crate::db::{self, actors::Actor, stats::Usage};
use crate::domain::handle::Handle;
use crate::error::{Error, Result};
use crate::federation::urls::Urls;

/// A local actor found by WebFinger.
#[derive(Debug, Clone)]
pub enum Found {
    Person(Actor),
    InstanceActor(Actor),
}

/// Resolves a WebFinger `resource`: `acct:user@domain` (with or without
/// `acct:`), a local actor or profile URL, or the server's own URL
/// (FEP-d556). Malformed resources are a BadRequest; well-formed ones that
/// name nothing here (another host, an unknown user) are NotFound.
pub async fn webfinger(pool: &PgPool, urls: &Urls, resource: &str) -> Result<Found> {
    let resource = resource.trim();
    if resource.is_empty() {
        return Err(Error::BadRequest(
            "the resource parameter is required".into(),
        ));
    }
    let lower = resource.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let url = Url::parse(resource)
            .map_err(|e| Error::BadRequest(format!("the resource is not a valid URL: {e}")))?;
        if authority(&url) != urls.domain() {
            return Err(Error::NotFound);
        }
        let path = url.path().trim_end_matches('/');
        if path.is_empty() || path == "/actor" {
            return instance_actor(pool).await;
        }
        let username = path
            .strip_prefix("/users/")
            .or_else(|| path.strip_prefix("/@"))
            .filter(|name| !name.contains('/'))
            .ok_or(Error::NotFound)?;
        return person(pool, username).await;
    }
    if lower.contains(':') && !lower.starts_with("acct:") && !lower.contains('@') {
        return Err(Error::BadRequest(
            "the resource must be an acct: URI or an http(s) URL".into(),
        ));
    }
    let handle = Handle::parse(resource)
        .ok_or_else(|| Error::BadRequest("the resource must look like acct:user@domain".into()))?;
    if handle.host != urls.domain() {
        return Err(Error::NotFound);
    }
    if handle.user.eq_ignore_ascii_case(&urls.domain()) {
        return instance_actor(pool).await;
    }
    person(pool, &handle.user).await
}

/// Only accounts that share with the fediverse can be found.
async fn person(pool: &PgPool, username: &str) -> Result<Found> {
    db::actors::find_shared_person(pool, username)
        .await?
        .map(Found::Person)
        .ok_or(Error::NotFound)
}

async fn instance_actor(pool: &PgPool) -> Result<Found> {
    db::actors::find_instance_actor(pool)
        .await?
        .map(Found::InstanceActor)
        .ok_or(Error::NotFound)
}

/// `host[:port]` of a URL, as Skein writes and compares domains.
pub use crate::domain::domain_name::authority;

pub async fn usage(pool: &PgPool) -> Result<Usage> {
    Ok(db::stats::usage(pool).await?)
}

/// How many other servers this instance knows.
pub async fn known_domains(pool: &PgPool) -> Result<i64> {
    Ok(db::stats::known_domains(pool).await?)
}
