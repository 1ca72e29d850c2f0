//! Integration tests: real PostgreSQL, real HTTP over loopback, one binary.

#![allow(clippy::unwrap_used)]

mod actors;
mod api;
mod cli;
mod collections;
mod crash;
mod delivery;
mod discovery;
mod fake;
mod filters_lists;
mod fixtures;
mod follows;
mod harness;
mod http;
mod inbox;
mod media;
mod notifications_api;
mod oauth;
mod posts;
mod push;
mod remote_actors;
mod streaming;
mod timelines;
mod web;
