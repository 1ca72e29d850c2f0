//! Mastodon 4.5's client API against Skein's router.
//!
//! `tests/fixtures/mastodon-4.5-endpoints.txt` lists every route of
//! Mastodon 4.5's API and OAuth (admin routes after `[admin]`). Each must be
//! served, or named in README.md's "Client API coverage" with its reason;
//! an endpoint named there must not be served (the list stays true).
//!
//! Whether the router serves `METHOD PATH` is asked over HTTP without
//! calling any handler: a request with a method no route has (`PROPFIND`)
//! gets axum's 405 with an `Allow` header naming the methods of a path that
//! exists, and the API's JSON 404 for one that does not.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::Options;

use crate::harness::TestApp;

const METRICS_TOKEN: &str = "a-metrics-token-for-the-endpoint-probe";

struct Endpoint {
    method: String,
    path: String,
    admin: bool,
}

impl Endpoint {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path with each `:parameter` filled in.
    fn concrete(&self) -> String {
        self.path
            .split('/')
            .map(|segment| match segment.strip_prefix(':') {
                Some("hashtag" | "name" | "group_key") => "skein",
                Some("date") => "2025-01-01",
                Some(_) => "1",
                None => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn mastodon_endpoints() -> Vec<Endpoint> {
    let text = include_str!("../fixtures/mastodon-4.5-endpoints.txt");
    let mut admin = false;
    let mut endpoints = Vec::new();
    for line in text.lines().map(str::trim) {
        if line == "[admin]" {
            admin = true;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (method, path) = line.split_once(' ').expect("METHOD PATH");
        endpoints.push(Endpoint {
            method: method.to_string(),
            path: path.trim().to_string(),
            admin,
        });
    }
    endpoints
}

/// README.md's "Client API coverage": `` - `METHOD PATH`: reason `` lines.
fn left_out() -> Vec<(String, String)> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Client API coverage\n")
        .nth(1)
        .expect("README.md has a \"Client API coverage\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("- `")?;
            let (endpoint, reason) = rest.split_once('`')?;
            let reason = reason.trim_start_matches(':').trim().to_string();
            Some((endpoint.to_string(), reason))
        })
        .collect()
}

/// What a probe of an endpoint found: the status, the methods its path
/// allows, and (from the metrics, read later) the route pattern matched.
struct Probe {
    status: u16,
    allow: Vec<String>,
}

/// Sends `endpoint`'s path with a method of its own that no route has
/// (`PROBE<i>`), so that no handler runs and the metrics name the route the
/// path matched under that method.
async fn probe(app: &TestApp, i: usize, endpoint: &Endpoint) -> Probe {
    let method = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
    let response = app
        .client
        .request(method, app.url(&endpoint.concrete()))
        .send()
        .await
        .expect("the instance answers");
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    Probe {
        status: response.status().as_u16(),
        allow,
    }
}

/// The route pattern each probe matched, from `skein_http_requests_total`
/// (`route="unmatched"` when none did).
async fn matched_routes(app: &TestApp) -> BTreeMap<String, String> {
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + line[start..].find('"')?;
        Some(line[start..end].to_string())
    };
    text.lines()
        .filter(|line| line.starts_with("skein_http_requests_total{"))
        .filter_map(|line| {
            let method = label(line, "method")?;
            method
                .starts_with("PROBE")
                .then(|| Some((method, label(line, "route")?)))?
        })
        .collect()
}

/// Whether a route pattern (`{id}`) is the endpoint's path (`:id`): the same
/// literal segments, parameters where it has parameters.
fn same_shape(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(a, b)| {
            let a_param = a.starts_with('{');
            let b_param = b.starts_with(':');
            if a_param || b_param {
                a_param && b_param
            } else {
                a == b
            }
        })
}

#[tokio::test]
async fn every_mastodon_endpoint_is_served_or_listed_as_left_out() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_METRICS__TOKEN", METRICS_TOKEN))
            .await;
    let endpoints = mastodon_endpoints();
    let left_out = left_out();
    let left_out_names: BTreeSet<&str> = left_out.iter().map(|(e, _)| e.as_str()).collect();
    let listed: BTreeSet<String> = endpoints.iter().map(Endpoint::name).collect();

    for (endpoint, reason) in &left_out {
        assert!(
            listed.contains(endpoint),
            "README names `{endpoint}`, which Mastodon 4.5 does not have"
        );
        assert!(
            !reason.is_empty(),
            "README gives no reason for `{endpoint}`"
        );
    }

    let mut probes = Vec::new();
    for (i, endpoint) in endpoints.iter().enumerate() {
        if i % 250 == 249 {
            // Past the API's rate limit window (300 calls in 5 minutes).
            app.clock.advance(chrono::Duration::minutes(6));
        }
        probes.push(probe(&app, i, endpoint).await);
    }
    let routes = matched_routes(&app).await;

    let mut missing = Vec::new();
    let mut stale = Vec::new();
    let (mut users, mut users_served, mut admins_served) = (0, 0, 0);
    for (i, (endpoint, probe)) in endpoints.iter().zip(&probes).enumerate() {
        let name = endpoint.name();
        let route = routes
            .get(&format!("PROBE{i}"))
            .unwrap_or_else(|| panic!("{name}: the metrics name no route for its probe"));
        let is_served = match probe.status {
            405 => same_shape(route, &endpoint.path) && probe.allow.contains(&endpoint.method),
            404 => false,
            other => panic!("{name}: the probe got {other}"),
        };
        match (is_served, left_out_names.contains(name.as_str())) {
            (true, true) => stale.push(name),
            (false, false) => missing.push(name),
            _ => {}
        }
        if endpoint.admin {
            admins_served += usize::from(is_served);
        } else {
            users += 1;
            users_served += usize::from(is_served);
        }
    }
    let admins = endpoints.len() - users;
    println!(
        "Mastodon 4.5 client API: {users_served} of {users} endpoints served ({:.1}%), \
         admin API: {admins_served} of {admins}",
        100.0 * users_served as f64 / users as f64
    );
    // The version Skein claims is the one whose API it serves: apps turn
    // features on by it.
    let (_, _, instance) = app
        .api(reqwest::Method::GET, "/api/v2/instance", None, None)
        .await;
    let version = instance["version"].as_str().unwrap();
    assert!(
        version.starts_with("4.5.0 (compatible; Skein "),
        "{version}"
    );
    assert_eq!(instance["api_versions"]["mastodon"], 7);
    assert!(
        users_served * 100 >= users * 95,
        "claiming Mastodon 4.5 while serving {users_served} of its {users} endpoints"
    );
    assert!(
        missing.is_empty(),
        "neither served nor listed in README's \"Client API coverage\":\n{}",
        missing.join("\n")
    );
    assert!(
        stale.is_empty(),
        "served, yet listed in README's \"Client API coverage\" as left out:\n{}",
        stale.join("\n")
    );
}
