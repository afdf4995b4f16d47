//! Log set-up: the daemon logs one line per request to stderr, level from
//! `SHOOTS_LOG` (e.g. `debug`, `shoots=debug,info`), default `info` with the
//! object store client's retries only when they give up (warn): a store
//! that does not answer is reported once, as the request's error.

pub fn init_daemon() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOOTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,object_store=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).try_init();
}
