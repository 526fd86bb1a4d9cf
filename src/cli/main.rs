//! `heygen`: the HeyGen Video Agent API from the command line.
//!
//! Exit codes: 0 success; 1 API or transport error; 2 usage or client-side validation error
//! (nothing was sent); 3 the video or session failed (or needs input); 4 a wait timed out;
//! 5 webhook verification failed.

mod args;
mod batch;
mod commands;
mod destination;
mod human;
mod output;
mod spec_commands;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() -> ExitCode {
    // The handwritten commands, plus one derived from the spec for every other operation.
    let matches = spec_commands::augment(args::Cli::command()).get_matches();
    logging(matches.get_flag("verbose"));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        if let Some((op, leaf)) = spec_commands::matched(&matches) {
            let globals = match args::Globals::from_arg_matches(&matches) {
                Ok(globals) => globals,
                Err(error) => error.exit(),
            };
            let json = globals.json;
            return spec_commands::run(|| commands::client(&globals), op, leaf, json).await;
        }
        match args::Cli::from_arg_matches(&matches) {
            Ok(cli) => commands::run(cli).await,
            Err(error) => error.exit(),
        }
    });
    ExitCode::from(code as u8)
}

/// Logs on stderr: what `RUST_LOG` asks for, else every request with `-v`, else nothing.
fn logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        // One line per attempt, and the retries' reasons.
        _ if verbose => EnvFilter::new("heygen_api::api::hooks=debug,heygen_api::api::retry=debug"),
        _ => return,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Every command, handwritten or derived from the spec, passes clap's own consistency
    /// checks (a misconfigured flag would otherwise panic only when that command is used).
    #[test]
    fn every_command_is_consistent() {
        crate::spec_commands::augment(crate::args::Cli::command()).debug_assert();
    }
}
