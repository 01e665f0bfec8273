//! `twofold serve`: logging, the CPU weight of its session, migrations,
//! the identity-profile report, then the HTTP server, the janitor and the
//! key maintenance pass until SIGTERM or SIGINT.
//!
//! Shutdown drains, bounded: on the first SIGTERM or SIGINT the listener
//! closes (new connections are refused), idle keep-alive connections close,
//! and requests in flight get up to `TWOFOLD_SHUTDOWN_TIMEOUT_SECS` to finish,
//! each answered with `Connection: close`. Whatever still runs then is cut
//! (its connection closed unanswered). Either way the janitor stops, the
//! database pool closes and the process exits 0: the stop was asked for,
//! and the "stopped" line's `elapsed_ms` shows whether the drain ran out.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::rt::signal::unix::{signal, Signal, SignalKind};
use actix_web::HttpServer;

use super::dispatch::{open_db, users_outside_profile};
use crate::config::{Config, LogFormat};
use crate::users::profile_check;
use crate::{app, AppState};

fn init_logging(config: &Config) {
    // The filter was checked when the configuration was read.
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a file or a pipe.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

pub fn serve(config: Config) -> Result<(), String> {
    init_logging(&config);
    yield_to_other_sessions(config.autogroup_nice);
    let db = open_db(&config)?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    match users_outside_profile(&db) {
        Ok(outside) if outside.is_empty() => {}
        Ok(outside) => tracing::warn!(
            users_outside_profile = outside.len(),
            "{}",
            profile_check::describe(&outside)
        ),
        Err(e) => tracing::warn!(error = %e, "could not check users against the identity profile"),
    }
    let state = AppState::from_config(config.clone(), db).map_err(|e| e.to_string())?;
    tracing::info!(
        bind = %config.bind,
        database = state.db.backend(),
        migrations_applied = applied,
        data_dir = %config.data_dir.display(),
        "starting twofold"
    );
    let drain = config.shutdown_timeout;
    let stop_asked = Arc::new(OnceLock::new());
    let asked = Arc::clone(&stop_asked);
    actix_web::rt::System::new().block_on(async move {
        // Before listening: a signal that arrives once requests can come in
        // must drain them, never kill the process outright.
        let term = listen(SignalKind::terminate(), "SIGTERM")?;
        let int = listen(SignalKind::interrupt(), "SIGINT")?;
        let janitor = actix_web::rt::spawn(crate::ops::janitor::run(
            state.clone(),
            Duration::from_secs(600),
        ));
        let keys = actix_web::rt::spawn(crate::keys::run(state.clone()));
        let factory_state = state.clone();
        let served = HttpServer::new(move || app(factory_state.clone()))
            .bind(config.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?
            .shutdown_timeout(drain.as_secs())
            .shutdown_signal(stop_signal(term, int, drain, asked))
            .run()
            .await
            .map_err(|e| e.to_string());
        // After a full drain the workers have dropped their apps, and the
        // pool handles in them: the janitor and this state hold the last
        // ones, so the pool closes here. Requests cut at the deadline let go
        // of theirs as their worker threads wind down, or at exit.
        janitor.abort();
        keys.abort();
        let _ = janitor.await;
        let _ = keys.await;
        drop(state);
        served
    })?;
    let elapsed_ms = stop_asked
        .get()
        .map(|asked: &Instant| u64::try_from(asked.elapsed().as_millis()).unwrap_or(u64::MAX));
    tracing::info!(elapsed_ms, "stopped");
    Ok(())
}

/// Lowers the process's autogroup weight when it leads its session (see
/// [`crate::ops::autogroup`]), before any worker thread starts.
fn yield_to_other_sessions(nice: u32) {
    use crate::ops::autogroup::{lower, Autogroup};
    match lower(nice) {
        Autogroup::Lowered(nice) => tracing::info!(
            autogroup_nice = nice,
            "the process's session yields the CPU to other sessions, database backends among them"
        ),
        Autogroup::Unchanged(why) => tracing::info!(reason = why, "autogroup left as it is"),
        Autogroup::Refused(e) => {
            tracing::warn!(error = %e, "cannot set the autogroup's nice value")
        }
    }
}

fn listen(kind: SignalKind, name: &str) -> Result<Signal, String> {
    signal(kind).map_err(|e| format!("cannot listen for {name}: {e}"))
}

/// Resolves at the first SIGTERM or SIGINT, which starts actix's graceful
/// stop. Both drain: actix on its own would cut everything at once on
/// SIGINT, and Ctrl-C at a terminal should behave like an orchestrator's stop.
async fn stop_signal(
    mut term: Signal,
    mut int: Signal,
    drain: Duration,
    asked: Arc<OnceLock<Instant>>,
) {
    let signal = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    let _ = asked.set(Instant::now());
    tracing::info!(
        signal,
        drain_timeout_secs = drain.as_secs(),
        "shutting down: new connections refused, requests in flight finishing"
    );
}
