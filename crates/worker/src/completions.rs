//! Reporting finished jobs. Completions that finish while another report is
//! on its way wait for it and then go together in one `/jobs/complete-batch`
//! call: a busy worker makes one round trip for several jobs, and a lone
//! completion goes at once through `/jobs/{id}/complete`.

use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::coordinator::{CompleteJob, JobCompletion, MAX_COMPLETE_BATCH};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// One job's outcome waiting to be sent, and where its answer goes.
struct Pending {
    job_id: u64,
    completion: CompleteJob,
    answer: oneshot::Sender<Result<(), String>>,
}

/// Cheap to clone; the sender stops once every clone is dropped and the
/// last reports are sent.
#[derive(Clone)]
pub(crate) struct Completions(mpsc::UnboundedSender<Pending>);

impl Completions {
    pub(crate) fn start(coordinator: CoordinatorClient) -> (Self, JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        (Self(queue), tokio::spawn(send(coordinator, pending)))
    }

    /// Records the job's outcome at the coordinator; the error says why
    /// that failed (the call, or this job's refusal).
    pub(crate) async fn complete(
        &self,
        job_id: u64,
        completion: CompleteJob,
    ) -> Result<(), String> {
        let (answer, answered) = oneshot::channel();
        self.0
            .send(Pending {
                job_id,
                completion,
                answer,
            })
            .map_err(|_| "the worker is stopping".to_owned())?;
        answered
            .await
            .unwrap_or_else(|_| Err("the worker is stopping".into()))
    }
}

async fn send(coordinator: CoordinatorClient, mut pending: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = pending.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_COMPLETE_BATCH
            && let Ok(next) = pending.try_recv()
        {
            batch.push(next);
        }
        let results: Vec<Result<(), String>> = match batch.as_slice() {
            [one] => vec![
                coordinator
                    .complete(one.job_id, &one.completion)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string()),
            ],
            many => {
                let items: Vec<JobCompletion> = many
                    .iter()
                    .map(|p| JobCompletion {
                        job_id: p.job_id,
                        completion: p.completion.clone(),
                    })
                    .collect();
                match coordinator.complete_batch(&items).await {
                    Ok(results) => results
                        .into_iter()
                        .map(|r| r.map(drop).map_err(|e| e.to_string()))
                        .collect(),
                    Err(e) => vec![Err(e.to_string()); many.len()],
                }
            }
        };
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.answer.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outlayer_types::coordinator::{JobState, JobType};

    fn done(lease_token: &str) -> CompleteJob {
        CompleteJob {
            lease_token: lease_token.to_owned(),
            success: true,
            error_category: None,
            error: None,
            output_summary: None,
            metrics: None,
            actual_cost: None,
            resolve_tx_hash: None,
            resolve_submitted_at_ms: None,
        }
    }

    /// Completions sent in one batch to a real coordinator: each is
    /// answered on its own (a stale lease refused, the others recorded).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn completions_sent_together_are_each_answered() {
        let dir = tempfile::tempdir().unwrap();
        let running = outlayer_coordinator::spawn(outlayer_coordinator::Config::local(
            dir.path().to_path_buf(),
        ))
        .await
        .unwrap();
        let token = outlayer_coordinator::tokens::create(&running.coordinator.store, "w")
            .await
            .unwrap();
        let client = CoordinatorClient::new(&running.url(), Some(token));
        for id in 1..=5 {
            let mut request = crate::sample_request(id);
            request.code_source = outlayer_types::CodeSource::WasmUrl {
                url: "https://example.org/p.wasm".into(),
                hash: "ab".repeat(32),
                build_target: outlayer_types::BuildTarget::Wasip1,
            };
            client.create_execution(&request).await.unwrap();
        }
        let jobs = client.claim_batch("w", &JobType::ALL, 5, 0).await.unwrap();
        assert_eq!(jobs.len(), 5);

        // All five queued before the sender starts: they go as one batch.
        let (queue, pending) = mpsc::unbounded_channel();
        let completions = Completions(queue);
        let sent: Vec<_> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| {
                let token = if i == 2 {
                    "not-the-lease"
                } else {
                    &job.lease_token
                };
                let (completions, job_id, completion) =
                    (completions.clone(), job.job_id, done(token));
                tokio::spawn(async move { completions.complete(job_id, completion).await })
            })
            .collect();
        while pending.len() < 5 {
            tokio::task::yield_now().await;
        }
        let sender = tokio::spawn(send(client.clone(), pending));
        let mut answers = Vec::new();
        for answer in sent {
            answers.push(answer.await.unwrap());
        }
        drop(completions);
        sender.await.unwrap();

        for (i, answer) in answers.iter().enumerate() {
            if i == 2 {
                let refused = answer.as_ref().unwrap_err();
                assert!(refused.contains("409"), "{refused}");
            } else {
                assert_eq!(answer, &Ok(()), "job {i}");
            }
        }
        let page = client.jobs("job_type=execute").await.unwrap();
        let states: Vec<(u64, JobState)> =
            page.jobs.iter().map(|j| (j.request_id, j.state)).collect();
        assert_eq!(states.len(), 5);
        let refused = jobs[2].request_id;
        for (request_id, state) in states {
            let expected = if request_id == refused {
                JobState::Claimed
            } else {
                JobState::Completed
            };
            assert_eq!(state, expected, "request {request_id}");
        }
        running.stop().await;
    }
}
