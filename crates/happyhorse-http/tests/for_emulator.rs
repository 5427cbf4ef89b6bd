//! The `emulator` feature: `Client::for_emulator` points a client at an in-process emulator
//! with a token it accepts and its poll schedule, in one line.

use std::time::Duration;

use happyhorse_http::emulator::{Emulator, ProcessingTime};
use happyhorse_http::prelude::*;
use happyhorse_http::types::image_to_video::{ImageToVideo, ImageToVideoInput};

#[tokio::test]
async fn one_line_gives_a_client_that_runs_a_job_on_an_emulator_with_its_own_tokens() {
    let emulator = Emulator::builder()
        .tokens(["only-this-one"])
        .processing_time(ProcessingTime::Fixed(Duration::from_secs(10)))
        .time_scale(1000.0)
        .start()
        .await
        .unwrap();
    let client = Client::for_emulator(&emulator).unwrap();
    let input = ImageToVideoInput::new("https://example.com/horse.png", "The horse trots");
    let result = client.run::<ImageToVideo>(&input).await.unwrap();
    assert!(result.video_url().is_some());

    // The builder form can still be tuned; a token the emulator does not know is refused.
    let stranger = ClientBuilder::for_emulator(&emulator)
        .token("another")
        .build()
        .unwrap();
    let err = stranger.run::<ImageToVideo>(&input).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    emulator.shutdown().await;
}
