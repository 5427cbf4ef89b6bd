//! The rest of the `Debug` walk of `secrets.rs` (in its own test binary: a test here logs
//! without a subscriber, which would make tracing cache "nobody listens" for the callsites that
//! `secrets.rs` captures at TRACE level).

mod common;

use common::{emulator, input};
use happyhorse_types::image_to_video::ImageToVideo;

const CANARY: &str = "canary-4f1d2e-do-not-log";

/// The rest of the walk: everything that holds a client (handles, cancellers, streams, batches),
/// a builder from the environment's shape or from an emulator, a builder with a reqwest hook, and
/// the emulator itself when the canary is its token.
#[tokio::test]
async fn every_handle_that_holds_a_client_hides_it_in_debug_too() {
    use futures::StreamExt;
    use happyhorse_http::{BatchJob, BatchOptions, ClientBuilder};

    let emulator = emulator(20).tokens([CANARY]).start().await.unwrap();
    let builder = ClientBuilder::for_emulator(&emulator);
    let hooked = builder
        .clone()
        .configure_reqwest(|http| http.user_agent("ua"));
    let client = builder.clone().build().unwrap();
    let mut job = client
        .submit::<ImageToVideo>(&input("debug"))
        .await
        .unwrap();
    let canceller = job.canceller();
    let events = job.events();
    let mut batch = client.run_many::<ImageToVideo>(
        vec![BatchJob::Submit(input("batch"))],
        BatchOptions::default(),
    );
    let shown = format!(
        "{emulator:?}\n{builder:?}\n{hooked:?}\n{client:?}\n{job:?}\n{canceller:?}\n{events:?}\n{batch:?}\n{:?}",
        batch.canceller()
    );
    let mut finished = String::new();
    while let Some(event) = batch.next().await {
        finished.push_str(&format!("{event:?}\n"));
    }
    let result = job.wait().await.unwrap();
    let everything = format!("{shown}\n{finished}\n{result:?}");
    assert!(
        !everything.contains(CANARY),
        "the token leaked:\n{everything}"
    );
    assert!(everything.contains("JobCanceller"), "{everything}");
    emulator.shutdown().await;
}
