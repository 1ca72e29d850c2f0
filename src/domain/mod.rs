//! Pure types and rules of the domain: usernames, handles, visibility and the
//! like. Nothing here knows about HTTP or SQL.

pub mod events;
pub mod handle;
pub mod scopes;
pub mod text;
pub mod username;
pub mod visibility;
