//! DoPut of the JSON dialect: the descriptor's `PutCommand` names the
//! dataframe and the mode; the upload's batches go to the store.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::PutResult;
use futures::stream::BoxStream;

use super::json;
use super::upload::Upload;
use super::ShootsFlight;
use crate::daemon::auth::{Principal, Role};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{PutOutcome, PutSpec, Target};
use crate::protocol::PutReply;

impl ShootsFlight {
    /// Stores an upload; `detail` names the target for the log as soon as
    /// it is known, so a failed upload's line says what it was for.
    pub(super) async fn put_json(&self, upload: Upload, caller: &Principal, detail: &mut String) -> Result<PutResult> {
        caller.require(Role::Write, "put dataframes")?;
        let descriptor = upload
            .descriptor()
            .filter(|d| d.r#type() == DescriptorType::Cmd)
            .ok_or_else(|| DaemonError::InvalidArgument("DoPut needs a command descriptor with a JSON body".into()))?;
        let (target, spec) = json::put_command(&descriptor.cmd)?;
        caller.require_bucket(&target.bucket)?;
        *detail = target.to_string();

        let (schema, batches) = upload.decode().await?;
        let outcome = self.store_upload(&target, &spec, schema, batches, detail).await?;
        let reply = PutReply { version: outcome.version, rows: outcome.rows };
        Ok(PutResult { app_metadata: json::reply(&reply).into() })
    }

    /// Stores an upload, whatever its dialect, and compacts in the
    /// background when files pile up; the log line gets the outcome.
    pub(super) async fn store_upload(
        &self,
        target: &Target,
        spec: &PutSpec,
        schema: SchemaRef,
        batches: BoxStream<'static, Result<RecordBatch>>,
        detail: &mut String,
    ) -> Result<PutOutcome> {
        let outcome = self.store.put(&target.bucket, &target.name, spec.clone(), schema, batches).await?;
        self.store.maybe_compact_in_background(&target.bucket, &target.name, outcome.small_files);
        detail.push_str(&format!(" v{} +{} rows", outcome.version, outcome.rows));
        Ok(outcome)
    }
}
