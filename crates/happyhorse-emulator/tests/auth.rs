//! Authentication, ownership, error codes, the model catalogue and request limits.

mod common;

use common::{Client, I2V, TOKEN, seed_body, send};
use happyhorse_emulator::{AuthStatus, Emulator};
use happyhorse_types::ErrorBody;
use http::Method;
use serde_json::json;

fn assert_error(reply: &common::Reply, status: u16, code: i64) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body: ErrorBody = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        body.error_code,
        Some(happyhorse_types::ErrorCode::Number(code))
    );
    assert!(body.error_message.is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn missing_token_is_400004_with_configurable_http_status() {
    for (setting, status) in [
        (None, 400),
        (Some(AuthStatus::Unauthorized), 401),
        (Some(AuthStatus::BadRequest), 400),
    ] {
        let mut builder = Emulator::builder();
        if let Some(setting) = setting {
            builder = builder.auth_status(setting);
        }
        let emulator = builder.start().await.unwrap();
        let base = emulator.base_url();
        let submit = send(
            Method::POST,
            &format!("{base}/v1/models/{I2V}"),
            &[],
            Some(seed_body().to_string().into_bytes()),
        )
        .await
        .unwrap();
        assert_error(&submit, status, 400004);
        let status_reply = send(
            Method::GET,
            &format!("{base}/v1/requests/abc/status"),
            &[("authorization", "Bearer ")],
            None,
        )
        .await
        .unwrap();
        assert_error(&status_reply, status, 400004);
        // The catalogue needs a bearer token too; Basic credentials are not one.
        let basic = send(
            Method::GET,
            &format!("{base}/v1/models"),
            &[("authorization", "Basic dXNlcg==")],
            None,
        )
        .await
        .unwrap();
        assert_error(&basic, status, 400004);
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn configured_tokens_restrict_access() {
    let emulator = Emulator::builder()
        .tokens(["good-token"])
        .start()
        .await
        .unwrap();
    let good = Client::with_token(emulator.base_url(), "good-token");
    let bad = Client::with_token(emulator.base_url(), "revoked-token");
    good.submit_ok().await;
    let reply = bad.submit(&seed_body()).await;
    assert_error(&reply, 400, 400004);
    // The token never comes back in an error.
    assert!(!String::from_utf8_lossy(&reply.body).contains("revoked-token"));
    assert_eq!(emulator.stats().submissions_total, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn jobs_belong_to_the_token_that_made_them() {
    let emulator = Emulator::builder().start().await.unwrap();
    let owner = Client::new(emulator.base_url());
    let other = Client::with_token(emulator.base_url(), "someone-else");
    let id = owner.submit_ok().await;
    assert_error(&other.status(&id).await, 403, 403001);
    assert_error(&other.result(&id).await, 403, 403001);
    assert_error(&other.cancel(&id).await, 403, 403001);
    assert_eq!(owner.status(&id).await.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_models_and_routes() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let unknown = "0123abcd-0000-4000-8000-000000000000";
    assert_error(&client.status(unknown).await, 404, 404001);
    assert_error(&client.result(unknown).await, 404, 404001);
    assert_error(&client.cancel(unknown).await, 404, 404001);
    assert_error(&client.status("not.a.valid.id").await, 404, 404001);

    let reply = client
        .submit_raw(
            "happyhorse/happyhorse-9.9/image-to-video",
            seed_body().to_string().into_bytes(),
        )
        .await;
    assert_error(&reply, 400, 400001);
    assert_eq!(
        reply.json()["detail"]["model_id"],
        "happyhorse/happyhorse-9.9/image-to-video"
    );
    // A submit to an unknown model is the documented 400001; its catalogue entry is not found.
    assert_error(&client.get("/v1/models/no/such/model").await, 404, 404001);
    assert_error(&client.get("/v1/nothing-here").await, 404, 404001);
    let wrong_method = client.get(&format!("/v1/requests/{unknown}/cancel")).await;
    assert_error(&wrong_method, 405, 405001);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn model_catalogue_comes_from_the_checked_in_schemas() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());

    let model = client.get(&format!("/v1/models/{I2V}")).await;
    assert_eq!(model.status, 200);
    let model = model.json();
    let spec = happyhorse_types::model_spec(I2V).unwrap();
    let metadata: serde_json::Value = serde_json::from_str(spec.metadata).unwrap();
    assert_eq!(model["model_id"], I2V);
    assert_eq!(model["display_name"], metadata["display_name"]);
    assert_eq!(model["price_unit"], "second");
    assert_eq!(model["base_price_usd"], metadata["base_price_usd"]);
    let schema: serde_json::Value = serde_json::from_str(spec.input_schema).unwrap();
    assert_eq!(model["input_schema"], schema);

    let list = client
        .get("/v1/models?search=horse&include_schema=true&limit=10&offset=0")
        .await
        .json();
    assert_eq!(list["total"], json!(happyhorse_types::MODELS.len()));
    assert_eq!(list["models"][0]["input_schema"], schema);
    let without = client.get("/v1/models").await.json();
    assert!(without["models"][0].get("input_schema").is_none());
    let none = client
        .get("/v1/models?category=no-such-category")
        .await
        .json();
    assert_eq!(none, json!({"models": [], "total": 0}));

    let categories = client.get("/v1/models/categories").await.json();
    assert!(
        categories["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("image-to-video"))
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let emulator = Emulator::builder()
        .max_body_bytes(1024)
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    let mut body = seed_body();
    body["prompt"] = json!("x".repeat(2000));
    let reply = client.submit(&body).await;
    assert_error(&reply, 413, 413001);
    emulator.shutdown().await;

    // At the default 64 MiB limit, a declared larger length is refused before it is sent.
    let emulator = Emulator::builder().start().await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    let head = format!(
        "POST /v1/models/{I2V} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        64 * 1024 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("413001"), "{answer}");
    assert_eq!(emulator.stats().submissions_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_422_naming_the_problem() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::new(emulator.base_url());
    let reply = client.submit_raw(I2V, b"{not json".to_vec()).await;
    assert_error(&reply, 422, 422001);
    assert_eq!(reply.json()["detail"][0]["rule"], "json");
    emulator.shutdown().await;
}

#[tokio::test]
async fn insufficient_balance_is_400002() {
    let emulator = Emulator::builder()
        .insufficient_balance(true)
        .start()
        .await
        .unwrap();
    let client = Client::new(emulator.base_url());
    assert_error(&client.submit(&seed_body()).await, 400, 400002);
    assert_eq!(emulator.stats().submissions_total, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn command_line_flags_reach_the_running_server() {
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: happyhorse_emulator::EmulatorArgs,
    }

    let cli = Cli::parse_from([
        "emu",
        "--token",
        "flag-token",
        "--auth-status",
        "401",
        "--insufficient-balance",
    ]);
    let emulator = cli.emulator.builder().start().await.unwrap();
    let stranger = Client::with_token(emulator.base_url(), "other-token");
    assert_error(&stranger.get("/v1/models").await, 401, 400004);
    let known = Client::with_token(emulator.base_url(), "flag-token");
    assert_error(&known.submit(&seed_body()).await, 400, 400002);
    emulator.shutdown().await;
}

#[tokio::test]
async fn tokens_never_show_in_debug_output() {
    let emulator = Emulator::builder()
        .tokens(["hunter2-secret"])
        .start()
        .await
        .unwrap();
    let client = Client::with_token(emulator.base_url(), "hunter2-secret");
    client.submit_ok().await;
    let debug = format!("{emulator:?}");
    assert!(debug.contains("ApiToken(<redacted>)"), "{debug}");
    assert!(!debug.contains("hunter2-secret"));
    emulator.shutdown().await;
}
