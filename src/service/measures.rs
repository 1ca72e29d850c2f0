//! The admin dashboard's numbers (Mastodon's `Admin::Metrics`): measures
//! (a value per day and the period's total, beside the previous period's),
//! dimensions (the largest groups of something in a period) and retention
//! cohorts, read from Skein's own data on the injectable clock's days.
//! Unknown keys are left out of the answer, as Mastodon does. Staff with
//! the dashboard (moderators and admins).

use chrono::{Duration, NaiveDate};

use crate::db::{
    self,
    measures::{Dimension, Measure},
};
use crate::error::{Error, Result};
use crate::service::audit::Staff;
use crate::state::AppState;

/// The longest period asked for at once (ten years of days).
const LONGEST: i64 = 3_660;

/// A measure as Mastodon's Admin::Measure carries it.
#[derive(Debug, Clone)]
pub struct Measured {
    pub key: &'static str,
    pub unit: Option<&'static str>,
    pub total: i64,
    pub previous_total: i64,
    pub data: Vec<(NaiveDate, i64)>,
}

pub const MEASURES: [(&str, Measure); 14] = [
    ("active_users", Measure::ActiveUsers),
    ("new_users", Measure::NewUsers),
    ("interactions", Measure::Interactions),
    ("opened_reports", Measure::OpenedReports),
    ("resolved_reports", Measure::ResolvedReports),
    ("tag_accounts", Measure::TagAccounts),
    ("tag_uses", Measure::TagUses),
    ("tag_servers", Measure::TagServers),
    ("instance_accounts", Measure::InstanceAccounts),
    (
        "instance_media_attachments",
        Measure::InstanceMediaAttachments,
    ),
    ("instance_reports", Measure::InstanceReports),
    ("instance_statuses", Measure::InstanceStatuses),
    ("instance_follows", Measure::InstanceFollows),
    ("instance_followers", Measure::InstanceFollowers),
];

/// The period asked for, checked.
pub fn period(start: NaiveDate, end: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    if end < start {
        return Err(Error::Validation("end_at is before start_at".into()));
    }
    if (end - start).num_days() > LONGEST {
        return Err(Error::Validation(format!(
            "a period has at most {LONGEST} days"
        )));
    }
    Ok((start, end))
}

/// The measure named `key` over the period (with its parameter: a
/// hashtag's id or a domain); None for a key Skein does not know.
pub async fn measure(
    state: &AppState,
    _staff: &Staff,
    key: &str,
    (start, end): (NaiveDate, NaiveDate),
    param: &str,
) -> Result<Option<Measured>> {
    let Some((key, measure)) = MEASURES.iter().find(|(k, _)| *k == key).copied() else {
        return Ok(None);
    };
    let param = if key.starts_with("instance_") {
        crate::domain::domain_name::normalize(param).unwrap_or_default()
    } else {
        param.trim().to_string()
    };
    let days = (end - start).num_days() + 1;
    let (before_start, before_end) = (start - Duration::days(days), start - Duration::days(1));
    let data = db::measures::daily(&state.db, measure, start, end, &param).await?;
    let total = db::measures::total(&state.db, measure, start, end, &param).await?;
    let previous_total =
        db::measures::total(&state.db, measure, before_start, before_end, &param).await?;
    Ok(Some(Measured {
        key,
        unit: (measure == Measure::InstanceMediaAttachments).then_some("bytes"),
        total,
        previous_total,
        data,
    }))
}

/// One row of a dimension (Mastodon's Admin::Dimension data).
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub human_key: String,
    pub value: String,
    pub unit: Option<&'static str>,
    pub human_value: Option<String>,
}

pub const DIMENSIONS: [&str; 9] = [
    "languages",
    "sources",
    "servers",
    "space_usage",
    "software_versions",
    "tag_servers",
    "tag_languages",
    "instance_accounts",
    "instance_languages",
];

fn language_name(code: &str) -> String {
    crate::domain::languages::LANGUAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, name)| (*name).to_string())
}

fn counted(rows: Vec<(String, i64)>, human: impl Fn(&str) -> String) -> Vec<Row> {
    rows.into_iter()
        .map(|(key, value)| Row {
            human_key: human(&key),
            key,
            value: value.to_string(),
            unit: None,
            human_value: None,
        })
        .collect()
}

fn bytes(key: &str, human_key: &str, value: i64) -> Row {
    Row {
        key: key.into(),
        human_key: human_key.into(),
        value: value.to_string(),
        unit: Some("bytes"),
        human_value: Some(human_size(value)),
    }
}

/// Sizes as people read them (Rails' `number_to_human_size`: three
/// significant digits, `Bytes`, `KB`, `MB`, `GB`, `TB` in powers of 1024).
pub fn human_size(value: i64) -> String {
    if value.abs() < 1024 {
        return if value == 1 {
            "1 Byte".into()
        } else {
            format!("{value} Bytes")
        };
    }
    let units = ["KB", "MB", "GB", "TB", "PB"];
    let mut size = value as f64 / 1024.0;
    let mut unit = 0;
    while size.abs() >= 1024.0 && unit + 1 < units.len() {
        size /= 1024.0;
        unit += 1;
    }
    let decimals = if size.abs() >= 100.0 {
        0
    } else if size.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{size:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text} {}", units[unit])
}

/// The dimension named `key` over the period, at most `limit` rows; None
/// for a key Skein does not know.
pub async fn dimension(
    state: &AppState,
    _staff: &Staff,
    key: &str,
    (start, end): (NaiveDate, NaiveDate),
    param: &str,
    limit: i64,
) -> Result<Option<(&'static str, Vec<Row>)>> {
    let Some(key) = DIMENSIONS.iter().find(|k| **k == key).copied() else {
        return Ok(None);
    };
    let param = if key.starts_with("instance_") {
        crate::domain::domain_name::normalize(param).unwrap_or_default()
    } else {
        param.trim().to_string()
    };
    let limit = limit.clamp(1, 100);
    let read = |d: Dimension| db::measures::dimension(&state.db, d, start, end, &param, limit);
    let own = state.urls.domain();
    let rows = match key {
        "languages" => counted(read(Dimension::Languages).await?, language_name),
        "tag_languages" => counted(read(Dimension::TagLanguages).await?, language_name),
        "instance_languages" => counted(read(Dimension::InstanceLanguages).await?, language_name),
        "sources" => counted(read(Dimension::Sources).await?, |k| {
            if k == "web" {
                "Website".to_string()
            } else {
                k.to_string()
            }
        }),
        "servers" => counted(read(Dimension::Servers).await?, str::to_string),
        "tag_servers" => counted(read(Dimension::TagServers).await?, |k| {
            if k.is_empty() {
                own.clone()
            } else {
                k.to_string()
            }
        })
        .into_iter()
        .map(|mut r| {
            if r.key.is_empty() {
                r.key = own.clone();
            }
            r
        })
        .collect(),
        "instance_accounts" => counted(read(Dimension::InstanceAccounts).await?, |k| {
            format!("{k}@{param}")
        }),
        "space_usage" => {
            let (database, media) = db::measures::space_usage(&state.db).await?;
            vec![
                bytes("postgresql", "PostgreSQL", database),
                bytes("media", "Media storage", media),
            ]
        }
        _ => {
            // software_versions
            let postgresql = db::measures::postgresql_version(&state.db).await?;
            let version = |key: &str, human_key: &str, value: String| Row {
                key: key.into(),
                human_key: human_key.into(),
                human_value: Some(value.clone()),
                value,
                unit: None,
            };
            vec![
                version("skein", "Skein", env!("CARGO_PKG_VERSION").to_string()),
                version("postgresql", "PostgreSQL", postgresql),
            ]
        }
    };
    Ok(Some((key, rows)))
}

/// One cohort: the period its users signed up in, and for it and each
/// later period (date, share still active, how many).
#[derive(Debug, Clone)]
pub struct Cohort {
    pub period: NaiveDate,
    pub frequency: &'static str,
    pub data: Vec<(NaiveDate, f64, i64)>,
}

pub async fn retention(
    state: &AppState,
    _staff: &Staff,
    (start, end): (NaiveDate, NaiveDate),
    frequency: &str,
) -> Result<Vec<Cohort>> {
    let frequency = match frequency {
        "day" => "day",
        "month" => "month",
        other => {
            return Err(Error::Validation(format!(
                "`{other}` is not a frequency: give day or month"
            )));
        }
    };
    let rows = db::measures::retention(&state.db, frequency, start, end).await?;
    let mut cohorts: Vec<Cohort> = Vec::new();
    for (cohort, period, active, size) in rows {
        if cohorts.last().is_none_or(|c| c.period != cohort) {
            cohorts.push(Cohort {
                period: cohort,
                frequency,
                data: Vec::new(),
            });
        }
        let rate = if size > 0 {
            active as f64 / size as f64
        } else {
            0.0
        };
        if let Some(last) = cohorts.last_mut() {
            last.data.push((period, rate, active));
        }
    }
    Ok(cohorts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_rails_writes_them() {
        assert_eq!(human_size(0), "0 Bytes");
        assert_eq!(human_size(1), "1 Byte");
        assert_eq!(human_size(1023), "1023 Bytes");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(1_234_567), "1.18 MB");
        assert_eq!(human_size(15 * 1024 * 1024 * 1024), "15 GB");
    }
}
