//! E-mail: queueing a message in the transaction of the event that causes
//! it (nothing when SMTP is not configured), and sending what is due
//! (`send_due`, run by `jobs::mail` in worker processes and by tests).
//! A message claimed but never settled (the worker died) is due again when
//! its lease ends; one the server refuses for now is retried with the
//! deliveries' backoff (`jobs::outcome`) for two days.

use chrono::Duration;
use sqlx::PgConnection;

use crate::db;
use crate::error::Result;
use crate::jobs::outcome;
use crate::mail::messages::{Locale, Mail};
use crate::mail::{Mailer, Outgoing, SendError};
use crate::state::AppState;

/// Messages claimed at once by one worker.
const BATCH: i64 = 10;
/// How long a claimed message is left to its worker (ten attempts of at
/// most 30 s each, and a margin) before another may take it.
const LEASE: Duration = Duration::minutes(10);

/// Whether Skein sends e-mail (an SMTP host is configured).
pub fn enabled(state: &AppState) -> bool {
    state.config.smtp.enabled()
}

/// The locale messages are written in.
pub fn locale(_state: &AppState) -> Locale {
    Locale::default()
}

/// Queues `mail` to `to` inside the caller's transaction; nothing when
/// e-mail is not configured or there is no address.
pub async fn queue(
    tx: &mut PgConnection,
    state: &AppState,
    to: &str,
    mail: &Mail<'_>,
) -> Result<()> {
    if !enabled(state) || to.trim().is_empty() {
        return Ok(());
    }
    let rendered = mail.render(
        locale(state),
        &state.config.instance.name,
        &state.urls.domain(),
    );
    db::mail::queue(
        &mut *tx,
        to.trim(),
        &rendered.subject,
        &rendered.text,
        &rendered.html,
        state.clock.now(),
    )
    .await?;
    Ok(())
}

/// Queues `mail` to every staff account with a confirmed address but the
/// actor `except` (who caused it).
pub async fn queue_to_staff(
    tx: &mut PgConnection,
    state: &AppState,
    mail: &Mail<'_>,
    except: Option<i64>,
) -> Result<()> {
    if !enabled(state) {
        return Ok(());
    }
    for address in db::users::staff_emails(&mut *tx, except).await? {
        queue(tx, state, &address, mail).await?;
    }
    Ok(())
}

/// Sends the messages due now, batch after batch, until none is due.
/// Returns how many went out.
pub async fn send_due(state: &AppState) -> anyhow::Result<usize> {
    let Some(mailer) = Mailer::from_config(&state.config)? else {
        return Ok(0);
    };
    let mut sent = 0;
    loop {
        let now = state.clock.now();
        let mut claimed = db::mail::claim_due(&state.db, now, now + LEASE, BATCH).await?;
        // In the order they were queued (an update's rows come unordered).
        claimed.sort_by_key(|m| m.id);
        if claimed.is_empty() {
            return Ok(sent);
        }
        for mail in &claimed {
            let result = mailer
                .send(&Outgoing {
                    to: &mail.recipient,
                    subject: &mail.subject,
                    text: &mail.text_body,
                    html: &mail.html_body,
                })
                .await;
            let now = state.clock.now();
            match result {
                Ok(()) => {
                    db::mail::mark_sent(&state.db, mail.id, now).await?;
                    sent += 1;
                }
                Err(SendError::Permanent(e)) => {
                    tracing::warn!(mail = mail.id, error = %e, "an e-mail was refused for good");
                    db::mail::mark_failed(&state.db, mail.id, now, &e).await?;
                }
                Err(SendError::Transient(e)) => {
                    match outcome::next_attempt(mail.attempts, mail.created_at, now, None) {
                        Some(at) => {
                            tracing::info!(mail = mail.id, error = %e, retry_at = %at, "an e-mail will be tried again");
                            db::mail::reschedule(&state.db, mail.id, at, &e).await?;
                        }
                        None => {
                            tracing::warn!(mail = mail.id, error = %e, "gave up on an e-mail");
                            let reason = format!("gave up after {} attempts: {e}", mail.attempts);
                            db::mail::mark_failed(&state.db, mail.id, now, &reason).await?;
                        }
                    }
                }
            }
        }
    }
}

/// How long sent messages (without their bodies) and spent tokens are
/// kept, for staff looking into what was sent.
const KEPT: Duration = Duration::days(30);

/// Forgets sent and failed messages and spent tokens older than
/// [`KEPT`] (hourly housekeeping, `jobs::cleanup`).
pub async fn prune(state: &AppState) -> Result<u64> {
    let mut connection = state.db.acquire().await?;
    Ok(db::mail::prune(&mut connection, state.clock.now() - KEPT).await?)
}

/// The queue as the admin area shows it: messages waiting, and why the
/// latest attempt among them failed.
pub async fn waiting(state: &AppState) -> Result<(i64, Option<String>)> {
    Ok((
        db::mail::waiting(&state.db).await?,
        db::mail::last_waiting_error(&state.db).await?,
    ))
}
