//! Tests that run the real binary against a real daemon.

mod support;
mod flight_protocol;
