//! The Mastodon client API's view of Skein: entities shaped as Mastodon
//! documents them, and the presenter that builds them from rows in batches.
//! Used by the API handlers, the streaming API and Web Push alike.

pub mod announcement;
pub mod entities;
pub mod filtering;
pub mod load;
pub mod present;
pub mod presenter;

pub use presenter::Presenter;
