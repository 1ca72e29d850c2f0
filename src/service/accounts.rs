//! Local accounts: creation (actor, key pair and user in one transaction),
//! passwords and listings.

use sqlx::PgPool;

use crate::db::{self, actors::NewLocalActor, users::UserSummary};
use crate::domain::notifications::NotificationKind;
use crate::domain::username::Username;
use crate::error::{Error, Result};
use crate::federation::urls::{Urls, main_key_id};
use crate::mail::messages::Mail;
use crate::service::types::{Actor, Listed, Listing, Page, User};
use crate::service::{keys, password};
use crate::state::AppState;

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
    create_with(pool, urls, new, None, None).await
}

/// Creates a local account as staff (the command line), with the creation
/// and the role it was given in the audit log, in the same transaction.
pub async fn create_by(
    pool: &PgPool,
    urls: &Urls,
    new: NewAccount<'_>,
    now: chrono::DateTime<chrono::Utc>,
    staff: &crate::service::audit::Staff,
) -> Result<Created> {
    staff.require_admin()?;
    create_with(pool, urls, new, Some((now, staff)), None).await
}

/// What a sign-up adds to the account's creation, in its transaction.
struct Joining<'a> {
    state: &'a AppState,
    reason: &'a str,
    app_id: Option<i64>,
}

async fn create_with(
    pool: &PgPool,
    urls: &Urls,
    new: NewAccount<'_>,
    audited: Option<(chrono::DateTime<chrono::Utc>, &crate::service::audit::Staff)>,
    joining: Option<Joining<'_>>,
) -> Result<Created> {
    // With e-mail configured, a sign-up confirms its address before it can
    // sign in; accounts made by admins are confirmed at once.
    let confirmed = joining
        .as_ref()
        .is_none_or(|j| !crate::service::mail::enabled(j.state));
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
    let user = match confirmed {
        true => user,
        false => db::users::set_unconfirmed(&mut *tx, user.id).await?,
    };
    if let Some((now, staff)) = audited {
        crate::service::audit::record(
            &mut tx,
            now,
            staff,
            "user.create",
            "account",
            name,
            serde_json::json!({ "role": new.role.as_str() }),
        )
        .await?;
    }
    if let Some(joining) = joining {
        joined(&mut tx, joining, &actor, &user).await?;
    }
    tx.commit().await?;
    Ok(Created { actor, user })
}

/// The rest of a sign-up, in the transaction that creates the account: why
/// they want to join, staff told (notifications, and e-mail when the
/// sign-up waits for approval), the confirmation e-mail.
async fn joined(
    tx: &mut sqlx::PgConnection,
    joining: Joining<'_>,
    actor: &db::actors::Actor,
    user: &db::users::User,
) -> Result<()> {
    let state = joining.state;
    db::users::set_sign_up_reason(&mut *tx, user.id, joining.reason.trim()).await?;
    if let Some(app) = joining.app_id {
        db::users::set_sign_up_app(&mut *tx, user.id, app).await?;
    }
    // Staff hear of every sign-up (Mastodon's `admin.sign_up`); one that
    // waits for approval shows in the admin area's accounts.
    for staff in db::users::staff_actor_ids(&mut *tx).await? {
        db::notifications::notify(
            tx,
            staff,
            NotificationKind::AdminSignUp,
            actor.id,
            None,
            state.clock.now(),
        )
        .await?;
    }
    // As Mastodon, staff are mailed of a sign-up waiting for approval once
    // its address is confirmed (`account_mail::confirm`), or at once when
    // there is nothing to confirm.
    if !user.approved && user.confirmed_at.is_some() {
        mail_staff_pending(tx, state, user, &actor.username, joining.reason).await?;
    }
    if user.confirmed_at.is_none() {
        crate::service::account_mail::queue_confirmation(tx, state, user, &actor.username).await?;
    }
    Ok(())
}

/// Mails staff that `user` (`username`) signed up and waits for approval.
pub(crate) async fn mail_staff_pending(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    user: &User,
    username: &str,
    reason: &str,
) -> Result<()> {
    let link = format!("{}/admin/accounts?filter=pending", state.urls.origin());
    crate::service::mail::queue_to_staff(
        tx,
        state,
        &Mail::SignUpPending {
            username,
            email: user.email.as_deref().unwrap_or_default(),
            reason,
            link: &link,
        },
        None,
    )
    .await?;
    Ok(())
}

/// Sets a new password for someone else's account (the command line), in
/// the audit log with the change; the account's sessions end, as when its
/// owner changes it. NotFound when no local user has this username.
pub async fn set_password(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
    staff: &crate::service::audit::Staff,
    username: &str,
    new_password: &str,
) -> Result<()> {
    staff.require_admin()?;
    password::validate(new_password)?;
    let hash = password::hash(new_password).await?;
    let user = db::users::find_by_username(pool, username)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = pool.begin().await?;
    db::users::set_password_hash(&mut *tx, username, &hash).await?;
    db::sessions::delete_for_user(&mut *tx, user.id).await?;
    crate::service::audit::record(
        &mut tx,
        now,
        staff,
        "user.set_password",
        "account",
        username,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a local account a role (`user`, `moderator`, `admin`), audit-logged.
pub async fn set_role(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
    staff: &crate::service::audit::Staff,
    username: &str,
    role: &str,
) -> Result<()> {
    staff.require_admin()?;
    if !matches!(role, "user" | "moderator" | "admin") {
        return Err(Error::Validation(format!(
            "`{role}` is not a role: give user, moderator or admin"
        )));
    }
    let user = db::users::find_by_username(pool, username)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = pool.begin().await?;
    db::users::set_role(&mut *tx, user.id, role).await?;
    crate::service::audit::record(
        &mut tx,
        now,
        staff,
        "user.set_role",
        "account",
        username,
        serde_json::json!({ "from": user.role, "to": role }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The roles a staff member may give on the web: those up to their own
/// (admins give user, moderator or admin; moderators none).
pub fn assignable_roles(staff: &crate::service::audit::Staff) -> Vec<Role> {
    use crate::service::audit::Role as Rank;
    if staff.role < Rank::Admin {
        return Vec::new();
    }
    vec![Role::User, Role::Moderator, Role::Admin]
}

/// Whether `staff` may change the role of an account whose role is
/// `target`: an admin, and the account's role is below theirs, so nobody
/// changes their own role or an equal's or a higher one's. An admin's
/// role is changed only from the command line (`skein user set-role`),
/// which stands for the instance's owner, as Mastodon's Owner role is
/// above its Admin.
pub fn may_change_role(
    staff: &crate::service::audit::Staff,
    target_actor_id: i64,
    target: &User,
) -> bool {
    use crate::service::audit::Role as Rank;
    staff.role == Rank::Admin
        && staff.actor_id != Some(target_actor_id)
        && Rank::of(target) < staff.role
}

/// An admin gives a local account a role from the admin area
/// (audit-logged as `user.set_role`). Refused (403, nothing changed) for
/// moderators, for one's own account, for an account whose role is not
/// below one's own, and for a role above one's own; a remote account has
/// no role (404).
pub async fn assign_role(
    state: &AppState,
    staff: &crate::service::audit::Staff,
    actor_id: i64,
    role: &str,
) -> Result<()> {
    staff.require_admin()?;
    let role = match role {
        "user" => Role::User,
        "moderator" => Role::Moderator,
        "admin" => Role::Admin,
        other => {
            return Err(Error::Validation(format!(
                "`{other}` is not a role: give user, moderator or admin"
            )));
        }
    };
    let mut tx = state.db.begin().await?;
    let actor = db::actors::find_by_id(&mut *tx, actor_id)
        .await?
        .filter(|a| a.is_local())
        .ok_or(Error::NotFound)?;
    let user = db::users::find_by_actor(&mut *tx, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    if staff.actor_id == Some(actor.id) {
        return Err(Error::Forbidden("You cannot change your own role".into()));
    }
    if !may_change_role(staff, actor.id, &user) {
        return Err(Error::Forbidden(
            "Only the command line (skein user set-role) changes an admin's role".into(),
        ));
    }
    if !assignable_roles(staff).contains(&role) {
        return Err(Error::Forbidden("This role is above your own".into()));
    }
    if user.role == role.as_str() {
        return Ok(());
    }
    db::users::set_role(&mut *tx, user.id, role.as_str()).await?;
    crate::service::audit::record(
        &mut tx,
        state.clock.now(),
        staff,
        "user.set_role",
        "account",
        &actor.username,
        serde_json::json!({ "from": user.role, "to": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
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

/// Posting defaults; None leaves a preference as it is.
#[derive(Debug, Clone, Default)]
pub struct Preferences {
    pub visibility: Option<crate::domain::visibility::Visibility>,
    pub sensitive: Option<bool>,
    /// An empty string clears the default language.
    pub language: Option<String>,
}

pub async fn set_preferences(
    state: &crate::state::AppState,
    user: &db::users::User,
    change: Preferences,
) -> Result<db::users::User> {
    let language = match change.language.as_deref().map(str::trim) {
        None => user.default_language.clone(),
        Some("") => None,
        Some(l) if l.len() <= 16 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            Some(l.to_string())
        }
        Some(l) => return Err(Error::Validation(format!("`{l}` is not a language tag"))),
    };
    let visibility = change.visibility.unwrap_or(user.default_visibility);
    let sensitive = change.sensitive.unwrap_or(user.default_sensitive);
    Ok(db::users::set_preferences(
        &state.db,
        user.id,
        visibility,
        sensitive,
        language.as_deref(),
    )
    .await?)
}

/// Finds accounts by handle or name; with `resolve`, an `@user@host` handle
/// or actor URL this instance does not know yet is looked up over
/// federation.
pub async fn search(
    state: &crate::state::AppState,
    viewer: Option<&db::actors::Actor>,
    query: &str,
    resolve: bool,
    following_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<db::actors::Actor>> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let looks_remote = query.starts_with("https://")
        || query.starts_with("http://")
        || query.trim_start_matches('@').contains('@');
    if looks_remote
        && offset == 0
        && (query.starts_with("http") || resolve)
        && let Ok(actor) = crate::service::remote_actors::resolve(state, query).await
        && (actor.kind != "Application" || !actor.is_local())
    {
        return Ok(vec![actor]);
    }
    let (user, domain) = match query.trim_start_matches('@').split_once('@') {
        Some((user, host)) => {
            let host = host.to_lowercase();
            if host == state.urls.domain() {
                (user.to_string(), Some(String::new()))
            } else {
                (user.to_string(), Some(host))
            }
        }
        None => (query.trim_start_matches('@').to_string(), None),
    };
    Ok(db::views::search_actors(
        &state.db,
        viewer.map(|v| v.id),
        &user,
        domain.as_deref(),
        following_only,
        limit,
        offset,
    )
    .await?)
}

/// Someone asking for an account, through the web page or the API.
pub struct SignUp<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    /// Why they want to join (asked in approval mode).
    pub reason: &'a str,
    /// Where the request came from (sign-ups are rate-limited per address).
    pub ip: &'a str,
    /// Whether they accepted the instance's rules (required when there are
    /// rules).
    pub accepted_rules: bool,
    /// The app it came through (None: the web), for the admin API's
    /// `sources` dimension.
    pub app_id: Option<i64>,
}

/// Creates an account as the registration mode allows: open (ready at
/// once), approval (waits for a moderator) or closed (refused).
pub async fn sign_up(state: &crate::state::AppState, new: SignUp<'_>) -> Result<Created> {
    use crate::config::Registrations;
    let approved = match state.config.registrations {
        Registrations::Closed => {
            return Err(Error::Forbidden(
                "this instance is not accepting new accounts".into(),
            ));
        }
        Registrations::Approval => false,
        Registrations::Open => true,
    };
    if new.email.trim().is_empty() {
        return Err(Error::Validation("an e-mail address is required".into()));
    }
    if state.config.registrations == Registrations::Approval && new.reason.trim().is_empty() {
        return Err(Error::Validation(
            "tell the moderators why you want to join".into(),
        ));
    }
    if !new.accepted_rules && !crate::service::rules::list(&state.db).await?.is_empty() {
        return Err(Error::Validation(
            "accept the server's rules to sign up".into(),
        ));
    }
    if crate::domain::limits::too_long(new.reason, crate::domain::limits::SIGN_UP_REASON) {
        return Err(Error::Validation(format!(
            "the reason has at most {} characters",
            crate::domain::limits::SIGN_UP_REASON
        )));
    }
    if !state
        .limits
        .hit(crate::ratelimit::SIGN_UP, new.ip)
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    // The admins' IP and e-mail blocks, as Mastodon holds sign-ups to them.
    use crate::service::email_blocks::{self, Verdict};
    use crate::service::ip_blocks::{self, SignUpRule};
    let from_ip = ip_blocks::sign_up_rule(state, new.ip).await?;
    if from_ip == SignUpRule::Blocked {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    let verdict = email_blocks::judge(state, new.email, new.ip).await?;
    if verdict == Verdict::Blocked {
        return Err(Error::Validation(
            "Validation failed: Email uses a disallowed e-mail provider".into(),
        ));
    }
    let approved = approved && from_ip == SignUpRule::Open && verdict == Verdict::Allowed;
    create_with(
        &state.db,
        &state.urls,
        NewAccount {
            username: new.username,
            email: Some(new.email),
            password: new.password,
            role: Role::User,
            approved,
            fediverse_sharing: state.config.fediverse_sharing_default,
        },
        None,
        Some(Joining {
            state,
            reason: new.reason,
            app_id: new.app_id,
        }),
    )
    .await
}

/// An account by id, whatever it is (the instance actor and tombstones
/// included).
pub async fn by_id(state: &AppState, id: i64) -> Result<Option<Actor>> {
    Ok(db::actors::find_by_id(&state.db, id).await?)
}

/// Whether an account is one the client API shows: any known account
/// (Mastodon shows blocked and blocking accounts too), but not the
/// instance actor nor a local actor without a user.
pub fn shown(actor: &Actor) -> bool {
    !(actor.is_local() && actor.kind == "Application")
}

/// An account by id as the client API shows it (see [`shown`]).
pub async fn shown_by_id(state: &AppState, id: i64) -> Result<Actor> {
    let actor = by_id(state, id)
        .await?
        .filter(shown)
        .ok_or(Error::NotFound)?;
    if actor.is_local() && user_of(state, &actor).await?.is_none() {
        return Err(Error::NotFound);
    }
    Ok(actor)
}

/// An account by id for reading its profile (`GET /api/v1/accounts/{id}`
/// and its posts): like [`shown_by_id`], read through `AppState::read`,
/// which a replica may serve. The viewer's own account is the one the
/// request signed in with, read on the primary.
pub async fn profile_by_id(state: &AppState, viewer: Option<&Actor>, id: i64) -> Result<Actor> {
    if let Some(me) = viewer.filter(|me| me.id == id) {
        return Ok(me.clone());
    }
    let actor = state
        .read
        .actor(id)
        .await?
        .filter(shown)
        .ok_or(Error::NotFound)?;
    if actor.is_local() && state.read.user_of(actor.id).await?.is_none() {
        return Err(Error::NotFound);
    }
    Ok(actor)
}

/// The accounts by these ids that the client API shows, in the order of
/// `ids`; unknown ids are left out.
pub async fn many_by_id(state: &AppState, ids: &[i64]) -> Result<Vec<Actor>> {
    let mut actors = db::views::actors(&state.db, ids).await?;
    actors.retain(shown);
    actors.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
    Ok(actors)
}

/// An account by its handle, `user` or `user@host`, among the accounts
/// this instance knows (nothing is fetched), for reading its profile
/// (`/api/v1/accounts/lookup`): read through `AppState::read`, which a
/// replica may serve, except the viewer's own account.
pub async fn by_handle(state: &AppState, viewer: Option<&Actor>, acct: &str) -> Result<Actor> {
    let acct = acct.trim().trim_start_matches('@');
    let local_domain = state.urls.domain();
    let local_user = match acct.split_once('@') {
        None => Some(acct),
        Some((user, host)) if host.eq_ignore_ascii_case(&local_domain) => Some(user),
        Some(_) => None,
    };
    if let (Some(me), Some(user)) = (viewer, local_user)
        && me.is_local()
        && me.username.eq_ignore_ascii_case(user)
    {
        return Ok(me.clone());
    }
    match (local_user, acct.split_once('@')) {
        (Some(user), _) => state.read.local_person(user).await?,
        (None, Some((user, host))) => {
            state
                .read
                .remote_by_handle(user, &host.to_lowercase())
                .await?
        }
        (None, None) => None,
    }
    .ok_or(Error::NotFound)
}

/// A page of accounts related to `subject` (its followers, follows,
/// requests, blocks, mutes; a post's likers and reposters), each with the
/// id that pages the list.
pub async fn listing(
    state: &AppState,
    listing: Listing,
    subject: i64,
    page: Page,
) -> Result<Vec<Listed>> {
    Ok(db::views::list_actors(&state.db, listing, subject, page, state.clock.now()).await?)
}

/// The user of a local account (None for remote accounts).
pub async fn user_of(state: &AppState, actor: &Actor) -> Result<Option<User>> {
    if !actor.is_local() {
        return Ok(None);
    }
    Ok(db::users::find_by_actor(&state.db, actor.id).await?)
}

/// Whether search engines may index an account's pages: only a local
/// account that opted in (remote accounts' pages here are copies; their
/// own server says whether they are indexed).
pub async fn search_engine_indexing(state: &AppState, actor: &Actor) -> Result<bool> {
    Ok(user_of(state, actor)
        .await?
        .is_some_and(|u| u.search_engine_indexing && !u.disabled))
}

/// What someone wrote when signing up, for the staff approving it.
pub async fn sign_up_reason(state: &AppState, user: &User) -> Result<Option<String>> {
    Ok(db::users::sign_up_reason(&state.db, user.id).await?)
}
