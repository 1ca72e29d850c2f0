//! Mastodon's admin dashboard API: `POST /api/v1/admin/measures`,
//! `/dimensions` and `/retention`
//! (<https://docs.joinmastodon.org/methods/admin/measures/>). Keys Skein
//! does not know are left out of the answer; a measure's or dimension's
//! parameter comes as `KEY[id]` or `KEY[domain]`.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::api::params::lenient;
use crate::http::api::{Params, Token};
use crate::service::audit::Role;
use crate::service::measures;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/measures", post(measures_of))
        .route("/api/v1/admin/dimensions", post(dimensions_of))
        .route("/api/v1/admin/retention", post(retention_of))
}

#[derive(Deserialize, Default)]
struct Query {
    #[serde(default, deserialize_with = "lenient::list")]
    keys: Vec<String>,
    start_at: Option<String>,
    end_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default)]
    frequency: Option<String>,
    /// `KEY[id]`, `KEY[domain]`.
    #[serde(flatten)]
    rest: HashMap<String, Value>,
}

/// A date, or the date of a timestamp (its time is ignored).
fn date(raw: Option<&str>, name: &str) -> Result<NaiveDate> {
    let raw = raw
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            Error::BadRequest(format!("param is missing or the value is empty: {name}"))
        })?;
    raw.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| Error::Validation(format!("{name} is not a date: {raw:?}")))
}

impl Query {
    fn period(&self) -> Result<(NaiveDate, NaiveDate)> {
        measures::period(
            date(self.start_at.as_deref(), "start_at")?,
            date(self.end_at.as_deref(), "end_at")?,
        )
    }

    /// A key's parameter: `KEY[id]` or `KEY[domain]`.
    fn param(&self, key: &str) -> String {
        let value = self.rest.get(key);
        let field = value
            .and_then(|v| v.get("id").or_else(|| v.get("domain")))
            .or(value);
        match field {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }
}

fn midnight(date: NaiveDate) -> String {
    format!("{}T00:00:00Z", date.format("%Y-%m-%d"))
}

/// Mastodon's Admin::Measure.
#[derive(Serialize)]
struct AdminMeasure {
    key: &'static str,
    unit: Option<&'static str>,
    total: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    human_value: Option<String>,
    previous_total: String,
    data: Vec<MeasureDay>,
}

#[derive(Serialize)]
struct MeasureDay {
    date: String,
    value: String,
}

async fn measures_of(
    State(state): State<AppState>,
    token: Token,
    Params(q): Params<Query>,
) -> Result<Json<Vec<AdminMeasure>>> {
    let staff = token.staff("admin:read", Role::Moderator)?;
    let period = q.period()?;
    let mut out = Vec::new();
    for key in &q.keys {
        let Some(m) = measures::measure(&state, &staff, key, period, &q.param(key)).await? else {
            continue;
        };
        out.push(AdminMeasure {
            key: m.key,
            unit: m.unit,
            total: m.total.to_string(),
            human_value: m.unit.map(|_| measures::human_size(m.total)),
            previous_total: m.previous_total.to_string(),
            data: m
                .data
                .into_iter()
                .map(|(day, value)| MeasureDay {
                    date: midnight(day),
                    value: value.to_string(),
                })
                .collect(),
        });
    }
    Ok(Json(out))
}

/// Mastodon's Admin::Dimension.
#[derive(Serialize)]
struct AdminDimension {
    key: &'static str,
    data: Vec<DimensionRow>,
}

#[derive(Serialize)]
struct DimensionRow {
    key: String,
    human_key: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    human_value: Option<String>,
}

async fn dimensions_of(
    State(state): State<AppState>,
    token: Token,
    Params(q): Params<Query>,
) -> Result<Json<Vec<AdminDimension>>> {
    let staff = token.staff("admin:read", Role::Moderator)?;
    let period = q.period()?;
    let limit = q.limit.unwrap_or(10);
    let mut out = Vec::new();
    for key in &q.keys {
        let Some((key, rows)) =
            measures::dimension(&state, &staff, key, period, &q.param(key), limit).await?
        else {
            continue;
        };
        out.push(AdminDimension {
            key,
            data: rows
                .into_iter()
                .map(|r| DimensionRow {
                    key: r.key,
                    human_key: r.human_key,
                    value: r.value,
                    unit: r.unit,
                    human_value: r.human_value,
                })
                .collect(),
        });
    }
    Ok(Json(out))
}

/// Mastodon's Admin::Cohort.
#[derive(Serialize)]
struct AdminCohort {
    period: String,
    frequency: &'static str,
    data: Vec<CohortData>,
}

#[derive(Serialize)]
struct CohortData {
    date: String,
    rate: f64,
    value: String,
}

async fn retention_of(
    State(state): State<AppState>,
    token: Token,
    Params(q): Params<Query>,
) -> Result<Json<Vec<AdminCohort>>> {
    let staff = token.staff("admin:read", Role::Moderator)?;
    let period = q.period()?;
    let frequency = q.frequency.as_deref().unwrap_or("day");
    let cohorts = measures::retention(&state, &staff, period, frequency).await?;
    Ok(Json(
        cohorts
            .into_iter()
            .map(|c| AdminCohort {
                period: midnight(c.period),
                frequency: c.frequency,
                data: c
                    .data
                    .into_iter()
                    .map(|(day, rate, value)| CohortData {
                        date: midnight(day),
                        rate,
                        value: value.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}
