//! `happyhorse`: HappyHorse 1.0 image-to-video on RunComfy's Model API, from a terminal.
//!
//! `main` only parses, runs and turns the outcome into an exit code; see `exit.rs` for the codes.

mod batch;
mod books;
mod budget;
mod cli;
mod cmd;
mod exit;
mod exit_http;
mod files;
mod input;
mod interrupt;
mod model_flags;
mod output;
mod paths;
mod read;
mod recorder;
mod report;
mod service;
mod stdio;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse_full() {
        Ok(cli) => cli,
        // --help and --version are "errors" to clap; everything else is a usage error.
        Err(error) if error.use_stderr() => {
            // It echoes the user's own arguments (a file name from a script, say): plain text,
            // made terminal-safe like every human line.
            eprint!(
                "{}",
                output::terminal_safe(&error.render().to_string(), false)
            );
            return ExitCode::from(exit::USAGE);
        }
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(exit::OK);
        }
    };
    init_logging(cli.global.verbose);
    let output = output::Output::new(&cli.global);
    match run(cli, output) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(output.report_error(&error)),
    }
}

fn run(cli: cli::Cli, output: output::Output) -> anyhow::Result<ExitCode> {
    cmd::dispatch(cli, output).map(ExitCode::from)
}

/// `-v`: debug logs on stderr, `-vv`: trace (HTTP level); `RUST_LOG` overrides both.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => return,
        1 => "happyhorse=debug,happyhorse_http=debug,happyhorse_emulator=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Log fields carry the service's text (statuses, errors) and other crates' (headers):
        // no colours of our own, and everything else made terminal-safe like every human line.
        .with_ansi(false)
        .with_writer(|| SafeStderr)
        .init();
}

/// Stderr for logs: every line passes through [`output::terminal_safe`] on its way out.
struct SafeStderr;

impl std::io::Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A log event arrives whole in one write (the formatter buffers it).
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(output::terminal_safe(&text, false).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `happyhorse … | head` closing the pipe early is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
