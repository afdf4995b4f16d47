//! Retention in the background: every `--retention-every`, and soon after
//! a retention is set, each dataframe whose retention (its own, else its
//! bucket's) leaves rows behind loses them in a `retention` version.
//! Statistics rule out files without such rows, so a run that finds
//! nothing to do reads footers only.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::shutdown::Shutdown;
use super::storage::{BucketId, Store};

pub struct RetentionJob {
    store: Arc<Store>,
    wake: Notify,
}

impl RetentionJob {
    /// Starts the job; it stops when `shutdown` is triggered.
    pub fn start(store: Arc<Store>, every: Duration, shutdown: Shutdown) -> Arc<RetentionJob> {
        let job = Arc::new(RetentionJob { store, wake: Notify::new() });
        let running = job.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = running.wake.notified() => {}
                    _ = shutdown.wait() => return,
                }
                running.run_once().await;
            }
        });
        job
    }

    /// Has the job run as soon as it can (a retention was just set).
    pub fn run_soon(&self) {
        self.wake.notify_one();
    }

    async fn run_once(&self) {
        let buckets = match self.store.bucket_ids().await {
            Ok(buckets) => buckets,
            Err(e) => return tracing::warn!("retention: cannot list the buckets: {e}"),
        };
        for bucket in buckets {
            if let Err(e) = self.run_bucket(&bucket).await {
                tracing::warn!("retention in bucket {bucket}: {e}");
            }
        }
    }

    async fn run_bucket(&self, bucket: &BucketId) -> crate::daemon::error::Result<()> {
        let shared = self.store.bucket_retention(bucket).await?;
        for snap in self.store.dataframes(bucket).await? {
            let Some((rule, _)) = snap.retention(shared.as_ref()) else { continue };
            match self.store.apply_retention(&snap, rule).await {
                Ok(done) if !done.committed => {}
                Ok(done) => {
                    self.store.maybe_compact_in_background(bucket, &snap.name, done.small_files);
                    tracing::info!("retention: {bucket}/{} -{} rows v{}", snap.name, done.removed, done.version)
                }
                Err(e) => tracing::warn!("retention of {bucket}/{}: {e}", snap.name),
            }
        }
        Ok(())
    }
}
