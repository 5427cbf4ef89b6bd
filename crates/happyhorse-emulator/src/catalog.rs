//! The known models, from the checked-in schemas and `model.json` files embedded in `happyhorse-types`.

use happyhorse_types::{MODELS, ModelSpec};
use serde_json::{Map, Value, json};

/// One known model with its parsed metadata.
#[derive(Debug, Clone)]
pub(crate) struct CatalogModel {
    pub(crate) spec: &'static ModelSpec,
    metadata: Map<String, Value>,
    input_schema: Value,
}

impl CatalogModel {
    fn new(spec: &'static ModelSpec) -> anyhow::Result<Self> {
        let metadata: Map<String, Value> = serde_json::from_str(spec.metadata)
            .map_err(|e| anyhow::anyhow!("model.json of {} is not a JSON object: {e}", spec.id))?;
        let input_schema = serde_json::from_str(spec.input_schema)
            .map_err(|e| anyhow::anyhow!("input schema of {} is not JSON: {e}", spec.id))?;
        Ok(Self {
            spec,
            metadata,
            input_schema,
        })
    }

    pub(crate) fn id(&self) -> &'static str {
        self.spec.id
    }

    fn text(&self, key: &str) -> &str {
        self.metadata.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn categories(&self) -> Vec<&str> {
        self.metadata
            .get("categories")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// What a successful job with this input costs: the base price per second of output
    /// (the requested `duration`, default 5 s), or per output.
    pub(crate) fn cost_of(&self, input: &Value) -> f64 {
        let base = self
            .metadata
            .get("base_price_usd")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        match self.text("price_unit") {
            "second" => {
                let seconds = input
                    .get("duration")
                    .and_then(Value::as_f64)
                    .or_else(|| self.input_schema["properties"]["duration"]["default"].as_f64())
                    .unwrap_or(5.0);
                base * seconds
            }
            _ => base,
        }
    }

    fn matches(&self, search: &str) -> bool {
        let search = search.to_lowercase();
        [
            self.id(),
            self.text("display_name"),
            self.text("description"),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&search))
    }

    /// The `GET /v1/models` / `GET /v1/models/{id}` entry.
    pub(crate) fn entry(&self, include_schema: bool) -> Value {
        let mut entry = self.metadata.clone();
        entry.insert("model_id".into(), json!(self.id()));
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
        let base = i2v.metadata["base_price_usd"].as_f64().unwrap();
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
