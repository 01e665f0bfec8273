//! `twofold`: parse the command line, load configuration, run the command.

use std::process::ExitCode;
use std::time::Duration;

use actix_web::HttpServer;
use clap::Parser;
use twofold::accounts::service::{self as accounts, NewAccount};
use twofold::cli::{AccountsCommand, Cli, Command, UsersCommand};
use twofold::clock::{Clock, SystemClock};
use twofold::config::{Config, LogFormat};
use twofold::crypto::password::PasswordHasher;
use twofold::db::Db;
use twofold::users::profile_check;
use twofold::{app, AppState};

fn main() -> ExitCode {
    // Before any database connection: OpenSSL without an exit handler.
    twofold::db::init_tls();
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if json {
                eprintln!("{}", serde_json::json!({ "error": message }));
            } else {
                eprintln!("twofold: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    if let Command::Openapi { output } = &cli.command {
        let yaml = twofold::openapi::yaml()?;
        return match output {
            Some(path) => {
                std::fs::write(path, yaml).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => {
                print!("{yaml}");
                Ok(())
            }
        };
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    match cli.command {
        Command::Openapi { .. } => Ok(()),
        Command::Serve => serve(config),
        Command::Migrate => {
            let db = open_db(&config)?;
            let applied = db.migrate().map_err(|e| e.to_string())?;
            let outside = users_outside_profile(&db)?;
            let value = serde_json::json!({
                "applied": applied,
                "database": db.backend(),
                "users_outside_profile": outside,
            });
            print(cli.json, &value, || {
                format!(
                    "{applied} migration(s) applied to {}\n{}",
                    db.backend(),
                    profile_check::describe(&outside)
                )
            })
        }
        Command::Accounts(command) => accounts_command(cli.json, &config, command),
        Command::Users(UsersCommand::ResetTwofa { email }) => {
            let db = open_db(&config)?;
            db.migrate().map_err(|e| e.to_string())?;
            let mut conn = db.conn().map_err(|e| e.to_string())?;
            let reset =
                twofold::twofa::service::reset_by_email(&mut conn, &email, SystemClock.unix())
                    .map_err(|e| match e {
                        twofold::error::ApiError::NotFound => format!("no user with email {email}"),
                        twofold::error::ApiError::Validation(_) => {
                            format!("--email: {email} is not an email address")
                        }
                        other => other.to_string(),
                    })?;
            let value = serde_json::to_value(&reset).map_err(|e| e.to_string())?;
            print(cli.json, &value, || {
                format!(
                    "2FA reset for {} ({}); {} session(s) revoked; the next login enrolls a new authenticator",
                    reset.email, reset.user_id, reset.sessions_revoked
                )
            })
        }
    }
}

fn open_db(config: &Config) -> Result<Db, String> {
    Db::connect(&config.database_url).map_err(|e| e.to_string())
}

/// Users created before the identity profile who fall outside it: reported
/// by `migrate` and at `serve` start, never changed.
fn users_outside_profile(db: &Db) -> Result<Vec<profile_check::Finding>, String> {
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    profile_check::users_outside_profile(&mut conn).map_err(|e| e.to_string())
}

fn print(
    json: bool,
    value: &serde_json::Value,
    human: impl FnOnce() -> String,
) -> Result<(), String> {
    if json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
    Ok(())
}

fn accounts_command(json: bool, config: &Config, command: AccountsCommand) -> Result<(), String> {
    let db = open_db(config)?;
    db.migrate().map_err(|e| e.to_string())?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let now = SystemClock.unix();
    let describe = |e: twofold::error::ApiError| match e {
        twofold::error::ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
            .collect::<Vec<_>>()
            .join("; "),
        twofold::error::ApiError::NotFound => "no such account".to_owned(),
        twofold::error::ApiError::Conflict { detail, .. } => detail,
        other => other.to_string(),
    };
    match command {
        AccountsCommand::Create {
            name,
            admin_email,
            admin_name,
            licenses,
        } => {
            let hasher = PasswordHasher::new(config.password)?;
            let input = NewAccount {
                name: &name,
                admin_email: &admin_email,
                admin_name: admin_name.as_deref(),
                licenses,
            };
            let created = accounts::create(&mut conn, &hasher, &input, now).map_err(describe)?;
            let value = serde_json::to_value(&created).map_err(|e| e.to_string())?;
            print(json, &value, || {
                format!(
                    "account {}\nadmin   {} ({})\npassword {}\n(shown once: change it with POST /v1/me/password)",
                    created.account_id,
                    created.email,
                    created.user_id,
                    created.password.expose()
                )
            })
        }
        AccountsCommand::DisableIpAllowlist { account } => {
            let changed = twofold::ip_allowlist::disable_by_support(&mut conn, &account, now)
                .map_err(describe)?;
            let value = serde_json::json!({ "account_id": account, "ip_allowlist_enabled": false, "changed": changed });
            print(json, &value, || {
                format!(
                    "IP allow-list of account {account} is off{}",
                    if changed { "" } else { " (it was already)" }
                )
            })
        }
        AccountsCommand::SetPaying {
            account,
            since,
            licenses,
        } => {
            let state =
                accounts::set_paying(&mut conn, &account, since.unwrap_or(now), licenses, now)
                    .map_err(describe)?;
            let value = serde_json::to_value(&state).map_err(|e| e.to_string())?;
            print(json, &value, || {
                format!(
                    "account {} paying since {} ({} licenses); 2FA enforced from {}",
                    state.account_id, state.paying_since, state.licenses, state.twofa_enforced_from
                )
            })
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn serve(config: Config) -> Result<(), String> {
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
        actix_web::rt::spawn(twofold::ops::janitor::run(
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
