//! The client API's entities, shaped exactly as Mastodon documents them
//! (<https://docs.joinmastodon.org/entities/>): string ids, ISO 8601 times
//! with milliseconds, `null` where Mastodon sends null.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Mastodon's time format: `2019-12-08T03:48:33.901Z`.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Mastodon's date-only times (an account's `created_at`, `last_status_at`).
pub fn midnight(at: DateTime<Utc>) -> String {
    format!("{}T00:00:00.000Z", at.format("%Y-%m-%d"))
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomEmoji {
    pub shortcode: String,
    pub url: String,
    pub static_url: String,
    pub visible_in_picker: bool,
    /// Only the instance's own emoji have one, and only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub verified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub url: String,
    pub uri: String,
    pub display_name: String,
    pub note: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub locked: bool,
    pub fields: Vec<Field>,
    pub emojis: Vec<CustomEmoji>,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub noindex: Option<bool>,
    pub hide_collections: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<Box<Account>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<bool>,
    pub created_at: String,
    pub last_status_at: Option<String>,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub roles: Vec<Value>,
}

/// The signed-in user's own account (`verify_credentials`,
/// `update_credentials`).
#[derive(Debug, Clone, Serialize)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub note: String,
    pub fields: Vec<Field>,
    pub follow_requests_count: i64,
    pub hide_collections: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub attribution_domains: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub color: String,
    pub permissions: String,
    pub highlighted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mention {
    pub id: String,
    pub username: String,
    pub url: String,
    pub acct: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusTag {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub name: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaAttachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// None while an upload is being processed.
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    pub meta: Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

/// <https://docs.joinmastodon.org/entities/Announcement/>
#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    pub id: String,
    pub content: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub all_day: bool,
    pub published_at: Option<String>,
    pub updated_at: String,
    pub read: bool,
    pub mentions: Vec<Mention>,
    /// `{id, url}` of posts linked; Skein links none.
    pub statuses: Vec<Value>,
    /// `{name, url}`
    pub tags: Vec<Value>,
    pub emojis: Vec<CustomEmoji>,
    pub reactions: Vec<Reaction>,
}

/// <https://docs.joinmastodon.org/entities/Reaction/>
#[derive(Debug, Clone, Serialize)]
pub struct Reaction {
    pub name: String,
    pub count: i64,
    pub me: bool,
}

/// <https://docs.joinmastodon.org/entities/ScheduledStatus/>
#[derive(Debug, Clone, Serialize)]
pub struct ScheduledStatus {
    pub id: String,
    pub scheduled_at: String,
    pub params: Value,
    pub media_attachments: Vec<MediaAttachment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PollOption {
    pub title: String,
    pub votes_count: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Poll {
    pub id: String,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub multiple: bool,
    pub votes_count: i64,
    pub voters_count: Option<i64>,
    pub options: Vec<PollOption>,
    pub emojis: Vec<CustomEmoji>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_votes: Option<Vec<i64>>,
}

/// Mastodon 4.5's quote of a status: its state, and the quoted status when
/// the viewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub state: String,
    pub quoted_status: Option<Box<Status>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteApproval {
    pub automatic: Vec<String>,
    pub manual: Vec<String>,
    pub current_user: String,
}

/// GoToSocial's rules for one kind of interaction: values are `public`,
/// `followers`, `following`, `mentioned`, `author`, or an account's URI.
/// Both the current names and those before GoToSocial 0.20 are given.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRules {
    pub automatic_approval: Vec<String>,
    pub manual_approval: Vec<String>,
    pub always: Vec<String>,
    pub with_approval: Vec<String>,
}

/// GoToSocial's `interaction_policy` of a status.
#[derive(Debug, Clone, Serialize)]
pub struct InteractionPolicy {
    pub can_favourite: PolicyRules,
    pub can_reply: PolicyRules,
    pub can_reblog: PolicyRules,
}

/// Mastodon 4.5's PreviewCard: a link preview.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewCard {
    pub url: String,
    pub title: String,
    pub description: String,
    pub language: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub author_name: String,
    pub author_url: String,
    pub provider_name: String,
    pub provider_url: String,
    /// Always empty: Skein passes on no third-party HTML.
    pub html: String,
    pub width: i32,
    pub height: i32,
    pub image: Option<String>,
    pub image_description: String,
    pub embed_url: String,
    pub blurhash: Option<String>,
    pub published_at: Option<String>,
    pub authors: Vec<PreviewCardAuthor>,
}

/// An author of a preview card's page (Mastodon 4.3 and later).
#[derive(Debug, Clone, Serialize)]
pub struct PreviewCardAuthor {
    pub name: String,
    pub url: String,
    /// The author's fediverse account; Skein does not resolve it.
    pub account: Option<Account>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub id: String,
    pub uri: String,
    pub created_at: String,
    pub account: Account,
    pub content: String,
    pub visibility: String,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<MediaAttachment>,
    pub application: Option<Application>,
    pub mentions: Vec<Mention>,
    pub tags: Vec<StatusTag>,
    pub emojis: Vec<CustomEmoji>,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub replies_count: i64,
    pub quotes_count: i64,
    pub url: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub reblog: Option<Box<Status>>,
    pub poll: Option<Poll>,
    pub card: Option<PreviewCard>,
    pub language: Option<String>,
    /// The source text: only in answers to deleting (for "delete and
    /// redraft") and in `/source`.
    pub text: Option<String>,
    pub edited_at: Option<String>,
    pub quote: Option<Quote>,
    pub quote_approval: QuoteApproval,
    pub interaction_policy: InteractionPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reblogged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmarked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    pub filtered: Vec<FilterResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub group_key: String,
    pub created_at: String,
    pub account: Account,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The report an `admin.report` is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// Mastodon's NotificationGroup (`/api/v2/notifications`).
#[derive(Debug, Clone, Serialize)]
pub struct NotificationGroup {
    pub group_key: String,
    pub notifications_count: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub most_recent_notification_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_min_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_max_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_page_notification_at: Option<String>,
    pub sample_account_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// Mastodon's PartialAccountWithAvatar (`expand_accounts=partial_avatars`).
#[derive(Debug, Clone, Serialize)]
pub struct PartialAccount {
    pub id: String,
    pub acct: String,
    pub locked: bool,
    pub bot: bool,
    pub url: String,
    pub avatar: String,
    pub avatar_static: String,
}

impl From<&Account> for PartialAccount {
    fn from(a: &Account) -> PartialAccount {
        PartialAccount {
            id: a.id.clone(),
            acct: a.acct.clone(),
            locked: a.locked,
            bot: a.bot,
            url: a.url.clone(),
            avatar: a.avatar.clone(),
            avatar_static: a.avatar_static.clone(),
        }
    }
}

/// Mastodon's GroupedNotificationsResults: the groups, and the accounts and
/// statuses they name, each once.
#[derive(Debug, Clone, Serialize)]
pub struct GroupedNotificationsResults {
    pub accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_accounts: Option<Vec<PartialAccount>>,
    pub statuses: Vec<Status>,
    pub notification_groups: Vec<NotificationGroup>,
}

/// Mastodon's NotificationPolicy (v2).
#[derive(Debug, Clone, Serialize)]
pub struct NotificationPolicy {
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
    pub summary: NotificationPolicySummary,
}

/// The v1 NotificationPolicy: whether each case is anything but accepted.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationPolicyV1 {
    pub filter_not_following: bool,
    pub filter_not_followers: bool,
    pub filter_new_accounts: bool,
    pub filter_private_mentions: bool,
    pub summary: NotificationPolicySummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationPolicySummary {
    pub pending_requests_count: i64,
    pub pending_notifications_count: i64,
}

/// Mastodon's NotificationRequest (its count is a string).
#[derive(Debug, Clone, Serialize)]
pub struct NotificationRequest {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub notifications_count: String,
    pub account: Account,
    pub last_status: Option<Status>,
}

/// Mastodon's Report, as its reporter (or a staff notification) shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub action_taken: bool,
    pub action_taken_at: Option<String>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    pub created_at: String,
    pub status_ids: Option<Vec<String>>,
    pub rule_ids: Option<Vec<String>>,
    pub target_account: Account,
}

/// Mastodon's Rule: one of the instance's rules.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub text: String,
    pub hint: String,
}

impl From<&crate::db::rules::Rule> for Rule {
    fn from(rule: &crate::db::rules::Rule) -> Rule {
        Rule {
            id: rule.id.to_string(),
            text: rule.text.clone(),
            hint: rule.hint.clone(),
        }
    }
}

/// A direct conversation as one participant sees it: the other
/// participants (oneself when alone), unread or not, the newest post.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    pub unread: bool,
    pub accounts: Vec<Account>,
    pub last_status: Option<Status>,
}

/// A read marker of a timeline (`home`, `notifications`).
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub last_read_id: String,
    pub version: i64,
    pub updated_at: String,
}

/// A user's preferences, by Mastodon's keys.
#[derive(Debug, Clone, Serialize)]
pub struct Preferences {
    #[serde(rename = "posting:default:visibility")]
    pub posting_default_visibility: String,
    #[serde(rename = "posting:default:sensitive")]
    pub posting_default_sensitive: bool,
    #[serde(rename = "posting:default:language")]
    pub posting_default_language: Option<String>,
    #[serde(rename = "posting:default:quote_policy")]
    pub posting_default_quote_policy: String,
    #[serde(rename = "reading:expand:media")]
    pub reading_expand_media: String,
    #[serde(rename = "reading:expand:spoilers")]
    pub reading_expand_spoilers: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    /// Empty for a hashtag Skein has no row for (as Mastodon's unsaved tag).
    pub id: String,
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featuring: Option<bool>,
}

/// One day of a hashtag's use; numbers as strings, as Mastodon sends them.
#[derive(Debug, Clone, Serialize)]
pub struct TagHistory {
    /// The day's midnight (UTC) as a UNIX timestamp.
    pub day: String,
    pub uses: String,
    pub accounts: String,
}

/// A hashtag featured on a profile.
#[derive(Debug, Clone, Serialize)]
pub struct FeaturedTag {
    pub id: String,
    pub name: String,
    pub url: String,
    /// A number as a string, as Mastodon sends it.
    pub statuses_count: String,
    /// The day of the latest post with the hashtag (`YYYY-MM-DD`).
    pub last_status_at: Option<String>,
}

/// The accounts the viewer follows that follow an account.
#[derive(Debug, Clone, Serialize)]
pub struct FamiliarFollowers {
    pub id: String,
    pub accounts: Vec<Account>,
}

/// An application as the API shows it (`verify_credentials`, a status's
/// `application`), and with its credentials when just registered.
#[derive(Debug, Clone, Serialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub redirect_uris: Vec<String>,
    /// Deprecated in Mastodon, still read by some apps.
    pub vapid_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: String,
    pub account: Account,
    pub poll: Option<Value>,
    pub media_attachments: Vec<MediaAttachment>,
    pub emojis: Vec<CustomEmoji>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusSource {
    pub id: String,
    pub text: String,
    pub spoiler_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct List {
    pub id: String,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterKeyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterStatus {
    pub id: String,
    pub status_id: String,
}

/// A filter; inside a `FilterResult` without its keywords and statuses.
#[derive(Debug, Clone, Serialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    pub context: Vec<String>,
    pub expires_at: Option<String>,
    pub filter_action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<FilterKeyword>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<FilterStatus>>,
}

/// A filter a status matched (a status's `filtered`).
#[derive(Debug, Clone, Serialize)]
pub struct FilterResult {
    pub filter: Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<String>>,
}

/// A keyword of a filter as the deprecated v1 API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct V1Filter {
    pub id: String,
    pub phrase: String,
    pub context: Vec<String>,
    pub whole_word: bool,
    pub expires_at: Option<String>,
    pub irreversible: bool,
}

/// <https://docs.joinmastodon.org/entities/WebPushSubscription/>
#[derive(Debug, Clone, Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    /// Every alert type, true when pushed.
    pub alerts: Map<String, Value>,
    pub policy: String,
    pub server_key: String,
}

/// A trending hashtag (`/api/v1/trends/tags`): a Tag with its id and its
/// last seven days.
#[derive(Debug, Clone, Serialize)]
pub struct TrendTag {
    pub id: String,
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
}

/// Mastodon's Trends::Link: a PreviewCard with its history of shares.
#[derive(Debug, Clone, Serialize)]
pub struct TrendLink {
    #[serde(flatten)]
    pub card: PreviewCard,
    pub history: Vec<TagHistory>,
}

/// A trending link as moderators see it (Mastodon's Admin::Trends::Link):
/// its card's id and whether it awaits their review.
#[derive(Debug, Clone, Serialize)]
pub struct AdminTrendLink {
    pub id: String,
    #[serde(flatten)]
    pub link: TrendLink,
    pub requires_review: bool,
}

/// A publisher of links (Mastodon's Admin::Trends::Links::PreviewCardProvider).
#[derive(Debug, Clone, Serialize)]
pub struct AdminPublisher {
    pub id: String,
    pub domain: String,
    pub trendable: bool,
    pub reviewed_at: Option<String>,
    pub requested_review_at: Option<String>,
    pub requires_review: bool,
}

/// Mastodon's Admin::Tag.
#[derive(Debug, Clone, Serialize)]
pub struct AdminTag {
    pub id: String,
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    pub trendable: bool,
    pub usable: bool,
    pub requires_review: bool,
    pub listable: bool,
}

/// A trending post as moderators see it: a Status and whether it awaits
/// their review.
#[derive(Debug, Clone, Serialize)]
pub struct AdminTrendStatus {
    #[serde(flatten)]
    pub status: Status,
    pub requires_review: bool,
}

/// A follow suggestion (`/api/v2/suggestions`).
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// Deprecated: one of `staff`, `past_interactions`, `global`.
    pub source: &'static str,
    pub sources: Vec<&'static str>,
    pub account: Account,
}
