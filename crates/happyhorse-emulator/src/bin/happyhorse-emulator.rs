//! `happyhorse-emulator`: the RunComfy Model API emulator as a foreground server (Ctrl-C stops it).

use clap::Parser;
use happyhorse_emulator::EmulatorArgs;

/// A stateful RunComfy Model API emulator on loopback, with faults on purpose.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    emulator: EmulatorArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let emulator = cli.emulator.builder().start().await?;
    println!("base URL:    {}", emulator.base_url());
    println!("storage URL: {}", emulator.storage_url());
    println!("stats:       {}/__emulator/stats", emulator.base_url());
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}
