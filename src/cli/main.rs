//! `heygen`: the HeyGen Video Agent API from the command line.
//!
//! Exit codes: 0 success; 1 API or transport error; 2 usage or client-side validation error
//! (nothing was sent); 3 the video or session failed (or needs input); 4 a wait timed out;
//! 5 webhook verification failed.

mod args;
mod auth;
mod batch;
mod commands;
mod destination;
mod human;
mod jobs;
mod mcp;
mod output;
mod spec_commands;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() -> ExitCode {
    let schema_only = std::env::args_os().any(|arg| arg == "--request-schema");
    let matches = command(schema_only)
        .try_get_matches()
        .unwrap_or_else(|error| refuse(error));
    if let Some(problem) = simulate_refuses_client_options(&matches) {
        eprintln!("error: {problem}");
        return ExitCode::from(2);
    }
    logging(matches.get_flag("verbose"));
    if let Some(("completions", sub)) = matches.subcommand() {
        return ExitCode::from(completions(sub) as u8);
    }
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
        let source = key_source(&matches);
        if let Some((op, waiting, leaf)) = jobs::matched_wait(&matches) {
            let mut globals = match args::Globals::from_arg_matches(&matches) {
                Ok(globals) => globals,
                Err(error) => error.exit(),
            };
            globals.key_source = source;
            let client = match commands::client(&globals) {
                Ok(client) => client,
                Err(code) => return code,
            };
            return jobs::wait_again(&client, op, &waiting, leaf, globals.json).await;
        }
        if let Some((op, leaf)) = spec_commands::matched(&matches) {
            let mut globals = match args::Globals::from_arg_matches(&matches) {
                Ok(globals) => globals,
                Err(error) => error.exit(),
            };
            globals.key_source = source;
            let json = globals.json;
            return spec_commands::run(|| commands::client(&globals), op, leaf, json).await;
        }
        match args::Cli::from_arg_matches(&matches) {
            Ok(mut cli) => {
                cli.globals.key_source = source;
                commands::run(cli).await
            }
            Err(error) => error.exit(),
        }
    });
    ExitCode::from(code as u8)
}

/// Prints a command-line error and exits. clap's usage line lists every option that was
/// given, the API key and base URL from the environment included, which makes them look
/// required: they are left out of it.
fn refuse(error: clap::Error) -> ! {
    if !error.use_stderr() {
        // Help and version.
        error.exit();
    }
    let text = error.render().to_string();
    let text: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("Usage: ") {
                line.replace(" --api-key <API_KEY>", "")
                    .replace(" --base-url <BASE_URL>", "")
            } else {
                line.to_string()
            }
        })
        .collect();
    eprintln!("{}", text.join("\n"));
    std::process::exit(error.exit_code());
}

/// The handwritten commands, plus one derived from the spec for every other operation.
///
/// `schema_only`: the command line asks for `--request-schema`, which needs no other argument.
fn command(schema_only: bool) -> clap::Command {
    use clap::{Arg, ArgAction};
    // `simulate` serves the API rather than calling it: how to reach HeyGen and what to print
    // mean nothing there. Its own hidden copies keep the global ones out of its help, and
    // `simulate_refuses_client_options` says what to use instead.
    jobs::wait_commands(spec_commands::augment(args::Cli::command(), schema_only)).mut_subcommand(
        "simulate",
        |simulate| {
            simulate
                .arg(Arg::new("api_key").long("api-key").hide(true).num_args(1))
                .arg(Arg::new("base_url").long("base-url").hide(true).num_args(1))
                .arg(
                    Arg::new("json")
                        .long("json")
                        .hide(true)
                        .action(ArgAction::SetTrue),
                )
        },
    )
}

/// `heygen completions SHELL`: the shell's completion script on stdout, every command and
/// flag included (those derived from the spec too).
fn completions(matches: &clap::ArgMatches) -> i32 {
    use std::io::Write as _;
    let Some(shell) = matches.get_one::<clap_complete::Shell>("shell") else {
        return output::USAGE;
    };
    let mut script = Vec::new();
    clap_complete::generate(*shell, &mut command(false), "heygen", &mut script);
    match std::io::stdout().write_all(&script) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write the script: {e}");
            output::API_ERROR
        }
        _ => output::OK,
    }
}

/// Where the API key comes from: `--api-key`, `HEYGEN_API_KEY`, the stored key, or nowhere.
fn key_source(matches: &clap::ArgMatches) -> Option<auth::KeySource> {
    use clap::parser::ValueSource;
    match matches.value_source("api_key") {
        Some(ValueSource::CommandLine) => Some(auth::KeySource::Flag),
        Some(ValueSource::EnvVariable) => Some(auth::KeySource::Environment),
        _ => auth::stored_key().map(|_| auth::KeySource::Stored),
    }
}

/// `simulate` given an option of the commands that call HeyGen: what to use instead.
fn simulate_refuses_client_options(matches: &clap::ArgMatches) -> Option<String> {
    let simulate = matches.subcommand_matches("simulate")?;
    let given =
        |id: &str| simulate.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if given("api_key") {
        Some("simulate takes --sim-api-key, the key it accepts; --api-key is for the commands that call HeyGen".into())
    } else if given("base_url") {
        Some("simulate listens on 127.0.0.1 at --port; --base-url is for the commands that call HeyGen".into())
    } else if given("json") {
        Some("simulate prints its address as HEYGEN_BASE_URL=.. lines; --json is for the commands that call HeyGen".into())
    } else {
        None
    }
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
    /// Every command, handwritten or derived from the spec, passes clap's own consistency
    /// checks (a misconfigured flag would otherwise panic only when that command is used).
    #[test]
    fn every_command_is_consistent() {
        super::command(false).debug_assert();
        super::command(true).debug_assert();
    }

    /// Every command, handwritten or derived from the spec, and every argument it takes
    /// (the global ones included) has help text.
    #[test]
    fn every_command_and_argument_has_help_text() {
        fn visit(
            command: &clap::Command,
            path: &str,
            seen: &mut usize,
            problems: &mut Vec<String>,
        ) {
            *seen += 1;
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                let help = arg.get_help().or(arg.get_long_help());
                if help.is_none_or(|h| h.to_string().trim().is_empty()) {
                    problems.push(format!("{path}: `{}` has no help text", arg.get_id()));
                }
            }
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                if sub
                    .get_about()
                    .is_none_or(|a| a.to_string().trim().is_empty())
                {
                    problems.push(format!("{path}: no summary"));
                }
                visit(sub, &path, seen, problems);
            }
        }
        let mut root = super::command(false);
        // Global options are copied into every subcommand by the build.
        root.build();
        let (mut seen, mut problems) = (0, Vec::new());
        visit(&root, "heygen", &mut seen, &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(seen > 100, "only {seen} commands were visited");
    }

    /// Every operation of the spec has its command, and a command derived from the spec takes
    /// each path parameter as an argument, each query parameter as a flag, and a body.
    #[test]
    fn every_operation_has_a_command_with_its_parameters() {
        let root = super::command(false);
        let spec = heygen_api::contract::Spec::get().expect("the embedded spec");
        let ops = heygen_api::operations::all();
        assert_eq!(ops.len(), spec.operations().len());
        for op in ops {
            let command = root
                .find_subcommand(op.command)
                .and_then(|group| group.find_subcommand(op.verb))
                .unwrap_or_else(|| panic!("{}: no `heygen {} {}`", op.id, op.command, op.verb));
            if op.cli_handwritten {
                // A handwritten command shapes its own arguments; that it has help for each is
                // `every_command_and_argument_has_help_text`.
                continue;
            }
            let takes = |check: &dyn Fn(&clap::Arg) -> bool| command.get_arguments().any(check);
            for name in op.path_params {
                let upper = name.to_uppercase();
                assert!(
                    takes(&|a| a.is_positional()
                        && a.get_value_names()
                            .is_some_and(|v| v.iter().any(|v| *v == *upper))),
                    "{}: no argument <{upper}>",
                    op.id
                );
            }
            for name in op.query_params {
                let flag = name.replace('_', "-");
                assert!(
                    takes(&|a| a.get_long() == Some(flag.as_str())),
                    "{}: no flag for `{name}`",
                    op.id
                );
            }
            if op.has_body {
                for flag in ["data", "request-schema"] {
                    assert!(
                        takes(&|a| a.get_long() == Some(flag)),
                        "{}: no --{flag}",
                        op.id
                    );
                }
            }
        }
    }

    /// Every command's one-line summary has one style: a short phrase in sentence case,
    /// without a full stop ("List videos, newest first", never "List Videos" or "Get Voice.").
    #[test]
    fn every_summary_has_one_style() {
        // Names that keep their capitals inside a phrase.
        const NAMES: [&str; 10] = [
            "Video", "Agent", "HeyGen", "MP4", "JSON", "URL", "URLs", "API", "AI", "MCP",
        ];
        fn visit(command: &clap::Command, path: &str, problems: &mut Vec<String>) {
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                let capitals = about
                    .split_whitespace()
                    .skip(1)
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                    .filter(|w| w.starts_with(char::is_uppercase) && !NAMES.contains(w))
                    .collect::<Vec<_>>();
                if about.is_empty()
                    || about.ends_with('.')
                    || about.len() > 80
                    || !about.starts_with(char::is_uppercase)
                    || !capitals.is_empty()
                {
                    problems.push(format!("{path}: {about:?}"));
                }
                visit(sub, &path, problems);
            }
        }
        let mut problems = Vec::new();
        visit(&super::command(false), "heygen", &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
