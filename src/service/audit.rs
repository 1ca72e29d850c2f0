//! Staff and the audit log. `Staff` is a moderator or admin (or the command
//! line) about to act; every admin action records itself with `record`, in
//! the transaction that makes the change, so the log and the change land
//! together or not at all.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, audit::AdminAction, users::User};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Where a staff action came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Web,
    Api,
    Cli,
    /// Timed work acting on the admins' standing orders (a subscribed
    /// block list's daily refresh).
    Schedule,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Web => "web",
            Via::Api => "api",
            Via::Cli => "cli",
            Via::Schedule => "schedule",
        }
    }
}

/// What a staff role may do. Moderators handle reports and accounts;
/// admins also set the instance's domain policy and settings (Mastodon's
/// default roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn of(user: &User) -> Role {
        match user.role.as_str() {
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
            _ => Role::User,
        }
    }
}

/// Someone allowed to moderate, about to act.
#[derive(Debug, Clone)]
pub struct Staff {
    pub actor_id: Option<i64>,
    pub name: String,
    pub role: Role,
    pub via: Via,
}

impl Staff {
    /// The account behind a session or token, if its role is at least
    /// `needed`; otherwise 403.
    pub fn of(user: &User, actor: &Actor, needed: Role, via: Via) -> Result<Staff> {
        let role = Role::of(user);
        if role < needed || role == Role::User || user.disabled {
            return Err(Error::Forbidden("This action is not allowed".into()));
        }
        Ok(Staff {
            actor_id: Some(actor.id),
            name: actor.username.clone(),
            role,
            via,
        })
    }

    /// The command line: whoever can run it runs the instance.
    pub fn cli() -> Staff {
        Staff {
            actor_id: None,
            name: "command line".into(),
            role: Role::Admin,
            via: Via::Cli,
        }
    }

    /// The instance itself, carrying out what admins set up (`name` says
    /// what).
    pub fn scheduled(name: &str) -> Staff {
        Staff {
            actor_id: None,
            name: name.into(),
            role: Role::Admin,
            via: Via::Schedule,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Refuses unless this staff member is an admin.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden("This action is not allowed".into()))
        }
    }
}

/// Records one action in the caller's transaction; `now` is the caller's
/// clock (`AppState::clock`, or the system clock on the command line).
pub async fn record(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    staff: &Staff,
    action: &str,
    target_type: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<AdminAction> {
    let new = db::audit::NewAction {
        actor_id: staff.actor_id,
        actor_name: &staff.name,
        via: staff.via.as_str(),
        action,
        target_type,
        target,
        details: &details,
    };
    Ok(db::audit::insert(conn, &new, now).await?)
}

/// The newest actions first; staff only.
pub async fn list(
    state: &AppState,
    _staff: &Staff,
    target: Option<(&str, &str)>,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AdminAction>> {
    Ok(db::audit::list(&state.db, target, max_id, limit.clamp(1, 200)).await?)
}
