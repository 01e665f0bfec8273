//! `twofold`: parse the command line and run it; everything after parsing
//! (configuration, the database, the server) is [`twofold::cli::run`].
//! Here only: TLS set-up before any connection, and how a failure is shown.

use std::process::ExitCode;

use clap::Parser;
use twofold::cli::Cli;

fn main() -> ExitCode {
    // Before any database connection: OpenSSL without an exit handler.
    twofold::db::init_tls();
    let cli = Cli::parse();
    let json = cli.json;
    match twofold::cli::run(cli) {
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
