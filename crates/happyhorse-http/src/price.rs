//! What a job will cost before it is paid for: the model's catalogue price (`GET
//! /v1/models/{id}`), fetched once per model and reused for [`PRICE_TTL`], times what the input
//! asks for ([`happyhorse_core::cost::estimate`]).
//!
//! The estimate never stands in the way of a job: a catalogue that fails, or does not answer
//! within [`PRICE_WAIT`], gives [`Estimate::Unknown`] saying why — never a guess.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use happyhorse_core::cost::{self, Estimate};
use happyhorse_core::vocabulary::ModelEntry;
use happyhorse_types::ModelSpec;
use serde_json::Value;

use crate::client::Client;

/// How long a model's catalogue price is reused before it is fetched again: prices change
/// rarely, and a batch asks for the same models over and over.
pub const PRICE_TTL: Duration = Duration::from_secs(10 * 60);

/// How long an estimate waits for the catalogue before saying the price is unknown.
pub const PRICE_WAIT: Duration = Duration::from_secs(15);

/// The prices fetched so far: the model id → when, and what the catalogue said (a failure is
/// kept too, so a batch of a hundred jobs asks a broken catalogue once, not a hundred times).
#[derive(Default)]
pub(crate) struct PriceCache {
    entries: tokio::sync::Mutex<HashMap<String, Fetched>>,
}

/// When a price was fetched, and what came: the entry, or why there is none.
type Fetched = (Instant, Result<ModelEntry, String>);

impl Client {
    /// The catalogue's entry for `model_id`, as [`Client::model`], reused for [`PRICE_TTL`].
    /// Concurrent callers share one fetch.
    ///
    /// # Errors
    /// Why the price could not be read (the catalogue's error, or no answer within
    /// [`PRICE_WAIT`]), for people.
    pub async fn price(&self, model_id: &str) -> Result<ModelEntry, String> {
        // Held across the fetch on purpose: a second caller waits for the first's answer.
        let mut entries = self.inner.prices.entries.lock().await;
        if let Some((at, known)) = entries.get(model_id)
            && at.elapsed() < PRICE_TTL
        {
            return known.clone();
        }
        let fetched = match tokio::time::timeout(PRICE_WAIT, self.model(model_id)).await {
            Ok(Ok(entry)) => Ok(entry),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "the catalogue did not answer within {} s",
                PRICE_WAIT.as_secs()
            )),
        };
        entries.insert(model_id.to_owned(), (Instant::now(), fetched.clone()));
        fetched
    }

    /// What a job of `spec` with `input` is estimated to cost, from the catalogue's price
    /// ([`Client::price`]); [`Estimate::Unknown`] with the reason when it cannot be said.
    ///
    /// ```no_run
    /// # async fn demo(client: happyhorse_http::Client) {
    /// let spec = &happyhorse_types::text_to_video::SPEC;
    /// let input = serde_json::json!({"prompt": "A horse at dawn", "duration": 8});
    /// let estimate = client.estimate(spec, &input).await;
    /// eprintln!("{estimate}"); // ≈ $0.80: 8 s × $0.10/s, catalogue base price
    /// if estimate.usd().is_some_and(|usd| usd > 1.0) {
    ///     return; // over budget: nothing was sent but the catalogue request
    /// }
    /// # }
    /// ```
    pub async fn estimate(&self, spec: &ModelSpec, input: &Value) -> Estimate {
        match self.price(spec.id).await {
            Ok(entry) => cost::estimate(spec, input, Some(&entry)),
            Err(why) => Estimate::unknown(format!(
                "the catalogue's price of {} could not be read: {why}",
                spec.id
            )),
        }
    }
}
