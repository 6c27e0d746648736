//! NEP-297 events: the worker's event monitor reads `execution_requested`
//! to start work, and everyone reads `execution_completed` to see how a
//! request was settled. The log lines come from `outlayer-types`, so the
//! contract and the parser share one definition.

use near_sdk::env;
use outlayer_types::{ExecutionCompleted, ExecutionRequest, OutlayerEvent};

pub fn execution_requested(request: ExecutionRequest) {
    env::log_str(&OutlayerEvent::ExecutionRequested(vec![request]).to_log_line());
}

pub fn execution_completed(completed: ExecutionCompleted) {
    env::log_str(&OutlayerEvent::ExecutionCompleted(vec![completed]).to_log_line());
}
