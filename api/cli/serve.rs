//! `twofold serve`: logging, migrations, the identity-profile report, then
//! the HTTP server and the janitor until SIGTERM/SIGINT.

use std::time::Duration;

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
    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(crate::ops::janitor::run(
            state.clone(),
            Duration::from_secs(600),
        ));
        let factory_state = state.clone();
        HttpServer::new(move || app(factory_state.clone()))
            .bind(config.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?
            // SIGTERM/SIGINT: stop accepting, let requests in flight finish.
            .shutdown_timeout(15)
            .run()
            .await
            .map_err(|e| e.to_string())
    })?;
    tracing::info!("stopped");
    Ok(())
}
