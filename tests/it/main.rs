//! Integration tests: real PostgreSQL, real HTTP over loopback, one binary.

#![allow(clippy::unwrap_used)]

mod actors;
mod admin;
mod api;
mod cli;
mod collections;
mod counts;
mod crash;
mod deletion;
mod delivery;
mod discovery;
mod domain_policy;
mod error_pages;
mod fake;
mod fanout;
mod filters_lists;
mod fixtures;
mod follows;
mod harness;
mod http;
mod inbox;
mod link_verification;
mod media;
mod moderation;
mod moves;
mod notifications_api;
mod oauth;
mod portability;
mod posts;
mod push;
mod races;
mod redelivery;
mod remote_actors;
mod reply_controls;
mod reports;
mod rules;
mod scheme;
mod search;
mod streaming;
mod timelines;
mod web;
mod web_controls;
