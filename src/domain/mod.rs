//! Pure types and rules of the domain: usernames, handles, visibility,
//! filter matching and the like. Nothing here knows about HTTP or SQL.

pub mod domain_name;
pub mod domain_policy;
pub mod email_blocks;
pub mod emoji;
pub mod events;
pub mod filters;
pub mod follows;
pub mod handle;
pub mod interaction;
pub mod ip_ranges;
pub mod languages;
pub mod limits;
pub mod link_details;
pub mod lists;
pub mod media;
pub mod names;
pub mod notifications;
pub mod portability;
pub mod scopes;
pub mod search;
pub mod signature_mode;
pub mod sniff;
pub mod text;
pub mod trends;
pub mod username;
pub mod visibility;
