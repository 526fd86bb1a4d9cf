//! `heygen`: the HeyGen Video Agent API from the command line.
//!
//! Exit codes: 0 success; 1 API or transport error; 2 usage or client-side validation error
//! (nothing was sent); 3 the video or session failed (or needs input); 4 a wait timed out;
//! 5 webhook verification failed.

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
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
    let code = runtime.block_on(commands::run(cli));
    ExitCode::from(code as u8)
}
