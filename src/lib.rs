//! Skein: a self-hostable, Threads-style microblog server that federates over
//! ActivityPub. See ARCHITECTURE.md for the map.

/// Building and running the application under one shutdown.
pub mod app;
/// Injectable time.
pub mod clock;
/// Typed configuration from the default file, a config file and the environment.
pub mod config;
/// The store: all SQL, the migrations and the embedded PostgreSQL cluster.
pub mod db;
/// Pure domain types and rules.
pub mod domain;
/// The error enum and its HTTP mapping.
pub mod error;
/// ActivityPub and discovery documents.
pub mod federation;
/// axum routes and handlers.
pub mod http;
/// Image checks and processing for uploads: pure, synchronous.
pub mod imaging;
/// Background workers: delivery, Web Push and housekeeping.
pub mod jobs;
/// E-mail: the SMTP transport and the messages, by locale.
pub mod mail;
/// The Mastodon client API's entities and their presenter.
pub mod mastodon;
/// Memory handed back to the operating system after bursts (glibc arenas).
pub mod memory;
/// Outbound HTTP with address, scheme, redirect, time and size rules.
pub mod net;
/// The Prometheus metrics: counters, histograms and the text exposition.
pub mod prometheus;
/// In-memory rate limits on the injectable clock.
pub mod ratelimit;
/// Use cases, each owning its transaction.
pub mod service;
/// Concurrent callers of one key sharing one computation.
pub mod singleflight;
/// The state shared by handlers, services and workers.
pub mod state;
/// Where media files live: the media directory or an S3-compatible bucket.
pub mod storage;
/// Live updates: change events from PostgreSQL fanned out to connections.
pub mod streaming;
/// Logging set-up.
pub mod telemetry;
/// Video and audio work for uploads with ffmpeg.
pub mod transcode;
/// Web Push's wire format: message encryption and VAPID tokens.
pub mod webpush;
