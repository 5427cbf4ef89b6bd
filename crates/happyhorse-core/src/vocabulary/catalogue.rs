//! The model catalogue (`GET /v1/models`, `GET /v1/models/{id}`), an official-client endpoint
//! with no published schema: read field by field, every field optional, prices as numbers even
//! when sent as strings. The answer is also kept whole, as sent.

use serde_json::Value;

use super::answer::{Answer, Read, json_body, lenient_number, retry_after_of};
use crate::error::Error;
use crate::{RequestKind, Response};

/// `GET /v1/models`: the entries, and the answer as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Catalogue {
    /// Every entry of `models` (entries that are not objects are skipped).
    pub models: Vec<ModelEntry>,
    /// `total`, when sent.
    pub total: Option<u64>,
    /// The whole answer, as sent.
    pub raw: Value,
}

/// One model of the catalogue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelEntry {
    /// `model_id`, e.g. `happyhorse/happyhorse-1.0/image-to-video`.
    pub model_id: Option<String>,
    /// `display_name`.
    pub display_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `base_price_usd` (a number, or a numeric string).
    pub base_price_usd: Option<f64>,
    /// `price_unit`: `second` or `output`.
    pub price_unit: Option<String>,
    /// `pricing_note`.
    pub pricing_note: Option<String>,
    /// The entry, as sent.
    pub raw: Value,
}

impl ModelEntry {
    /// Reads an entry from any JSON value; `None` when it is not an object.
    pub fn from_json(raw: &Value) -> Option<Self> {
        let object = raw.as_object()?;
        let text = |name: &str| object.get(name)?.as_str().map(str::to_owned);
        Some(Self {
            model_id: text("model_id"),
            display_name: text("display_name"),
            description: text("description"),
            base_price_usd: object.get("base_price_usd").and_then(number),
            price_unit: text("price_unit"),
            pricing_note: text("pricing_note"),
            raw: raw.clone(),
        })
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => lenient_number(text)?.as_f64(),
        _ => None,
    }
}

/// Reads `GET /v1/models`.
pub(crate) fn read_catalogue(response: &Response) -> Read<Catalogue> {
    read_with(response, |json| {
        let models = json
            .get("models")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(ModelEntry::from_json).collect())
            .unwrap_or_default();
        let total = json
            .get("total")
            .and_then(number)
            .filter(|n| *n >= 0.0)
            .map(|n| n as u64);
        Ok(Catalogue {
            models,
            total,
            raw: json,
        })
    })
}

/// Reads `GET /v1/models/{id}`.
pub(crate) fn read_model(response: &Response) -> Read<ModelEntry> {
    read_with(response, |json| {
        ModelEntry::from_json(&json).ok_or_else(|| Error::Protocol {
            request: RequestKind::Catalogue,
            what: "the model's entry is not a JSON object".to_owned(),
        })
    })
}

fn read_with<T>(response: &Response, read: impl FnOnce(Value) -> Result<T, Error>) -> Read<T> {
    let retry_after = retry_after_of(response);
    let answer = match json_body::<T>(RequestKind::Catalogue, response, retry_after) {
        Ok(json) => match read(json) {
            Ok(value) => Answer::Ok(value),
            Err(error) => Answer::Garbled(error),
        },
        Err(answer) => answer,
    };
    Read {
        answer,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_field_by_field_and_prices_leniently() {
        let body = r#"{"models":[{"model_id":"a/b","display_name":"A","base_price_usd":"0.10","price_unit":"second"},
            7, {"model_id":"c","base_price_usd":0.2,"display_name":3}],"total":"2"}"#;
        let catalogue = read_catalogue(&Response::new(200, body))
            .answer
            .into_result()
            .unwrap();
        assert_eq!(catalogue.models.len(), 2);
        assert_eq!(catalogue.models[0].base_price_usd, Some(0.10));
        assert_eq!(catalogue.models[1].display_name, None);
        assert_eq!(catalogue.total, Some(2));
    }

    #[test]
    fn an_error_with_http_200_is_an_error() {
        let error = read_model(&Response::new(
            200,
            r#"{"error_code":400001,"error_message":"unknown model"}"#,
        ))
        .answer
        .into_result()
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the service does not know this resource (HTTP 200, code 400001): unknown model — check the model id"
        );
    }
}
