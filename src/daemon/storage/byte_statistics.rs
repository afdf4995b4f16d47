//! The chunk statistics (min, max, null count) of string and binary columns
//! in the files a daemon writes, gathered at a fraction of the parquet
//! writer's cost: it compares every value with the chunk's minimum and
//! maximum through `memcmp` (a tenth of a put's CPU on issue #34's table,
//! whose 4-value strings it also interns). Here a value of at most eight
//! bytes becomes one integer that orders like it, and the least and
//! greatest of those are kept without a branch; longer values are compared
//! as bytes. The writer's own statistics are off for these columns and
//! these take their place, so each chunk keeps its exact min / max / null
//! count for pruning; what is given up is those columns' page index (the
//! min and max of each page within a chunk).

use arrow::array::{Array, AsArray, GenericByteArray, OffsetSizeTrait};
use arrow::datatypes::{ArrowNativeType, ByteArrayType, DataType};
use parquet::data_type::ByteArray;
use parquet::file::statistics::{Statistics, ValueStatistics};

/// Whether a column of `data_type` has its statistics gathered here.
pub(super) fn gathered(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

/// Longer bounds are not written: the parquet writer would truncate them
/// (to 64 bytes by default), and a bound that is not a value is not worth
/// the code that makes one here.
const MAX_BOUND: usize = 64;

pub(super) struct ByteStatistics {
    /// The least and greatest values of at most eight bytes, each as its
    /// bytes zero-padded to eight, big-endian, then its length: integers
    /// that order like the bytes and give them back. `u128::MAX` (no such
    /// key) for the least while there is none.
    short: (u128, u128),
    /// The least and greatest longer values.
    long: Option<(Vec<u8>, Vec<u8>)>,
    nulls: u64,
}

impl Default for ByteStatistics {
    fn default() -> Self {
        ByteStatistics { short: (u128::MAX, 0), long: None, nulls: 0 }
    }
}

/// The key of a value of at most eight bytes, from the eight bytes that
/// start with it (what follows it masked off).
fn short_key(word: [u8; 8], len: usize) -> u128 {
    let bytes = u64::from_be_bytes(word) & !(u64::MAX.checked_shr(8 * len as u32).unwrap_or(0));
    u128::from(bytes) << 64 | len as u128
}

impl ByteStatistics {
    /// Adds a column's rows; a column of a type not [`gathered`] adds
    /// nothing.
    pub(super) fn add(&mut self, column: &dyn Array) {
        self.nulls += column.logical_null_count() as u64;
        match column.data_type() {
            DataType::Utf8 => self.add_offsets(column.as_string::<i32>()),
            DataType::LargeUtf8 => self.add_offsets(column.as_string::<i64>()),
            DataType::Binary => self.add_offsets(column.as_binary::<i32>()),
            DataType::LargeBinary => self.add_offsets(column.as_binary::<i64>()),
            DataType::Utf8View => column.as_string_view().iter().flatten().for_each(|v| self.add_value(v.as_bytes())),
            DataType::BinaryView => column.as_binary_view().iter().flatten().for_each(|v| self.add_value(v)),
            _ => {}
        }
    }

    /// The values of an array of offsets into one buffer. A short value's
    /// key is read as the eight bytes at its offset, without copying it, and
    /// kept by `min` / `max` without a branch: random categories made every
    /// comparison a misprediction.
    fn add_offsets<T: ByteArrayType>(&mut self, array: &GenericByteArray<T>)
    where
        T::Offset: OffsetSizeTrait,
    {
        let (offsets, data) = (array.value_offsets(), array.value_data());
        let (mut least, mut greatest) = self.short;
        for (i, range) in offsets.windows(2).enumerate() {
            let (start, end) = (range[0].as_usize(), range[1].as_usize());
            if array.is_null(i) {
                continue;
            }
            let key = match data.get(start..start + 8) {
                Some(word) if end - start <= 8 => short_key(word.try_into().unwrap(), end - start),
                _ => {
                    self.add_value(&data[start..end]);
                    continue;
                }
            };
            least = least.min(key);
            greatest = greatest.max(key);
        }
        self.short = (self.short.0.min(least), self.short.1.max(greatest));
    }

    fn add_value(&mut self, value: &[u8]) {
        if value.len() <= 8 {
            let mut word = [0u8; 8];
            word[..value.len()].copy_from_slice(value);
            let key = short_key(word, value.len());
            self.short = (self.short.0.min(key), self.short.1.max(key));
            return;
        }
        match &mut self.long {
            None => self.long = Some((value.to_vec(), value.to_vec())),
            Some((min, _)) if value < min.as_slice() => *min = value.to_vec(),
            Some((_, max)) if value > max.as_slice() => *max = value.to_vec(),
            Some(_) => {}
        }
    }

    /// The statistics of the rows added since the last call, as the writer
    /// would have made them (unsigned byte order, exact bounds); starts over.
    pub(super) fn take(&mut self) -> Statistics {
        let ByteStatistics { short: (least, greatest), long, nulls } = std::mem::take(self);
        let bytes = |key: u128| ((key >> 64) as u64).to_be_bytes()[..(key as u8) as usize].to_vec();
        let short = (least != u128::MAX).then(|| (bytes(least), bytes(greatest)));
        let bounds = match (short, long) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
        let (min, max) = match bounds {
            Some((min, max)) if min.len() <= MAX_BOUND && max.len() <= MAX_BOUND => {
                (Some(ByteArray::from(min)), Some(ByteArray::from(max)))
            }
            _ => (None, None),
        };
        Statistics::ByteArray(ValueStatistics::new(min, max, None, Some(nulls), false))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BinaryArray, LargeStringArray, StringArray, StringViewArray};

    use super::*;

    fn bounds(stats: Statistics) -> (Option<Vec<u8>>, Option<Vec<u8>>, Option<u64>) {
        (stats.min_bytes_opt().map(<[u8]>::to_vec), stats.max_bytes_opt().map(<[u8]>::to_vec), stats.null_count_opt())
    }

    #[test]
    fn bounds_are_the_byte_order_min_and_max_whatever_the_lengths() {
        // Values that tie on their first eight bytes (zero bytes included),
        // shorter and longer than eight, and non-ASCII.
        let values =
            ["north", "ab", "ab\0", "a", "", "abcdefgh", "abcdefghi", "abcdefgh\0", "zz", "z", "é", "éa", "abcdefgha"];
        let mut rng = 7u64;
        for _ in 0..200 {
            let picked: Vec<Option<&str>> = (0..rng % 9 + 1)
                .map(|_| {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (rng >> 60 != 0).then(|| values[(rng >> 33) as usize % values.len()])
                })
                .collect();
            let present: Vec<&[u8]> = picked.iter().flatten().map(|s| s.as_bytes()).collect();
            let want = (
                present.iter().min().map(|v| v.to_vec()),
                present.iter().max().map(|v| v.to_vec()),
                Some((picked.len() - present.len()) as u64),
            );
            // One column, or the same rows split over two.
            let (first, second) = picked.split_at(picked.len() / 2);
            for columns in [vec![picked.clone()], vec![first.to_vec(), second.to_vec()]] {
                let mut stats = ByteStatistics::default();
                for rows in &columns {
                    stats.add(&StringArray::from(rows.clone()));
                }
                assert_eq!(bounds(stats.take()), want, "{picked:?}");
            }
            for column in [
                Arc::new(LargeStringArray::from(picked.clone())) as Arc<dyn Array>,
                Arc::new(StringViewArray::from(picked.clone())),
                Arc::new(BinaryArray::from(picked.iter().map(|v| v.map(str::as_bytes)).collect::<Vec<_>>())),
            ] {
                let mut stats = ByteStatistics::default();
                stats.add(column.as_ref());
                assert_eq!(bounds(stats.take()), want, "{picked:?} as {}", column.data_type());
            }
        }
    }

    #[test]
    fn all_nulls_and_long_values_give_no_bounds_and_take_starts_over() {
        let mut stats = ByteStatistics::default();
        stats.add(&StringArray::from(vec![None::<&str>, None]));
        assert_eq!(bounds(stats.take()), (None, None, Some(2)));
        let long = "x".repeat(MAX_BOUND + 1);
        stats.add(&StringArray::from(vec![Some("a"), Some(long.as_str())]));
        assert_eq!(bounds(stats.take()), (None, None, Some(0)));
        stats.add(&StringArray::from(vec!["b"]));
        assert_eq!(bounds(stats.take()), (Some(b"b".to_vec()), Some(b"b".to_vec()), Some(0)));
    }
}
