//! The instance actor (an `Application`): it signs this server's own GET
//! requests and speaks for the instance (reports, relays). Mastodon names it
//! after the domain, so `acct:domain@domain` finds it.

use sqlx::PgPool;

use crate::db::{
    self,
    actors::{Actor, NewLocalActor},
};
use crate::error::Result;
use crate::federation::urls::{Urls, main_key_id};
use crate::service::keys;

/// Returns the instance actor, creating it with its key pair on first start.
pub async fn ensure_actor(pool: &PgPool, urls: &Urls) -> Result<Actor> {
    if let Some(actor) = db::actors::find_instance_actor(pool).await? {
        if actor.ap_id != urls.instance_actor() {
            tracing::warn!(
                stored = %actor.ap_id,
                configured = %urls.instance_actor(),
                "the configured domain differs from the one this database was created with"
            );
        }
        return Ok(actor);
    }
    let keypair = keys::generate().await?;
    let ap_id = urls.instance_actor();
    let domain = urls.domain();
    let inserted = db::actors::insert_local(
        pool,
        &NewLocalActor {
            kind: "Application",
            username: &domain,
            ap_id: &ap_id,
            url: &urls.root(),
            inbox_url: &urls.instance_inbox(),
            shared_inbox_url: &urls.shared_inbox(),
            outbox_url: &urls.instance_outbox(),
            followers_url: None,
            following_url: None,
            featured_url: None,
            public_key_id: &main_key_id(&ap_id),
            public_key_pem: &keypair.public_key,
            private_key_pem: &keypair.private_key,
            manually_approves_followers: true,
        },
    )
    .await;
    match inserted {
        Ok(actor) => {
            tracing::info!(id = %actor.ap_id, "created the instance actor");
            Ok(actor)
        }
        // Another process created it first.
        Err(e)
            if db::is_unique_violation(&e, db::actors::USERNAME_TAKEN)
                || db::is_unique_violation(&e, "actors_ap_id_key") =>
        {
            db::actors::find_instance_actor(pool).await?.ok_or_else(|| {
                crate::error::Error::Internal(anyhow::anyhow!("instance actor vanished"))
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The account people may write to about this instance: its oldest admin
/// that can sign in (none before there is one).
pub async fn contact_account(pool: &PgPool) -> Result<Option<Actor>> {
    Ok(db::users::contact_actor(pool).await?)
}

/// Whether the database answers (`GET /health`).
pub async fn database_answers(pool: &PgPool) -> Result<()> {
    Ok(db::ping(pool).await?)
}
