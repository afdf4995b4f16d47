//! Which request dialect a call speaks: the one place that decides.
//!
//! A descriptor command or ticket that decodes as a protobuf `Any` whose
//! type URL names a Flight SQL message is Flight SQL; anything else is the
//! JSON dialect, which stays exactly as the original defined it. Actions
//! are told apart by name.

use arrow_flight::sql::{Any, Command};
use prost::Message;

/// Flight SQL's type URLs all start so.
const FLIGHT_SQL_TYPE: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

/// The actions Flight SQL defines, and what each does.
pub(super) const FLIGHT_SQL_ACTIONS: [(&str, &str); 2] = [
    ("CreatePreparedStatement", "Flight SQL: prepare a statement (the handle carries the SQL; no server-side state)"),
    ("ClosePreparedStatement", "Flight SQL: close a prepared statement (always succeeds)"),
];

pub(super) enum Dialect {
    Json,
    FlightSql(Command),
}

impl Dialect {
    /// The dialect of a descriptor command or ticket.
    pub(super) fn of(payload: &[u8]) -> Dialect {
        match Any::decode(payload) {
            Ok(any) if any.type_url.starts_with(FLIGHT_SQL_TYPE) => match Command::try_from(any) {
                Ok(command) => Dialect::FlightSql(command),
                // A Flight SQL type whose body does not decode: Flight SQL's
                // to refuse, as a message it does not know.
                Err(_) => Dialect::FlightSql(Command::Unknown(Any::default())),
            },
            _ => Dialect::Json,
        }
    }

    /// The dialect of an action, by its type.
    pub(super) fn of_action(action_type: &str) -> Dialect {
        if FLIGHT_SQL_ACTIONS.iter().any(|(name, _)| *name == action_type) || is_other_flight_sql_action(action_type) {
            Dialect::FlightSql(Command::Unknown(Any::default()))
        } else {
            Dialect::Json
        }
    }

    pub(super) fn is_flight_sql(&self) -> bool {
        matches!(self, Dialect::FlightSql(_))
    }
}

/// Flight SQL actions shoots does not support (transactions, savepoints,
/// Substrait, cancel): refused the Flight SQL way, not as unknown JSON actions.
fn is_other_flight_sql_action(action_type: &str) -> bool {
    matches!(
        action_type,
        "BeginTransaction"
            | "EndTransaction"
            | "BeginSavepoint"
            | "EndSavepoint"
            | "CancelQuery"
            | "CreatePreparedSubstraitPlan"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt};

    #[test]
    fn flight_sql_any_is_flight_sql_and_everything_else_json() {
        let query = CommandStatementQuery { query: "select 1".into(), transaction_id: None };
        assert!(Dialect::of(&query.as_any().encode_to_vec()).is_flight_sql());
        for json in [&br#"{"name": "x", "bucket": null}"#[..], b"", b"\x0a\x03abc", b"not json"] {
            assert!(!Dialect::of(json).is_flight_sql(), "{json:?}");
        }
        assert!(Dialect::of_action("CreatePreparedStatement").is_flight_sql());
        assert!(!Dialect::of_action("delete").is_flight_sql());
    }
}
