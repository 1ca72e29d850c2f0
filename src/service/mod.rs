//! Use cases. Each owns its transaction and is called alike by the CLI, the
//! client API, the web UI and the inbox.

pub mod accounts;
pub mod blocks;
pub mod compose;
pub mod conversations;
pub mod discovery;
pub mod domain_blocks;
pub mod filters;
pub mod follows;
pub mod inbox;
pub mod inbox_posts;
pub mod instance;
pub mod interactions;
pub mod keys;
pub mod lists;
pub mod lookup;
pub mod markers;
pub mod media;
pub mod mutes;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod password;
pub mod polls;
pub mod posts;
pub mod profiles;
pub mod push;
pub mod quotes;
pub mod remote_actors;
pub mod sessions;
pub mod signed;
pub mod timelines;
