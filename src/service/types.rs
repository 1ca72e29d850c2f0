//! The records services take and give back: `db`'s row types and query
//! parameters, named here so that `http` depends on services alone (the
//! invariant `tests/layering.rs` holds). Only types: every read and write
//! goes through a service function.

pub use crate::db::actors::{Actor, AdminFilter, ProfileField};
pub use crate::db::blocklists::Subscription as BlocklistSubscription;
pub use crate::db::custom_emojis::CustomEmoji;
pub use crate::db::domain_policy::{DomainAllow, DomainBlock};
pub use crate::db::follows::Side;
pub use crate::db::markers::Marker;
pub use crate::db::notification_requests::NotificationRequest;
pub use crate::db::notifications::Filter as NotificationFilter;
pub use crate::db::notifications::NotificationGroup;
pub use crate::db::oauth::App;
pub use crate::db::posts::Post;
pub use crate::db::push::Subscription;
pub use crate::db::relays::Relay;
pub use crate::db::reports::Report;
pub use crate::db::tags::Featured as FeaturedTag;
pub use crate::db::timelines::Page;
pub use crate::db::trends::{PostTrend, TagTrend};
pub use crate::db::uploads::Dimensions;
pub use crate::db::users::User;
pub use crate::db::views::{Listed, Listing};
