//! ActivityPub: wire types and the documents Skein serves about its own
//! actors and collections, WebFinger and NodeInfo. Incoming activities,
//! signatures and outgoing delivery arrive with the follow issue.

pub mod activities;
pub mod actor;
pub mod collections;
pub mod context;
pub mod fetch;
pub mod html;
pub mod inbound;
pub mod json;
pub mod nodeinfo;
pub mod note;
pub mod rel_me;
pub mod rfc9421;
pub mod signatures;
pub mod urls;
pub mod webfinger;

/// The media type Skein serves ActivityPub documents with.
pub const AP_CONTENT_TYPE: &str = "application/activity+json; charset=utf-8";

/// The Public collection, in the form Skein writes it.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
