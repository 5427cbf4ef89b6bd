//! Cost before and after paying: `Client::estimate` from the catalogue's price (a stranger that
//! sends it its own way, one that fails), fetched once per model; `include_cost` asks a job's
//! result for its actual cost.

mod common;

use common::stranger::Stranger;
use happyhorse_http::{Client, RetryPolicy};
use happyhorse_types::Model;
use happyhorse_types::image_to_video::ImageToVideo;
use happyhorse_types::{text_to_video, video_edit};
use serde_json::json;

const T2V_ENTRY: &str = "GET /v1/models/happyhorse/happyhorse-1.0/text-to-video";

fn client(base: &str) -> Client {
    Client::builder()
        .token(common::TOKEN)
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_estimate_reads_an_odd_price_once_per_model_and_multiplies_the_duration() {
    let stranger = Stranger::start(|route, _| match route {
        T2V_ENTRY => (
            200,
            None,
            // A price as a string, its unit capitalised, a field nobody documented.
            r#"{"model_id":"happyhorse/happyhorse-1.0/text-to-video","base_price_usd":"0.12","price_unit":"Second","tier":"x"}"#.into(),
        ),
        _ => (404, None, r#"{"error_code":404001}"#.into()),
    })
    .await;
    let client = client(&stranger.base);
    let spec = &text_to_video::SPEC;
    let eight = client
        .estimate(spec, &json!({"prompt": "x", "duration": 8}))
        .await;
    let default = client.estimate(spec, &json!({"prompt": "x"})).await;
    assert_eq!(
        eight.to_string(),
        "≈ $0.96: 8 s × $0.12/s, catalogue base price"
    );
    assert!((default.usd().unwrap() - 0.6).abs() < 1e-9, "{default}");
    assert_eq!(
        stranger.times(T2V_ENTRY).len(),
        1,
        "the price was fetched again"
    );

    // Video-edit bills the clip the service returns: its price is known, its length is not.
    let edit = client
        .estimate(&video_edit::SPEC, &json!({"prompt": "x"}))
        .await;
    assert!(edit.usd().is_none(), "{edit}");
}

#[tokio::test]
async fn a_failing_catalogue_gives_an_unknown_estimate_with_its_reason_asked_once() {
    let stranger = Stranger::start(|_, _| {
        (
            500,
            None,
            r#"{"error_code":500001,"error_message":"pricing down"}"#.into(),
        )
    })
    .await;
    let client = client(&stranger.base);
    for duration in [5, 10] {
        let estimate = client
            .estimate(
                &text_to_video::SPEC,
                &json!({"prompt": "x", "duration": duration}),
            )
            .await;
        assert!(estimate.usd().is_none(), "{estimate}");
        let text = estimate.to_string();
        assert!(text.starts_with("cost unknown: the catalogue's price of happyhorse/happyhorse-1.0/text-to-video could not be read"), "{text}");
        assert!(!text.contains(common::TOKEN), "{text}");
    }
    assert_eq!(stranger.times(T2V_ENTRY).len(), 1);
}

#[tokio::test]
async fn include_cost_brings_the_jobs_actual_cost_and_its_absence_does_not() {
    let emulator = common::emulator(50).start().await.unwrap();
    for include in [true, false] {
        let client = common::client_for(&emulator)
            .include_cost(include)
            .build()
            .unwrap();
        let result = client
            .run::<ImageToVideo>(&common::input("a horse"))
            .await
            .unwrap();
        assert_eq!(result.raw.cost.is_some(), include, "{:?}", result.raw);
        if include {
            // The emulator's catalogue price for image-to-video's default 5 s.
            let price = client.price(ImageToVideo::SPEC.id).await.unwrap();
            let expected = price.base_price_usd.unwrap() * 5.0;
            assert!((result.raw.cost.unwrap() - expected).abs() < 1e-9);
        }
    }
    emulator.shutdown().await;
}
