//! How the work queues stand: the admin area's federation page and the
//! metrics read it.

use crate::db;
use crate::error::Result;
use crate::service::audit::Staff;
use crate::state::AppState;

pub use crate::db::queue_health::{FailingHost, QueueHealth};

/// Hosts listed on the admin page.
const HOSTS_SHOWN: i64 = 100;

/// The queues' depths and the hosts whose deliveries fail, worst first
/// (any staff member may look).
pub async fn overview(state: &AppState, _staff: &Staff) -> Result<(QueueHealth, Vec<FailingHost>)> {
    let health = db::queue_health::read(&state.db, state.clock.now()).await?;
    let hosts = db::queue_health::failing_hosts(&state.db, HOSTS_SHOWN).await?;
    Ok((health, hosts))
}
