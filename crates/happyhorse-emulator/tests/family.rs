//! The whole HappyHorse family on the emulator: the catalogue with RunComfy's fields and its
//! filters, validation by each model's own rules, a job per model with its price and its output,
//! unknown models refused as documented, and timestamps on the wall clock.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{Client, png};
use happyhorse_emulator::Emulator;
use happyhorse_types::MODELS;
use serde_json::{Value, json};

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn video(name: &str) -> Vec<u8> {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = if name.starts_with("examples/") {
        format!("{root}/../../{name}")
    } else {
        format!("{root}/../happyhorse-core/tests/fixtures/video/{name}")
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A realistic input for any model, built from its media fields alone.
fn input_for(spec: &happyhorse_types::ModelSpec) -> Value {
    let mut input = json!({"prompt": "The horse trots towards the camera"});
    for field in spec.media_fields().unwrap().iter().filter(|f| f.required) {
        input[&field.name] = match field.rule.kind() {
            "video" => json!(data_uri("video/mp4", &video("examples/horse.mp4"))),
            _ => json!(data_uri("image/png", &png(640, 400))),
        };
    }
    input
}

#[tokio::test]
async fn the_catalogue_serves_runcomfys_fields_and_filters() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let all = client.get("/v1/models").await.json();
    assert_eq!(all["total"], json!(MODELS.len()));
    for entry in all["models"].as_array().unwrap() {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "model_id",
                "display_name",
                "description",
                "categories",
                "kind",
                "base_price_usd",
                "price_unit",
                "pricing_note"
            ],
            "{entry}"
        );
    }
    let ids = |reply: Value| -> Vec<String> {
        reply["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["model_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let edits = ids(client
        .get("/v1/models?category=video-to-video")
        .await
        .json());
    assert_eq!(edits, ["happyhorse/happyhorse-1.0/video-edit"]);
    let v11 = ids(client
        .get("/v1/models?search=happyhorse%201.1")
        .await
        .json());
    assert_eq!(v11.len(), 3, "{v11:?}");
    assert!(
        v11.iter()
            .all(|id| id.starts_with("alibaba/happyhorse-1.1/"))
    );
    let videos = ids(client.get("/v1/models?kind=VIDEO").await.json());
    assert_eq!(videos.len(), MODELS.len());
    assert!(ids(client.get("/v1/models?kind=image").await.json()).is_empty());
    let with_schema = client
        .get("/v1/models?include_schema=true&category=text-to-video")
        .await
        .json();
    assert_eq!(with_schema["total"], json!(2));
    for entry in with_schema["models"].as_array().unwrap() {
        assert_eq!(entry["input_schema"]["required"], json!(["prompt"]));
    }
    let one = client
        .get("/v1/models/alibaba/happyhorse-1.1/text-to-video")
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(
        one.json()["input_schema"]["properties"]["ratio"]["enum"],
        json!(["16:9", "9:16", "1:1"])
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_models_are_refused_as_documented() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let submit = client
        .submit_raw(
            "happyhorse/happyhorse-2.0/text-to-video",
            b"{\"prompt\":\"x\"}".to_vec(),
        )
        .await;
    assert_eq!(submit.status, 400);
    assert_eq!(submit.json()["error_code"], json!(400001));
    let entry = client
        .get("/v1/models/happyhorse/happyhorse-2.0/text-to-video")
        .await;
    assert_eq!(entry.status, 404);
    assert_eq!(entry.json()["error_code"], json!(404001));
    assert_eq!(emulator.stats().submissions_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_model_runs_a_job_priced_by_its_output() {
    let emulator = Emulator::builder()
        .manual_clock(true)
        .processing_time(happyhorse_emulator::ProcessingTime::Fixed(
            Duration::from_secs(10),
        ))
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let mut ids = Vec::new();
    for spec in MODELS {
        let reply = client
            .submit_raw(spec.id, serde_json::to_vec(&input_for(spec)).unwrap())
            .await;
        assert_eq!(
            reply.status,
            200,
            "{}: {}",
            spec.id,
            String::from_utf8_lossy(&reply.body)
        );
        ids.push((
            spec,
            reply.json()["request_id"].as_str().unwrap().to_owned(),
        ));
    }
    emulator.advance(Duration::from_secs(3600));
    for (spec, id) in ids {
        let result = client
            .get(&format!("/v1/requests/{id}/result?include_cost=true"))
            .await
            .json();
        assert_eq!(result["status"], json!("succeeded"), "{}", spec.id);
        assert!(
            result["output"]["video"]
                .as_str()
                .unwrap()
                .ends_with(".mp4")
        );
        let inspect = client.get(&format!("/__emulator/jobs/{id}")).await.json();
        assert_eq!(inspect["model_id"], json!(spec.id));
        let price = spec.info().unwrap().base_price_usd.unwrap();
        // Five seconds by default; the edit returns its source's 3.5 s.
        let seconds = if spec.short_name == "edit" { 3.5 } else { 5.0 };
        assert_eq!(inspect["output_seconds"], json!(seconds), "{}", spec.id);
        let cost = result["cost"].as_f64().unwrap();
        assert!((cost - price * seconds).abs() < 1e-9, "{}: {cost}", spec.id);
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn each_model_is_validated_by_its_own_rules() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    // 350 px passes image-to-video, not reference-to-video (400 px).
    let r2v = json!({"image_url_1": data_uri("image/png", &png(350, 600)), "prompt": "x"});
    let reply = client
        .submit_raw(
            "happyhorse/happyhorse-1.0/reference-to-video",
            serde_json::to_vec(&r2v).unwrap(),
        )
        .await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let detail = reply.json()["detail"].clone();
    assert_eq!(detail[0]["field"], json!("image_url_1"));
    assert_eq!(detail[0]["rule"], json!("image_min_side"));
    // The edit's video: every broken rule in one answer.
    let edit = json!({"video_url": data_uri("video/mp4", &video("bad.mp4")), "prompt": "x"});
    let reply = client
        .submit_raw(
            "happyhorse/happyhorse-1.0/video-edit",
            serde_json::to_vec(&edit).unwrap(),
        )
        .await;
    assert_eq!(reply.status, 422);
    let rules: Vec<String> = reply.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        rules,
        [
            "video_duration",
            "video_short_side",
            "video_aspect",
            "video_fps"
        ]
    );
    // 1.1 names the aspect field `ratio`, and knows no `aspect_ratio`… which the service ignores.
    let t2v = json!({"prompt": "x", "ratio": "4:3"});
    let reply = client
        .submit_raw(
            "alibaba/happyhorse-1.1/text-to-video",
            serde_json::to_vec(&t2v).unwrap(),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["detail"][0]["field"], json!("ratio"));
    assert_eq!(emulator.stats().submissions_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn result_timestamps_are_wall_clock_times_at_any_speed() {
    let emulator = Emulator::builder()
        .time_scale(1000.0)
        .processing_time(happyhorse_emulator::ProcessingTime::Fixed(
            Duration::from_secs(60),
        ))
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let before = time::OffsetDateTime::now_utc();
    let id = client.submit_ok().await;
    client.wait_finished(&id, 500).await;
    let after = time::OffsetDateTime::now_utc();
    let result = client.result(&id).await.json();
    let stamp = |key: &str| {
        time::OffsetDateTime::parse(
            result[key].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let (created, finished) = (stamp("created_at"), stamp("finished_at"));
    let slack = time::Duration::milliseconds(2);
    // A 60 s job at 1000× lasts 60 ms of real time: both stamps lie between the moments the test
    // saw before submitting and after the end — not a minute in the future.
    assert!(
        created >= before - slack && finished <= after + slack,
        "{result}"
    );
    assert!(created <= finished);
    emulator.shutdown().await;
}
