//! The known models, from the checked-in schemas and `model.json` files embedded in
//! `happyhorse-types`: each entry carries the catalogue fields RunComfy's own clients read
//! (`model_id`, `display_name`, `description`, `categories`, `kind`, `base_price_usd`,
//! `price_unit`, `pricing_note`, and `input_schema` on request) — never the project's own
//! `short_name` or input `rules`.

use happyhorse_core::validate::{self as core, MediaRef};
use happyhorse_types::rules::MediaRole;
use happyhorse_types::{MODELS, ModelInfo, ModelSpec};
use serde_json::{Map, Value, json};

/// One known model with its parsed metadata.
#[derive(Debug, Clone)]
pub(crate) struct CatalogModel {
    pub(crate) spec: &'static ModelSpec,
    info: &'static ModelInfo,
    input_schema: Value,
}

impl CatalogModel {
    fn new(spec: &'static ModelSpec) -> anyhow::Result<Self> {
        let info = spec.info()?;
        let input_schema = serde_json::from_str(spec.input_schema)
            .map_err(|e| anyhow::anyhow!("input schema of {} is not JSON: {e}", spec.id))?;
        Ok(Self {
            spec,
            info,
            input_schema,
        })
    }

    pub(crate) fn id(&self) -> &'static str {
        self.spec.id
    }

    pub(crate) fn categories(&self) -> Vec<&str> {
        self.info.categories.iter().map(String::as_str).collect()
    }

    /// How many seconds of video a job with this input returns (and is billed for): the
    /// requested `duration`, else the schema's default. A model without a `duration` field
    /// (video-edit) returns a clip as long as its source video, within 3–15 s — measured when
    /// the source is inline, else 5 s (the emulator's own rule: the service does not say).
    pub(crate) fn output_seconds(&self, input: &Value) -> f64 {
        let duration = &self.input_schema["properties"]["duration"];
        if !duration.is_null() {
            return input
                .get("duration")
                .and_then(Value::as_f64)
                .or_else(|| duration["default"].as_f64())
                .unwrap_or(5.0);
        }
        let source = self.info.media_fields.iter().find_map(|field| {
            let value = input.get(&field.name)?.as_str()?;
            if field.rule.role != MediaRole::SourceVideo {
                return None;
            }
            match core::validate_media_ref(&field.name, &field.rule, value) {
                Ok(MediaRef::Video(video)) => Some(video.duration_secs),
                _ => None,
            }
        });
        source.map_or(5.0, |secs| secs.clamp(3.0, 15.0))
    }

    /// What a successful job with this input costs: the base price per second of output
    /// ([`output_seconds`](Self::output_seconds)), or per output.
    pub(crate) fn cost_of(&self, input: &Value) -> f64 {
        let base = self.info.base_price_usd.unwrap_or(0.0);
        match self.info.price_unit {
            Some(happyhorse_types::PriceUnit::Second) => base * self.output_seconds(input),
            _ => base,
        }
    }

    fn matches(&self, search: &str) -> bool {
        let search = search.to_lowercase();
        [
            self.id(),
            self.info.display_name.as_str(),
            self.info.description.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&search))
    }

    /// The `GET /v1/models` / `GET /v1/models/{id}` entry: the catalogue's fields only.
    pub(crate) fn entry(&self, include_schema: bool) -> Value {
        let info = self.info;
        let mut entry = Map::new();
        entry.insert("model_id".into(), json!(self.id()));
        entry.insert("display_name".into(), json!(info.display_name));
        if let Some(description) = &info.description {
            entry.insert("description".into(), json!(description));
        }
        entry.insert("categories".into(), json!(info.categories));
        if let Some(kind) = &info.kind {
            entry.insert("kind".into(), json!(kind));
        }
        if let Some(price) = info.base_price_usd {
            entry.insert("base_price_usd".into(), json!(price));
        }
        if let Some(unit) = info.price_unit {
            entry.insert("price_unit".into(), json!(unit.as_str()));
        }
        if let Some(note) = &info.pricing_note {
            entry.insert("pricing_note".into(), json!(note));
        }
        if include_schema {
            entry.insert("input_schema".into(), self.input_schema.clone());
        }
        Value::Object(entry)
    }
}

/// Every known model.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    models: Vec<CatalogModel>,
}

/// Filters of `GET /v1/models`.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) search: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) include_schema: bool,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: usize,
}

impl Catalog {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let models = MODELS
            .iter()
            .map(|spec| CatalogModel::new(spec))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { models })
    }

    pub(crate) fn get(&self, id: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|model| model.id() == id)
    }

    /// `{"models": [...], "total": N}`; `total` counts matches before `limit`/`offset`.
    pub(crate) fn list(&self, query: &ListQuery) -> Value {
        let matching: Vec<&CatalogModel> = self
            .models
            .iter()
            .filter(|m| {
                query
                    .search
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || m.matches(s))
            })
            .filter(|m| {
                query
                    .category
                    .as_deref()
                    .is_none_or(|c| c.is_empty() || m.categories().contains(&c))
            })
            .filter(|m| {
                query.kind.as_deref().is_none_or(|k| {
                    k.is_empty()
                        || m.info
                            .kind
                            .as_deref()
                            .is_some_and(|mk| mk.eq_ignore_ascii_case(k))
                })
            })
            .collect();
        let page: Vec<Value> = matching
            .iter()
            .skip(query.offset)
            .take(query.limit.unwrap_or(usize::MAX))
            .map(|m| m.entry(query.include_schema))
            .collect();
        json!({ "models": page, "total": matching.len() })
    }

    /// `{"categories": [...]}`, sorted and without repeats.
    pub(crate) fn categories(&self) -> Value {
        let mut categories: Vec<&str> = self.models.iter().flat_map(|m| m.categories()).collect();
        categories.sort_unstable();
        categories.dedup();
        json!({ "categories": categories })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I2V: &str = "happyhorse/happyhorse-1.0/image-to-video";

    #[test]
    fn every_checked_in_model_is_known() {
        let catalog = Catalog::load().unwrap();
        assert_eq!(catalog.models.len(), MODELS.len());
        let i2v = catalog.get(I2V).unwrap();
        assert_eq!(
            i2v.entry(true)["input_schema"]["required"],
            json!(["image_url", "prompt"])
        );
        assert!(i2v.entry(false).get("input_schema").is_none());
    }

    #[test]
    fn cost_is_price_per_second_of_requested_duration() {
        let catalog = Catalog::load().unwrap();
        let i2v = catalog.get(I2V).unwrap();
        let base = i2v.info.base_price_usd.unwrap();
        assert!((i2v.cost_of(&json!({"duration": 8})) - 8.0 * base).abs() < 1e-9);
        assert!((i2v.cost_of(&json!({})) - 5.0 * base).abs() < 1e-9);
    }

    #[test]
    fn list_filters_and_pages() {
        let catalog = Catalog::load().unwrap();
        let all = catalog.list(&ListQuery::default());
        assert_eq!(all["total"], json!(MODELS.len()));
        let none = catalog.list(&ListQuery {
            search: Some("no such model anywhere".into()),
            ..ListQuery::default()
        });
        assert_eq!(none["total"], json!(0));
        let found = catalog.list(&ListQuery {
            search: Some("HAPPYHORSE".into()),
            category: Some("image-to-video".into()),
            ..ListQuery::default()
        });
        assert!(found["total"].as_u64().unwrap() >= 1);
        let paged = catalog.list(&ListQuery {
            offset: 1000,
            ..ListQuery::default()
        });
        assert_eq!(paged["models"], json!([]));
        assert!(
            catalog.categories()["categories"]
                .as_array()
                .unwrap()
                .contains(&json!("video"))
        );
    }
}
