//! Tests that run the real binary against a real daemon.

mod commands;
mod flight_protocol;
mod hostile;
mod operate;
mod readme;
mod repl;
mod settings;
mod support;
