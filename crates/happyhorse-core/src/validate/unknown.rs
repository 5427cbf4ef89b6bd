//! Fields the model's schema does not know. The published schemas do not forbid extra
//! properties, and the service ignores them — so `durration=12` would be billed at the default
//! duration. Each one is refused, with the closest known field as a suggestion.

use serde_json::{Map, Value};

use super::error::{InputError, show_value};

/// How alike (Jaro–Winkler, 0 to 1) a name must be to a known field to be suggested.
const SUGGEST_AT: f64 = 0.8;

/// An `unknown_field` error for every top-level key of `input` absent from `properties`.
pub(super) fn unknown_field_errors(
    model_id: &str,
    properties: &Map<String, Value>,
    input: &Map<String, Value>,
) -> Vec<InputError> {
    input
        .iter()
        .filter(|(name, _)| !properties.contains_key(name.as_str()))
        .map(|(name, value)| {
            let hint = match suggestion(name, properties.keys().map(String::as_str)) {
                Some(known) => format!("did you mean {known:?}?"),
                None => {
                    let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                    format!("known fields: {}", known.join(", "))
                }
            };
            InputError::new(
                name.as_str(),
                "unknown_field",
                &format!("is not a field of {model_id} ({hint})"),
                show_value(value),
            )
        })
        .collect()
}

/// The known name most like `name`, if any is alike enough. Case and `-`/`_` differences are
/// ignored first (`Duration`, `image-url`).
fn suggestion<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let folded = |s: &str| s.to_lowercase().replace('-', "_");
    let wanted = folded(name);
    known
        .map(|candidate| (candidate, strsim::jaro_winkler(&wanted, &folded(candidate))))
        .filter(|(_, score)| *score >= SUGGEST_AT)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 6] = [
        "image_url",
        "prompt",
        "resolution",
        "duration",
        "seed",
        "watermark",
    ];

    #[test]
    fn suggestions_find_the_intended_field() {
        for (typo, intended) in [
            ("durration", Some("duration")),
            ("Duration", Some("duration")),
            ("duraton", Some("duration")),
            ("image", Some("image_url")),
            ("image-url", Some("image_url")),
            ("img_url", Some("image_url")),
            ("prompts", Some("prompt")),
            ("resolutoin", Some("resolution")),
            ("water_mark", Some("watermark")),
            ("seeds", Some("seed")),
            ("colour", None),
            ("negative_prompt", None),
        ] {
            assert_eq!(suggestion(typo, KNOWN.into_iter()), intended, "{typo}");
        }
    }
}
