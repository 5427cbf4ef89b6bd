//! The library with every model of the family, generically: `client.run::<M>()` for each model
//! named by `for_each_model!` (nothing written per model), a typed text-to-video and video-edit
//! from their generated constructors, a model chosen at run time, and a batch mixing models.

mod common;

use futures::StreamExt;
use happyhorse_http::{BatchEvent, BatchJob, BatchOptions, Client, MediaSource};
use happyhorse_types::text_to_video::{AspectRatio, TextToVideo, TextToVideoInput};
use happyhorse_types::video_edit::{VideoEdit, VideoEditInput};
use happyhorse_types::{MODELS, Model, ModelSpec, find_model, for_each_model};
use serde_json::{Value, json};

fn fixture(name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    match name.strip_prefix("examples/") {
        Some(name) => root.join("../../examples").join(name),
        None => root
            .join("../happyhorse-core/tests/fixtures/video")
            .join(name),
    }
}

/// A realistic input for any model, from its media fields alone: local files, inlined by the
/// library by each field's own rule.
async fn input_for(spec: &'static ModelSpec) -> Value {
    let mut input = json!({"prompt": "The horse trots towards the camera"});
    for field in spec.media_fields().unwrap().iter().filter(|f| f.required) {
        let file = match field.rule.kind() {
            "video" => fixture("examples/horse.mp4"),
            _ => fixture("examples/horse.png"),
        };
        input[&field.name] = json!(
            MediaSource::Path(file)
                .into_value_for(spec, &field.name)
                .await
                .unwrap()
        );
    }
    input
}

async fn run_typed<M: Model>(client: &Client) -> (String, usize) {
    let input: M::Input = serde_json::from_value(input_for(M::SPEC).await).unwrap();
    let result = client.run::<M>(&input).await.unwrap();
    assert!(result.video_url().unwrap().ends_with(".mp4"));
    assert!(
        result.output.is_some(),
        "{}: the typed output fits",
        M::SPEC.id
    );
    (M::SPEC.id.to_owned(), result.files.len())
}

#[tokio::test]
async fn every_model_runs_through_the_typed_api() {
    let emulator = common::emulator(20).start().await.unwrap();
    let client = common::client_for(&emulator).build().unwrap();
    macro_rules! run_each {
        ($($model:path),* $(,)?) => { vec![$(run_typed::<$model>(&client).await),*] };
    }
    let ran: Vec<(String, usize)> = for_each_model!(run_each);
    let ids: Vec<&str> = ran.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, MODELS.iter().map(|s| s.id).collect::<Vec<_>>());
    emulator.shutdown().await;
}

#[tokio::test]
async fn text_to_video_and_video_edit_from_their_generated_types() {
    let emulator = common::emulator(20).start().await.unwrap();
    let client = common::client_for(&emulator).build().unwrap();
    let t2v = TextToVideoInput::new("A foal takes its first steps in a misty meadow")
        .aspect_ratio(AspectRatio::R9x16)
        .duration(4)
        .unwrap();
    let result = client.run::<TextToVideo>(&t2v).await.unwrap();
    assert!(result.video_url().is_some());

    let video = MediaSource::Path(fixture("examples/horse.mp4"))
        .into_value_for(VideoEdit::SPEC, "video_url")
        .await
        .unwrap();
    let edit = VideoEditInput::new(video, "Dress the horse in a striped sweater");
    let job = client.submit::<VideoEdit>(&edit).await.unwrap();
    assert_eq!(job.model_id(), "happyhorse/happyhorse-1.0/video-edit");
    let inspect = emulator.inspect_job(job.request_id()).unwrap();
    assert_eq!(inspect["output_seconds"], json!(3.5));
    job.wait().await.unwrap();

    // A video that breaks the edit's rules is refused before anything is sent.
    let bad = MediaSource::Path(fixture("bad.mp4"))
        .into_value_for(VideoEdit::SPEC, "video_url")
        .await
        .unwrap_err();
    assert_eq!(bad.input_errors().unwrap().len(), 4, "{bad}");
    assert_eq!(emulator.stats().submissions_total, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_model_chosen_at_run_time_and_a_mixed_batch() {
    let emulator = common::emulator(20).start().await.unwrap();
    let client = common::client_for(&emulator).build().unwrap();
    let model = find_model("1.1/t2v").unwrap();
    let job = client
        .submit_any(
            model,
            &json!({"prompt": "A horse gallops along a beach", "ratio": "9:16"}),
        )
        .await
        .unwrap();
    let result = job.wait().await.unwrap();
    assert!(result.output.unwrap()["video"].is_string());
    // The run-time model's own rules apply: 1.1 has no `aspect_ratio`.
    let refused = client
        .submit_any(model, &json!({"prompt": "x", "aspect_ratio": "9:16"}))
        .await
        .unwrap_err();
    assert_eq!(
        refused.input_errors().unwrap().errors()[0].rule,
        "unknown_field"
    );

    let mut jobs = Vec::new();
    for spec in MODELS {
        jobs.push(BatchJob::SubmitTo(spec, input_for(spec).await));
    }
    jobs.push(BatchJob::Submit(json!({"prompt": "no model named"})));
    let mut batch = client.run_many_any(jobs, BatchOptions::default().concurrency(3));
    let mut finished = Vec::new();
    let mut models = std::collections::BTreeSet::new();
    while let Some(event) = batch.next().await {
        if let BatchEvent::Finished(item) = event {
            finished.push((item.index, item.result.is_ok()));
            if let Some(id) = &item.request_id {
                let job = emulator.inspect_job(id).unwrap();
                models.insert(job["model_id"].as_str().unwrap().to_owned());
            }
        }
    }
    finished.sort();
    let mut expected: Vec<(usize, bool)> = (0..MODELS.len()).map(|i| (i, true)).collect();
    expected.push((MODELS.len(), false));
    assert_eq!(finished, expected);
    assert_eq!(models.len(), MODELS.len());
    emulator.shutdown().await;
}
