//! `happyhorse emulator`: the RunComfy API emulator as a foreground server; Ctrl-C stops it.

use serde_json::json;

use crate::cli::EmulatorCommandArgs;
use crate::exit;
use crate::output::{Output, Paint};

pub(super) async fn run(args: &EmulatorCommandArgs, output: Output) -> anyhow::Result<u8> {
    let emulator = args.emulator.builder().start().await?;
    let stats_url = format!("{}/__emulator/stats", emulator.base_url());
    output.json_line(&json!({
        "event": "listening",
        "base_url": emulator.base_url(),
        "storage_url": emulator.storage_url(),
        "stats_url": stats_url,
    }))?;
    output.result(&format!(
        "base URL:    {}",
        output.paint(emulator.base_url(), Paint::Bold)
    ))?;
    output.result(&format!("storage URL: {}", emulator.storage_url()))?;
    output.result(&format!("stats:       {stats_url}"))?;
    output.note(&format!(
        "try: RUNCOMFY_API_TOKEN=any happyhorse --base-url {} run --image examples/horse.png --prompt \"…\"\n\
         Ctrl-C stops the emulator.",
        emulator.base_url()
    ));
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    output.note("emulator stopped");
    // Stopping the server is what Ctrl-C is for here: a success, not an interruption.
    Ok(exit::OK)
}
