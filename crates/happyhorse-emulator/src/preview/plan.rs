//! From a submitted request to what its preview shows: which renderer, which pictures, which
//! size and length; and the digest that names the result in the cache.
//!
//! The renderer follows the model's media fields as its `model.json` describes them ([`Kind::of`]:
//! a source video is video-edit, a first-frame image image-to-video, reference images alone
//! reference-to-video, none text-to-video), so a model added as data gets the right preview with
//! no code, whatever its fields are named.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use happyhorse_preview::{
    Job, Preview, PreviewError, PreviewSettings, Resolution, SourceVideo, edit_seconds, frame_size,
    parse_aspect_ratio,
};
use happyhorse_types::ModelSpec;
use happyhorse_types::rules::MediaRole;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The schemas' defaults: 1080P, 5 s, 16:9.
const DEFAULT_SECONDS: u32 = 5;
const DEFAULT_ASPECT: f64 = 16.0 / 9.0;

/// What a job's preview is made from.
#[derive(Clone)]
pub(crate) struct Plan {
    what: What,
    settings: PreviewSettings,
    /// A line for the job's log.
    pub(crate) summary: String,
}

#[derive(Clone)]
enum What {
    /// Image-to-video: the first-frame image.
    Image(Bytes),
    /// Reference-to-video: the references that could be read, in field order.
    References(Vec<Bytes>, f64),
    /// Text-to-video, or an image the emulator could not fetch: a card at an aspect.
    Card(String, f64),
    /// Video-edit: a card following the input video.
    Edit(String, SourceVideo),
}

/// Which renderer a model's requests get, from the roles of its media fields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A first-frame image (its field): image-to-video.
    FirstFrame(String),
    /// Reference images only (their fields, in order): reference-to-video.
    References(Vec<String>),
    /// A source video: video-edit (its references do not show in the preview).
    Edit,
    /// No media field: text-to-video.
    Text,
}

impl Kind {
    /// The kind of `spec`'s requests, from its `model.json` media fields.
    pub(crate) fn of(spec: &ModelSpec) -> Self {
        let fields = spec.media_fields().unwrap_or(&[]);
        let named = |role: MediaRole| {
            fields
                .iter()
                .filter(move |f| f.rule.role == role)
                .map(|f| f.name.clone())
        };
        if named(MediaRole::SourceVideo).next().is_some() {
            return Kind::Edit;
        }
        if let Some(first) = named(MediaRole::FirstFrame).next() {
            return Kind::FirstFrame(first);
        }
        let references: Vec<String> = named(MediaRole::Reference).collect();
        if references.is_empty() {
            Kind::Text
        } else {
            Kind::References(references)
        }
    }
}

/// The images of a request that the emulator could read, by field.
pub(crate) type ImageBytes = HashMap<String, Bytes>;

impl Plan {
    /// The plan for `input` to a model of `kind`, given the images that could be read (`data:`
    /// URIs and loopback URLs, by field) and, for video-edit, what is known of the input video.
    pub(crate) fn for_request(
        kind: &Kind,
        input: &Value,
        images: &ImageBytes,
        source_video: Option<SourceVideo>,
    ) -> Plan {
        let text = |field| input.get(field).and_then(Value::as_str);
        let resolution = text("resolution")
            .and_then(Resolution::parse)
            .unwrap_or(Resolution::P1080);
        let seconds = input
            .get("duration")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_SECONDS, |s| s.clamp(1, 60) as u32);
        let seed = input.get("seed").and_then(Value::as_u64).unwrap_or(0);
        let mut settings = PreviewSettings {
            resolution,
            seconds,
            seed,
        };
        let prompt = text("prompt").unwrap_or("").to_owned();
        let aspect = text("aspect_ratio")
            .or_else(|| text("ratio"))
            .and_then(parse_aspect_ratio)
            .unwrap_or(DEFAULT_ASPECT);
        let what = match kind {
            Kind::Edit => {
                let (width, height) = frame_size(resolution, DEFAULT_ASPECT);
                let source = source_video.unwrap_or(SourceVideo {
                    width,
                    height,
                    seconds: f64::from(DEFAULT_SECONDS),
                });
                settings.seconds = edit_seconds(source.seconds);
                What::Edit(prompt, source)
            }
            Kind::FirstFrame(field) => match images.get(field) {
                Some(bytes) => What::Image(bytes.clone()),
                None => What::Card(
                    format!("(image not reachable offline) {prompt}"),
                    DEFAULT_ASPECT,
                ),
            },
            Kind::References(fields) => {
                let references: Vec<Bytes> = fields
                    .iter()
                    .filter_map(|field| images.get(field).cloned())
                    .collect();
                if references.is_empty() {
                    What::Card(
                        format!("(references not reachable offline) {prompt}"),
                        aspect,
                    )
                } else {
                    What::References(references, aspect)
                }
            }
            Kind::Text => What::Card(prompt, aspect),
        };
        let summary = match &what {
            What::Image(bytes) => format!("the input image ({} bytes)", bytes.len()),
            What::References(images, _) => format!("{} reference image(s)", images.len()),
            What::Card(..) => "a card with the prompt's first words".to_owned(),
            What::Edit(..) => "a card following the input video".to_owned(),
        };
        Plan {
            what,
            settings,
            summary: format!(
                "{summary}, {} s at 24 fps, {}",
                settings.seconds,
                resolution.as_str()
            ),
        }
    }

    /// The digest of everything the preview depends on: equal digests, equal videos.
    pub(crate) fn key(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        let s = &self.settings;
        hash.update(format!("v1 {:?} {} {};", s.resolution, s.seconds, s.seed));
        match &self.what {
            What::Image(bytes) => {
                hash.update(b"image");
                hash.update(Sha256::digest(bytes));
            }
            What::References(images, aspect) => {
                hash.update(format!("references {aspect};"));
                for bytes in images {
                    hash.update(Sha256::digest(bytes));
                }
            }
            What::Card(text, aspect) => hash.update(format!("card {aspect} {text}")),
            What::Edit(text, source) => hash.update(format!("edit {source:?} {text}")),
        }
        hash.finalize().into()
    }

    /// Renders the preview; `cancel` stops it between frames.
    pub(crate) fn render(&self, cancel: &AtomicBool) -> Result<Preview, PreviewError> {
        let references: Vec<&[u8]>;
        let job = match &self.what {
            What::Image(bytes) => Job::ImageToVideo { image: bytes },
            What::References(images, aspect) => {
                references = images.iter().map(|b| b.as_ref()).collect();
                Job::ReferenceToVideo {
                    images: &references,
                    aspect: *aspect,
                }
            }
            What::Card(prompt, aspect) => Job::TextToVideo {
                prompt,
                aspect: *aspect,
            },
            What::Edit(prompt, source) => Job::VideoEdit {
                source: *source,
                prompt,
            },
        };
        job.render(&self.settings, cancel)
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The plan of a request to the family's model `short_name`.
    fn plan_for(short_name: &str, input: Value, images: &[(&str, &[u8])]) -> Plan {
        let images = images
            .iter()
            .map(|(field, bytes)| (field.to_string(), Bytes::copy_from_slice(bytes)))
            .collect();
        let kind = Kind::of(happyhorse_types::find_model(short_name).unwrap());
        Plan::for_request(&kind, &input, &images, None)
    }

    /// The plan of a request to image-to-video, or to the model its fields suggest.
    fn plan(input: Value, images: &[(&str, &[u8])]) -> Plan {
        let model = if input.get("image_url_1").is_some() {
            "r2v"
        } else if input.get("image_url").is_some() {
            "i2v"
        } else {
            "t2v"
        };
        plan_for(model, input, images)
    }

    #[test]
    fn every_model_of_the_family_gets_its_own_renderer_from_its_fields_roles() {
        let kinds: Vec<(&str, Kind)> = happyhorse_types::MODELS
            .iter()
            .map(|spec| (spec.short_name, Kind::of(spec)))
            .collect();
        for (name, kind) in &kinds {
            let expected = match *name {
                "i2v" | "1.1/i2v" => Kind::FirstFrame("image_url".into()),
                "t2v" | "1.1/t2v" => Kind::Text,
                "edit" => Kind::Edit,
                _ => Kind::References((1..=9).map(|i| format!("image_url_{i}")).collect()),
            };
            assert_eq!(kind, &expected, "{name}");
        }
        assert_eq!(kinds.len(), 7);
        // Video-edit's reference images never make it a reference-to-video.
        let p = plan_for(
            "edit",
            json!({"video_url": "x", "reference_image_url_1": "y", "prompt": "p"}),
            &[("reference_image_url_1", b"png")],
        );
        assert!(matches!(p.what, What::Edit(..)));
    }

    #[test]
    fn the_request_picks_the_renderer_and_the_settings() {
        let p = plan(
            json!({"image_url": "data:…", "prompt": "x", "duration": 8, "resolution": "720P", "seed": 3}),
            &[("image_url", b"png")],
        );
        assert!(matches!(p.what, What::Image(_)));
        assert_eq!(
            p.settings,
            PreviewSettings {
                resolution: Resolution::P720,
                seconds: 8,
                seed: 3
            }
        );
        // Defaults are the schema's: 1080P, 5 s.
        let p = plan(
            json!({"image_url": "https://example.com/a.png", "prompt": "x"}),
            &[],
        );
        assert_eq!(p.settings.resolution, Resolution::P1080);
        assert_eq!(p.settings.seconds, 5);
        assert!(matches!(&p.what, What::Card(text, _) if text.contains("not reachable")));
        let p = plan(json!({"prompt": "a cat", "aspect_ratio": "9:16"}), &[]);
        assert!(matches!(&p.what, What::Card(_, aspect) if *aspect == 9.0 / 16.0));
        let p = plan(
            json!({"prompt": "a cat", "ratio": "1:1", "resolution": "720P"}),
            &[],
        );
        assert!(matches!(&p.what, What::Card(_, aspect) if *aspect == 1.0));
        let p = plan(
            json!({"image_url_1": "x", "image_url_2": "y", "image_url_3": "z", "prompt": "p"}),
            &[("image_url_1", b"a"), ("image_url_3", b"c")],
        );
        assert!(matches!(&p.what, What::References(images, _) if images.len() == 2));
    }

    #[test]
    fn video_edit_keeps_the_input_size_and_duration() {
        let input = json!({"video_url": "https://example.com/v.mp4", "prompt": "make it snow"});
        let source = SourceVideo {
            width: 1281,
            height: 721,
            seconds: 7.6,
        };
        let edit = Kind::of(&happyhorse_types::video_edit::SPEC);
        let p = Plan::for_request(&edit, &input, &ImageBytes::new(), Some(source));
        assert_eq!(p.settings.seconds, 8);
        assert!(matches!(&p.what, What::Edit(_, s) if s.width == 1281));
        let long = SourceVideo {
            seconds: 42.0,
            ..source
        };
        assert_eq!(
            Plan::for_request(&edit, &input, &ImageBytes::new(), Some(long))
                .settings
                .seconds,
            15
        );
    }

    #[test]
    fn the_key_changes_with_anything_the_video_depends_on() {
        let base = json!({"image_url": "x", "prompt": "p", "seed": 1});
        let key = |input: Value, image: &[u8]| plan(input, &[("image_url", image)]).key();
        let first = key(base.clone(), b"one");
        assert_eq!(first, key(base.clone(), b"one"));
        // The prompt does not show in an image-to-video preview: same video, same key.
        assert_eq!(
            first,
            key(
                json!({"image_url": "x", "prompt": "other", "seed": 1}),
                b"one"
            )
        );
        assert_ne!(first, key(base.clone(), b"two"));
        assert_ne!(
            first,
            key(json!({"image_url": "x", "prompt": "p", "seed": 2}), b"one")
        );
        assert_ne!(
            first,
            key(
                json!({"image_url": "x", "prompt": "p", "seed": 1, "duration": 3}),
                b"one"
            )
        );
    }
}
