//! One job of each model of the HappyHorse family, typed, from local files — the example
//! `docs/library.md` shows (compiled here, so it stays true).
//!
//! ```text
//! happyhorse emulator &                      # or a real token and no base URL
//! RUNCOMFY_API_TOKEN=x RUNCOMFY_BASE_URL=http://127.0.0.1:8787 \
//!   cargo run -p happyhorse-http --example every_model -- examples/horse.png examples/horse.mp4
//! ```

use happyhorse_http::{Client, MediaSource};
use happyhorse_types::Model;
use happyhorse_types::image_to_video::{ImageToVideo, ImageToVideoInput};
use happyhorse_types::reference_to_video::{ReferenceToVideo, ReferenceToVideoInput};
use happyhorse_types::text_to_video::{AspectRatio, TextToVideo, TextToVideoInput};
use happyhorse_types::v1_1;
use happyhorse_types::video_edit::{VideoEdit, VideoEditInput};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (image, video) = match (args.next(), args.next()) {
        (Some(image), Some(video)) => (image, video),
        _ => return Err("usage: every_model IMAGE VIDEO".into()),
    };
    let client = Client::from_env()?;
    // A local file for any media field, checked by that field's own rule and inlined.
    let horse = MediaSource::parse(&image)
        .into_value_for(ImageToVideo::SPEC, "image_url")
        .await?;
    let first = MediaSource::parse(&image)
        .into_value_for(ReferenceToVideo::SPEC, "image_url_1")
        .await?;
    let clip = MediaSource::parse(&video)
        .into_value_for(VideoEdit::SPEC, "video_url")
        .await?;

    let mut urls = Vec::new();
    let i2v = ImageToVideoInput::new(horse.clone(), "The horse trots");
    urls.push(
        client
            .run::<ImageToVideo>(&i2v)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );
    let t2v = TextToVideoInput::new("A foal at dawn")
        .aspect_ratio(AspectRatio::R9x16)
        .duration(4)?;
    urls.push(
        client
            .run::<TextToVideo>(&t2v)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );
    let r2v = ReferenceToVideoInput::new(first, "character1 rides").image_url_2(horse.clone());
    urls.push(
        client
            .run::<ReferenceToVideo>(&r2v)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );
    let edit = VideoEditInput::new(clip, "Dress the horse in a striped sweater");
    let job = client.submit::<VideoEdit>(&edit).await?;
    eprintln!("video-edit submitted: {}", job.request_id());
    urls.push(job.wait().await?.urls().next().map(str::to_owned));

    use v1_1::{image_to_video as i2v11, reference_to_video as r2v11, text_to_video as t2v11};
    let input = i2v11::ImageToVideoInput::new(horse.clone(), "The horse trots");
    urls.push(
        client
            .run::<i2v11::ImageToVideo>(&input)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );
    let input = t2v11::TextToVideoInput::new("A foal at dawn").ratio(t2v11::Ratio::R1x1);
    urls.push(
        client
            .run::<t2v11::TextToVideo>(&input)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );
    let input = r2v11::ReferenceToVideoInput::new(horse, "The horse gallops");
    urls.push(
        client
            .run::<r2v11::ReferenceToVideo>(&input)
            .await?
            .urls()
            .next()
            .map(str::to_owned),
    );

    for url in urls.into_iter().flatten() {
        println!("{url}");
    }
    Ok(())
}
