//! What a job will cost, estimated before it is paid for from the catalogue's price
//! ([`ModelEntry`]: `base_price_usd` per `price_unit`) and the input: per second of output, the
//! requested `duration` (or the schema's default); per output, the price itself.
//!
//! An estimate is never a guess: when the price is missing, its unit unknown, or the length of
//! the output is not the caller's to choose (video-edit has no `duration`: it bills the length of
//! the clip the service returns), [`Estimate::Unknown`] says so.
//!
//! ```
//! use happyhorse_core::cost::{Estimate, estimate};
//! use happyhorse_core::vocabulary::ModelEntry;
//!
//! let entry = ModelEntry::from_json(&serde_json::json!({"base_price_usd": 0.1, "price_unit": "second"})).unwrap();
//! let spec = &happyhorse_types::text_to_video::SPEC;
//! let cost = estimate(spec, &serde_json::json!({"prompt": "x", "duration": 8}), Some(&entry));
//! assert_eq!(cost.to_string(), "≈ $0.80: 8 s × $0.10/s, catalogue base price");
//! assert_eq!(cost.usd(), Some(0.8));
//! let edit = &happyhorse_types::video_edit::SPEC;
//! assert!(matches!(estimate(edit, &serde_json::json!({}), Some(&entry)), Estimate::Unknown { .. }));
//! ```

use std::fmt;

use happyhorse_types::ModelSpec;
use serde_json::Value;

use crate::vocabulary::ModelEntry;

/// A job's estimated cost, or why there is none.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Estimate {
    /// The catalogue price times what the input asks for.
    Usd {
        /// The estimate in USD.
        usd: f64,
        /// How it was reached: `5 s × $0.10/s, catalogue base price`.
        basis: String,
    },
    /// No estimate: why (the price is unknown, or so is what it multiplies).
    Unknown {
        /// Why, for people.
        why: String,
    },
}

impl Estimate {
    /// The estimate in USD, when there is one.
    pub fn usd(&self) -> Option<f64> {
        match self {
            Self::Usd { usd, .. } => Some(*usd),
            Self::Unknown { .. } => None,
        }
    }

    /// An estimate that cannot be made: `why`.
    pub fn unknown(why: impl Into<String>) -> Self {
        Self::Unknown { why: why.into() }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usd { usd, basis } => write!(f, "≈ ${usd:.2}: {basis}"),
            Self::Unknown { why } => write!(f, "cost unknown: {why}"),
        }
    }
}

/// Estimates what a job of `spec` with `input` costs at the catalogue's price `entry` (`None`:
/// the price could not be read).
pub fn estimate(spec: &ModelSpec, input: &Value, entry: Option<&ModelEntry>) -> Estimate {
    let Some(entry) = entry else {
        return Estimate::unknown(format!(
            "the catalogue's price of {} could not be read",
            spec.id
        ));
    };
    let Some(price) = entry.base_price_usd.filter(|p| p.is_finite() && *p >= 0.0) else {
        return Estimate::unknown(format!("the catalogue gives no price for {}", spec.id));
    };
    match entry.price_unit.as_deref().map(unit) {
        Some("output") => Estimate::Usd {
            usd: price,
            basis: format!("${price:.2} per output, catalogue base price"),
        },
        Some("second") => match seconds(spec, input) {
            Some(seconds) => Estimate::Usd {
                usd: price * seconds,
                basis: format!("{seconds} s × ${price:.2}/s, catalogue base price"),
            },
            None => Estimate::unknown(format!(
                "{} costs ${price:.2} per second of the video it returns, whose length the service \
                 decides (the input has no duration)",
                spec.id
            )),
        },
        Some(other) => Estimate::unknown(format!(
            "the catalogue prices {} per {other:?}, a unit this version does not know",
            spec.id
        )),
        None => Estimate::unknown(format!(
            "the catalogue gives {}'s price (${price:.2}) without its unit",
            spec.id
        )),
    }
}

/// A price unit as its two known names, read liberally (`"Second"`, `"per second"`, `"sec"`,
/// `"outputs"`); anything else as sent.
fn unit(sent: &str) -> &str {
    let word = sent.trim().to_ascii_lowercase();
    match word.strip_prefix("per ").unwrap_or(&word).trim() {
        "second" | "seconds" | "sec" | "s" => "second",
        "output" | "outputs" | "video" | "run" => "output",
        _ => sent,
    }
}

/// The seconds of video the input asks for: its `duration`, else the schema's default; `None`
/// when the model takes no duration.
fn seconds(spec: &ModelSpec, input: &Value) -> Option<f64> {
    let schema: Value = serde_json::from_str(spec.input_schema).ok()?;
    let property = schema.get("properties")?.get("duration")?;
    input
        .get("duration")
        .and_then(Value::as_f64)
        .or_else(|| property.get("default").and_then(Value::as_f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(value: Value) -> ModelEntry {
        ModelEntry::from_json(&value).unwrap()
    }

    #[test]
    fn per_second_prices_multiply_the_requested_or_default_duration() {
        let spec = &happyhorse_types::image_to_video::SPEC;
        let price = entry(json!({"base_price_usd": "0.10", "price_unit": "second"}));
        let default = estimate(spec, &json!({}), Some(&price));
        assert_eq!(
            default.to_string(),
            "≈ $0.50: 5 s × $0.10/s, catalogue base price"
        );
        assert_eq!(
            estimate(spec, &json!({"duration": 15}), Some(&price)).usd(),
            Some(1.5)
        );
        let liberal = entry(json!({"base_price_usd": 0.1, "price_unit": " Per Second"}));
        assert_eq!(estimate(spec, &json!({}), Some(&liberal)).usd(), Some(0.5));
        let per_output = entry(json!({"base_price_usd": 0.4, "price_unit": "outputs"}));
        assert_eq!(
            estimate(spec, &json!({}), Some(&per_output)).usd(),
            Some(0.4)
        );
    }

    #[test]
    fn an_unknown_price_unit_or_length_is_said_not_guessed() {
        let spec = &happyhorse_types::image_to_video::SPEC;
        for (price, expected) in [
            (None, "could not be read"),
            (
                Some(entry(json!({"price_unit": "second"}))),
                "gives no price",
            ),
            (
                Some(entry(json!({"base_price_usd": 0.1}))),
                "without its unit",
            ),
            (
                Some(entry(json!({"base_price_usd": 0.1, "price_unit": "token"}))),
                "a unit this version does not know",
            ),
            (
                Some(entry(json!({"base_price_usd": -1, "price_unit": "second"}))),
                "gives no price",
            ),
        ] {
            let cost = estimate(spec, &json!({}), price.as_ref());
            assert!(
                cost.usd().is_none() && cost.to_string().contains(expected),
                "{cost}"
            );
        }
        let edit = &happyhorse_types::video_edit::SPEC;
        let price = entry(json!({"base_price_usd": 0.1, "price_unit": "second"}));
        let cost = estimate(edit, &json!({"prompt": "x"}), Some(&price));
        assert!(
            cost.to_string()
                .contains("whose length the service decides"),
            "{cost}"
        );
    }
}
