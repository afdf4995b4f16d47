//! The small vocabularies of the wire: error kinds and modes. Each is one
//! enum whose string form is what travels, so the client, the daemon and
//! the storage all speak of the same values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The `type` of an error's `extra_info` (`{"type", "message"}`), which the
/// original Python client maps to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No such dataframe or bucket.
    NotFound,
    /// Put with mode `error` onto an existing dataframe.
    Exists,
    BucketNotEmpty,
    InvalidName,
    SchemaMismatch,
    InvalidArgument,
    /// SQL that fails to parse, plan or run.
    DataFusion,
    /// Storage failures, and the daemon's own (which the original reported so).
    Io,
    /// A Handshake token that does not decode or whose signature or expiry
    /// is wrong.
    InvalidToken,
    Unauthenticated,
    Unauthorized,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::NotFound,
        ErrorKind::Exists,
        ErrorKind::BucketNotEmpty,
        ErrorKind::InvalidName,
        ErrorKind::SchemaMismatch,
        ErrorKind::InvalidArgument,
        ErrorKind::DataFusion,
        ErrorKind::Io,
        ErrorKind::InvalidToken,
        ErrorKind::Unauthenticated,
        ErrorKind::Unauthorized,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "FileNotFoundError",
            ErrorKind::Exists => "FileExistsError",
            ErrorKind::BucketNotEmpty => "BucketNotEmptyError",
            ErrorKind::InvalidName => "InvalidNameError",
            ErrorKind::SchemaMismatch => "SchemaMismatchError",
            ErrorKind::InvalidArgument => "InvalidArgumentError",
            ErrorKind::DataFusion => "DataFusionError",
            ErrorKind::Io => "ShootsIOError",
            ErrorKind::InvalidToken => "InvalidTokenError",
            ErrorKind::Unauthenticated => "FlightUnauthenticatedError",
            ErrorKind::Unauthorized => "FlightUnauthorizedError",
        }
    }

    /// The kind a wire `type` names, if it is one of ours.
    pub fn from_wire(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error's `extra_info` on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// Unknown spellings name the values that exist, so a typo explains itself.
fn unknown(what: &str, got: &str, allowed: &[&str]) -> String {
    format!("unknown {what} \"{}\": must be one of {}", got.escape_default(), allowed.join(", "))
}

/// `as_str`, parsing (an unknown spelling names the ones that exist) and
/// serde's conversions for an enum that travels as one lowercase word.
macro_rules! wire_words {
    ($enum:ident, $what:literal, { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $enum {
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $word,)+
                }
            }
        }

        impl FromStr for $enum {
            type Err = String;
            fn from_str(s: &str) -> Result<$enum, String> {
                match s {
                    $($word => Ok($enum::$variant),)+
                    _ => Err(unknown($what, s, &[$($word),+])),
                }
            }
        }

        impl TryFrom<String> for $enum {
            type Error = String;
            fn try_from(s: String) -> Result<$enum, String> {
                s.parse()
            }
        }

        impl From<$enum> for &'static str {
            fn from(m: $enum) -> &'static str {
                m.as_str()
            }
        }
    };
}

/// What a put does when the dataframe exists. On the wire `mode` defaults
/// to `error` for a put and to `append` for resample, as in the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(try_from = "String", into = "&'static str")]
pub enum PutMode {
    /// Refuse if the dataframe exists
    Error,
    /// Add the rows to the dataframe (same columns and types)
    Append,
    /// Replace the dataframe
    Replace,
    /// Replace the rows whose --key columns match the data's, append the rest
    Upsert,
}

wire_words!(PutMode, "mode", { Error => "error", Append => "append", Replace => "replace", Upsert => "upsert" });

/// Whether an append or upsert may change the dataframe's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(try_from = "String", into = "&'static str")]
pub enum SchemaPolicy {
    /// The data must have the dataframe's columns and types
    #[default]
    Exact,
    /// New columns are added, missing ones are null, types may widen
    Merge,
}

wire_words!(SchemaPolicy, "schema", { Exact => "exact", Merge => "merge" });

/// `90m`, `12h`, `30d`: a count and a unit (s, m, h, d, w).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("not a duration: {s:?} (e.g. 12h, 30d)"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit in {s:?}: use s, m, h, d or w")),
    };
    n.checked_mul(secs).map(std::time::Duration::from_secs).ok_or_else(|| format!("duration too long: {s}"))
}

/// A duration in the largest of `parse_duration`'s units that divides it.
pub fn format_duration(secs: u64) -> String {
    let unit = [(7 * 86_400, "w"), (86_400, "d"), (3_600, "h"), (60, "m")]
        .into_iter()
        .find(|(n, _)| secs > 0 && secs.is_multiple_of(*n));
    match unit {
        Some((n, u)) => format!("{}{u}", secs / n),
        None => format!("{secs}s"),
    }
}

/// What `delete_bucket` does with a bucket that still holds dataframes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum BucketDeleteMode {
    /// Refuse (`BucketNotEmptyError`).
    #[default]
    Error,
    /// Delete them with the bucket.
    Delete,
}

wire_words!(BucketDeleteMode, "delete_bucket mode", { Error => "error", Delete => "delete" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_round_trip_through_their_wire_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_wire(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::from_wire("ValueError"), None);
    }

    #[test]
    fn durations_parse_and_print_back() {
        assert_eq!(parse_duration("90m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("30d").unwrap().as_secs(), 30 * 86_400);
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("h").is_err());
        for s in ["30d", "2w", "90m", "36h", "45s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap().as_secs()), s);
        }
    }

    #[test]
    fn modes_travel_as_their_names() {
        assert_eq!(serde_json::to_string(&PutMode::Append).unwrap(), "\"append\"");
        assert_eq!(serde_json::from_str::<PutMode>("\"replace\"").unwrap(), PutMode::Replace);
        let err = serde_json::from_str::<PutMode>("\"merge\"").unwrap_err().to_string();
        assert!(err.contains("unknown mode \"merge\": must be one of error, append, replace, upsert"), "{err}");
        assert_eq!(serde_json::from_str::<SchemaPolicy>("\"merge\"").unwrap(), SchemaPolicy::Merge);
        let err = serde_json::from_str::<BucketDeleteMode>("\"all\"").unwrap_err().to_string();
        assert!(err.contains("must be one of error, delete"), "{err}");
    }
}
