//! `happyhorse emulator`: the RunComfy API emulator as a foreground server; Ctrl-C stops it.

use serde_json::json;

use crate::cli::EmulatorCommandArgs;
use crate::exit;
use crate::output::{Output, Paint};

pub(super) async fn run(args: &EmulatorCommandArgs, output: Output) -> anyhow::Result<u8> {
    // The Ctrl-C handler is installed when its future is first polled: do it before saying we
    // listen, or a Ctrl-C sent right after the announcement kills the process uncleanly.
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    if let std::task::Poll::Ready(result) = futures::poll!(&mut stop) {
        result?;
        return Ok(exit::OK);
    }
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
    stop.await?;
    emulator.shutdown().await;
    output.note("emulator stopped");
    // Stopping the server is what Ctrl-C is for here: a success, not an interruption.
    Ok(exit::OK)
}
