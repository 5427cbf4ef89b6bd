//! One module per command; [`dispatch`] picks it.

pub(crate) mod batch;
mod emulator;
mod follow;
mod generate;
mod job;
pub(crate) mod jobs;
mod ledgered;
mod schema;
mod validate;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// Runs the command; `Ok` carries the exit code of a command that ended as planned.
pub(crate) fn dispatch(cli: Cli, output: Output) -> anyhow::Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Validate(args) => validate::run(&args, output),
        Command::Schema(args) => schema::run(&args, output),
        Command::Emulator(args) => runtime()?.block_on(emulator::run(&args, output)),
        Command::Completions(args) => generate::completions(args.shell),
        Command::Man => generate::man(),
        Command::Run(args) => runtime()?.block_on(job::run(&global, &args, output)),
        Command::Submit(args) => runtime()?.block_on(job::submit_command(&global, &args, output)),
        Command::Status(args) => {
            runtime()?.block_on(job::one_shot(&global, &args, job::OneShot::Status, output))
        }
        Command::Result(args) => {
            runtime()?.block_on(job::one_shot(&global, &args, job::OneShot::Result, output))
        }
        Command::Cancel(args) => {
            runtime()?.block_on(job::one_shot(&global, &args, job::OneShot::Cancel, output))
        }
        Command::Jobs(args) => jobs::run(&global, &args, output),
        Command::Wait(args) => runtime()?.block_on(job::wait(&global, &args, output)),
        Command::Models(args) => runtime()?.block_on(job::models(&global, &args, output)),
        Command::Batch(args) => runtime()?.block_on(batch::run(&global, &args, output)),
    }
}

/// The async runtime, built only by the commands that talk to a network (so `validate` starts fast).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
