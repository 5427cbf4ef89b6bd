//! The `emulator` feature: a client pointed at an in-process `happyhorse-emulator` in one line,
//! with a poll schedule fit for the emulator's time scale — for the tests of your own code.
//!
//! The emulator never depends on this crate; it only says what suits it
//! (`RunningEmulator::poll_policy`, `accepted_token`), and this module reads it.

use happyhorse_emulator::RunningEmulator;

use crate::client::{Client, ClientBuilder};
use crate::error::Error;

impl ClientBuilder {
    /// A builder pointed at `emulator`: its base URL, a token it accepts, and its
    /// [`poll_policy`](RunningEmulator::poll_policy) (a job is seen to end within a twentieth of
    /// its own duration). Tune it further before [`build`](Self::build).
    #[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
    pub fn for_emulator(emulator: &RunningEmulator) -> Self {
        Client::builder()
            .token(emulator.accepted_token())
            .base_url(emulator.base_url())
            .poll_policy(emulator.poll_policy())
    }
}

impl Client {
    /// A client for `emulator`, built from [`ClientBuilder::for_emulator`].
    ///
    /// ```
    /// use happyhorse_http::Client;
    /// use happyhorse_http::emulator::Emulator;
    /// use happyhorse_http::types::image_to_video::{ImageToVideo, ImageToVideoInput};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Jobs of 60–180 simulated seconds, 100 times faster: 0.6–1.8 s each.
    /// let emulator = Emulator::builder().time_scale(100.0).start().await?;
    /// let client = Client::for_emulator(&emulator)?;
    /// let input = ImageToVideoInput::new("https://example.com/horse.png", "The horse trots");
    /// let result = client.run::<ImageToVideo>(&input).await?;
    /// assert!(result.video_url().is_some());
    /// emulator.shutdown().await;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ClientBuilder::build`] (none expected for a running emulator).
    #[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
    pub fn for_emulator(emulator: &RunningEmulator) -> Result<Self, Error> {
        ClientBuilder::for_emulator(emulator).build()
    }
}
