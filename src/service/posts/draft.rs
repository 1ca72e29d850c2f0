//! One way to turn what a person sent (the client API's parameters or the
//! web composer's form) into a [`Draft`]: what they left out comes from
//! their posting preferences, what they named is checked the same way
//! whichever way it came.

use crate::db::{posts::Post, users::User};
use crate::domain::interaction::ReplyPolicy;
use crate::domain::visibility::{QuotePolicy, Visibility};
use crate::error::{Error, Result};
use crate::service::posts::{Draft, PollDraft};

/// A new post as sent, before preferences fill the gaps.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub text: &'a str,
    pub spoiler: &'a str,
    /// None: the account's default.
    pub sensitive: Option<bool>,
    /// None or empty: the account's default language.
    pub language: Option<&'a str>,
    /// Mastodon's name of a visibility; None or empty: the account's default.
    pub visibility: Option<&'a str>,
    /// Who may reply; None: everyone.
    pub reply_policy: Option<ReplyPolicy>,
    /// Mastodon's `quote_approval_policy`; None or empty: anyone.
    pub quote_policy: Option<&'a str>,
    /// The post answered, already found visible to the author.
    pub in_reply_to: Option<&'a Post>,
    /// The post quoted, already found visible to the author.
    pub quote_of: Option<&'a Post>,
    pub poll: Option<PollDraft>,
    pub media_ids: &'a [i64],
}

/// A visibility by Mastodon's name, or the account's default.
pub fn visibility(user: &User, raw: Option<&str>) -> Result<Visibility> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(user.default_visibility),
        Some(v) => Visibility::parse(v)
            .ok_or_else(|| Error::Validation(format!("`{v}` is not a visibility"))),
    }
}

/// Who may reply, by the web composer's names; None for an empty choice.
pub fn reply_policy(raw: &str) -> Result<Option<ReplyPolicy>> {
    match raw.trim() {
        "" => Ok(None),
        p => ReplyPolicy::parse(p)
            .map(Some)
            .ok_or_else(|| Error::Validation(format!("`{p}` is not a choice of who can reply"))),
    }
}

/// The draft of a new post by `user`.
pub fn new_post<'a>(user: &'a User, request: Request<'a>) -> Result<Draft<'a>> {
    let visibility = visibility(user, request.visibility)?;
    let quote_policy = match request
        .quote_policy
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        None => QuotePolicy::Public,
        Some(q) => QuotePolicy::parse(q)
            .ok_or_else(|| Error::Validation(format!("`{q}` is not a quote approval policy")))?,
    };
    let language = request
        .language
        .filter(|l| !l.trim().is_empty())
        .or(user.default_language.as_deref());
    Ok(Draft {
        text: request.text,
        spoiler: request.spoiler.trim(),
        sensitive: request.sensitive.unwrap_or(user.default_sensitive),
        language,
        visibility,
        in_reply_to: request.in_reply_to.map(|p| p.ap_id.as_str()),
        poll: request.poll,
        quote_of: request.quote_of.map(|q| q.ap_id.as_str()),
        quote_policy,
        reply_policy: request.reply_policy.unwrap_or(ReplyPolicy::Everyone),
        media_ids: Some(request.media_ids),
        media_attributes: &[],
    })
}
