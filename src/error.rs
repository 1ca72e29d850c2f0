//! The error type shared by services and handlers, and its HTTP mapping.
//!
//! Bodies follow Mastodon's `{"error": "..."}` shape. A 5xx body never says
//! what went wrong inside; the cause is logged once, in the request's span.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; nothing was changed.
    #[error("{0}")]
    Validation(String),
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The resource existed and is gone for good (a deleted account or post).
    #[error("gone")]
    Gone,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request took too long")]
    Timeout,
    /// A rate limit was reached; try again later.
    #[error("Too many requests")]
    TooManyRequests,
    /// The media store (a bucket, the media directory) failed; nothing
    /// was stored.
    #[error("media storage is unavailable")]
    StorageUnavailable(#[source] anyhow::Error),
    /// A service the operator configured (translation) is missing or
    /// failed; the message is the client's, the cause was logged.
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Gone => StatusCode::GONE,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Timeout => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Error::StorageUnavailable(_) | Error::ServiceUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may read: the message for client errors, a generic
    /// phrase for server errors.
    pub fn public_message(&self) -> String {
        match self {
            Error::Database(_) | Error::Internal(_) => "internal server error".to_string(),
            Error::NotFound => "Record not found".to_string(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        (
            status,
            Json(serde_json::json!({ "error": self.public_message() })),
        )
            .into_response()
    }
}
