//! Integration tests: real PostgreSQL, real HTTP over loopback, one binary.

#![allow(clippy::unwrap_used)]

mod actors;
mod cli;
mod collections;
mod discovery;
mod harness;
mod http;
