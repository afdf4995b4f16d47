//! ListFlights of the JSON dialect: one FlightInfo per dataframe of a bucket.

use arrow_flight::FlightInfo;

use super::get::frame_info;
use super::json;
use super::ShootsFlight;
use crate::daemon::auth::Principal;
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::BucketId;

impl ShootsFlight {
    pub(super) async fn list_json(&self, criteria: &[u8], caller: &Principal) -> Result<(String, Vec<FlightInfo>)> {
        let criteria = json::criteria(criteria)?;
        let bucket = BucketId::parse(criteria.bucket.as_deref())?;
        caller.require_bucket(&bucket)?;
        let pattern = match criteria.regex.as_deref() {
            None | Some("") => None,
            Some(r) => Some(
                regex::RegexBuilder::new(r)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| DaemonError::InvalidArgument(format!("invalid regex: {e}")))?,
            ),
        };
        let frames = self.store.dataframes(&bucket).await?;
        let bucket_retention = self.store.bucket_retention(&bucket).await?;
        let snapshots = self.store.named_snapshots(&bucket).await?;
        let infos = frames
            .iter()
            .filter(|s| pattern.as_ref().is_none_or(|p| p.is_match(s.name.as_str())))
            .map(|s| frame_info(s, bucket_retention.as_ref(), &snapshots))
            .collect::<Result<Vec<_>>>()?;
        Ok((format!("{bucket}: {} dataframes", infos.len()), infos))
    }
}
