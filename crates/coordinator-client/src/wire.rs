//! Request and response shapes of the routes newer than the ones in
//! `outlayer_types::coordinator` (which the contract's crates share): the
//! coordinator and this client both use these, so there is one definition.

use outlayer_types::coordinator::{ClaimedJob, JobType};
use serde::{Deserialize, Serialize};

/// Most jobs one `POST /jobs/claim-batch` hands out.
pub const MAX_CLAIM_BATCH: u32 = 64;

/// `POST /jobs/claim-batch`: take up to `max_jobs` pending jobs (the
/// worker's free slots), oldest first, in one call; when none is pending,
/// wait up to `wait_ms` (capped by the coordinator's longest poll) for one.
/// It replaces poll → claim: nothing is offered that another worker may
/// take first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimJobs {
    pub worker_id: String,
    #[serde(default = "all_job_types")]
    pub capabilities: Vec<JobType>,
    /// 1 to [`MAX_CLAIM_BATCH`].
    pub max_jobs: u32,
    /// 0 or absent: answer at once, with what is pending.
    #[serde(default)]
    pub wait_ms: Option<u64>,
}

fn all_job_types() -> Vec<JobType> {
    JobType::ALL.to_vec()
}

/// The jobs claimed, oldest first, each under its own lease; empty when
/// nothing was pending within the wait.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedJobs {
    pub jobs: Vec<ClaimedJob>,
}
