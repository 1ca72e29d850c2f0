//! Repairs an admin runs from the command line (`skein maintenance …`).

use sqlx::PgPool;

use crate::db;
use crate::error::Result;

/// Rebuilds every account's counts (followers, following, posts, latest
/// post) from the rows they count; how many were wrong. They are kept as
/// things change, in the same transaction; this repairs them after a
/// manual edit of the database or a restore of part of it.
pub async fn recount_account_stats(db: &PgPool) -> Result<u64> {
    Ok(db::views::recount_account_stats(db).await?)
}
