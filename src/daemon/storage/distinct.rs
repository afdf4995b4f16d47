//! How many distinct values a data file's low-cardinality columns hold,
//! counted on a sample of its rows while it is written. Queries hand the
//! counts to DataFusion as estimates: an aggregate grouped by such a column
//! is then known to be small, so a join builds its hash table on the
//! aggregate rather than on the table it probes (without them it guesses
//! the aggregate as large as its input).

use std::collections::{BTreeMap, HashSet};

use arrow::array::{Array, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::SchemaRef;
use datafusion::common::hash_utils::{create_hashes, RandomState};

/// Every this many rows one is looked at (a prime, so that values which
/// repeat with a short period are all seen).
const STRIDE: usize = 31;
/// A column with more distinct values than this in the sample is left
/// uncounted: estimates matter where groups are few.
const MAX_COUNTED: usize = 1024;

/// Distinct values seen so far, per top-level column; `None` once past
/// [`MAX_COUNTED`] or for a column that cannot be hashed.
pub(super) struct DistinctSample {
    schema: SchemaRef,
    seen: Vec<Option<HashSet<u64>>>,
    /// Rows observed so far.
    rows: usize,
}

impl DistinctSample {
    pub(super) fn new(schema: &SchemaRef) -> DistinctSample {
        DistinctSample { schema: schema.clone(), seen: vec![Some(HashSet::new()); schema.fields().len()], rows: 0 }
    }

    pub(super) fn observe(&mut self, batch: &RecordBatch) {
        let first = (STRIDE - self.rows % STRIDE) % STRIDE;
        self.rows += batch.num_rows();
        if self.seen.iter().all(Option::is_none) {
            return;
        }
        let picks: UInt32Array = (first..batch.num_rows()).step_by(STRIDE).map(|r| r as u32).collect();
        let mut hashes = vec![0; picks.len()];
        for (seen, column) in self.seen.iter_mut().zip(batch.columns()) {
            let Some(set) = seen else { continue };
            // A type that cannot be taken or hashed is left uncounted.
            let Ok(sampled) = take(column.as_ref(), &picks, None) else {
                *seen = None;
                continue;
            };
            if create_hashes([&sampled], &RandomState::default(), &mut hashes).is_err() {
                *seen = None;
                continue;
            }
            let nulls = sampled.logical_nulls();
            set.extend(
                hashes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| nulls.as_ref().is_none_or(|n| n.is_valid(*i)))
                    .map(|(_, h)| *h),
            );
            if set.len() > MAX_COUNTED {
                *seen = None;
            }
        }
    }

    /// The counts of the columns that stayed few, by name.
    pub(super) fn counts(&self) -> BTreeMap<String, u64> {
        self.schema
            .fields()
            .iter()
            .zip(&self.seen)
            .filter_map(|(field, seen)| Some((field.name().clone(), seen.as_ref()?.len() as u64)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn few_values_are_counted_and_many_are_not() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("site", DataType::Utf8, true),
            Field::new("k", DataType::Int64, false),
            Field::new("x", DataType::Float64, false),
        ]));
        let mut sample = DistinctSample::new(&schema);
        for part in 0..10 {
            let rows = 10_000;
            let sites: StringArray =
                (0..rows).map(|i| if i % 7 == 0 { None } else { Some(["a", "b", "c"][i % 3]) }).collect();
            let k: Int64Array = (0..rows as i64).map(|i| i % 10).collect();
            let x: Float64Array = (0..rows).map(|i| (part * rows + i) as f64).collect();
            let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(sites), Arc::new(k), Arc::new(x)]).unwrap();
            sample.observe(&batch);
        }
        let counts = sample.counts();
        assert_eq!(counts.get("site"), Some(&3));
        assert_eq!(counts.get("k"), Some(&10));
        assert_eq!(counts.get("x"), None);
    }
}
