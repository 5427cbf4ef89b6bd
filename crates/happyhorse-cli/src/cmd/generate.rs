//! `happyhorse completions SHELL` and `happyhorse man`: generated from the clap definitions.

use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit;

pub(super) fn completions(shell: Shell) -> anyhow::Result<u8> {
    let mut command = Cli::command_full();
    clap_complete::generate(shell, &mut command, "happyhorse", &mut std::io::stdout());
    Ok(exit::OK)
}

pub(super) fn man() -> anyhow::Result<u8> {
    let page = clap_mangen::Man::new(Cli::command_full());
    page.render(&mut std::io::stdout())?;
    Ok(exit::OK)
}
