//! The input rules a JSON Schema cannot express, as each model's `model.json` states them under
//! `rules`: the prompt's length (with its lower limit for Chinese prompts) and, per media field,
//! what the image or video must be (formats, bytes, sides, aspect ratio, duration, frame rate).
//!
//! They are data, read by [`ModelSpec::info`](crate::ModelSpec::info), so that validation is
//! written once and every model — including one added later — is checked by its own numbers.
//! `docs/schemas.md` documents the format. Every limit is optional: an absent one is not checked.
//!
//! ```
//! let rules = happyhorse_types::reference_to_video::SPEC.rules()?;
//! let first = rules.media_rule("image_url_1").unwrap();
//! let third = rules.media_rule("image_url_3").unwrap();
//! assert_eq!(first.image().unwrap().min_side, Some(400));
//! assert_eq!(third.field.as_str(), "image_url_{n}");
//! assert!(rules.media_rule("prompt").is_none());
//! # Ok::<(), happyhorse_types::ModelInfoError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer};

/// Every rule of one model's input beyond its JSON Schema (`rules` in `model.json`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InputRules {
    /// The prompt's length limits; `None` when the model publishes none.
    #[serde(default)]
    pub prompt: Option<PromptRule>,
    /// One rule per media field or numbered family of fields, in `model.json` order.
    #[serde(default)]
    pub media: Vec<MediaRule>,
}

impl InputRules {
    /// The rule for the media field `field`: the rule naming it exactly, else the first numbered
    /// rule (`image_url_{n}`) it matches; `None` for a field that holds no media.
    pub fn media_rule(&self, field: &str) -> Option<&MediaRule> {
        self.media
            .iter()
            .find(|rule| rule.field.number(field).is_none() && rule.field.matches(field))
            .or_else(|| self.media.iter().find(|rule| rule.field.matches(field)))
    }
}

/// The prompt's length, in characters (Unicode scalar values, as JSON Schema's `maxLength`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PromptRule {
    /// The field holding the prompt (`prompt`).
    pub field: String,
    /// The limit for a prompt that is not Chinese.
    #[serde(default)]
    pub max_chars: Option<usize>,
    /// The limit for a Chinese prompt (what counts as Chinese is `happyhorse-core`'s rule);
    /// `None` means the same as [`max_chars`](Self::max_chars).
    #[serde(default)]
    pub max_chars_chinese: Option<usize>,
}

impl PromptRule {
    /// The limit that applies to a prompt that is (`chinese`) or is not Chinese; `None` when the
    /// model publishes no limit.
    ///
    /// ```
    /// let rules = happyhorse_types::image_to_video::SPEC.rules()?;
    /// let prompt = rules.prompt.as_ref().unwrap();
    /// assert_eq!((prompt.limit(false), prompt.limit(true)), (Some(5000), Some(2500)));
    /// # Ok::<(), happyhorse_types::ModelInfoError>(())
    /// ```
    pub fn limit(&self, chinese: bool) -> Option<usize> {
        if chinese {
            self.max_chars_chinese.or(self.max_chars)
        } else {
            self.max_chars
        }
    }
}

/// What one media field (or a numbered family of them) must hold.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MediaRule {
    /// The field's name, or a numbered pattern such as `image_url_{n}`.
    pub field: FieldPattern,
    /// What the media is for, which the CLI turns into a flag.
    pub role: MediaRole,
    /// Why the rule says what it says, when that is not the schema's own text (e.g. inferred).
    pub note: Option<String>,
    /// The checks, by kind of media.
    pub checks: MediaChecks,
}

impl MediaRule {
    /// The image checks, when the field holds an image.
    pub fn image(&self) -> Option<&ImageRules> {
        match &self.checks {
            MediaChecks::Image(rules) => Some(rules),
            MediaChecks::Video(_) => None,
        }
    }

    /// The video checks, when the field holds a video.
    pub fn video(&self) -> Option<&VideoRules> {
        match &self.checks {
            MediaChecks::Video(rules) => Some(rules),
            MediaChecks::Image(_) => None,
        }
    }

    /// The kind of media, as `model.json` spells it: `image` or `video`.
    pub fn kind(&self) -> &'static str {
        match self.checks {
            MediaChecks::Image(_) => "image",
            MediaChecks::Video(_) => "video",
        }
    }
}

/// The checks of a media field, by kind (`"kind"` in `model.json`).
#[derive(Debug, Clone, PartialEq)]
pub enum MediaChecks {
    /// `"kind": "image"`.
    Image(ImageRules),
    /// `"kind": "video"`.
    Video(VideoRules),
}

/// What a media field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaRole {
    /// The image the video starts from (image-to-video's `image_url`).
    FirstFrame,
    /// A reference image (a character, an outfit, a style).
    Reference,
    /// The video to edit.
    SourceVideo,
}

/// An image field's rules. Sizes are in pixels; `max_bytes` counts the decoded bytes.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ImageRules {
    /// Accepted formats, by content; empty accepts any.
    #[serde(default)]
    pub formats: Vec<ImageFormat>,
    /// The largest file, in bytes (10 MB is written 10000000: "MB" is read as 10⁶ bytes).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The shortest side accepted: every side must be at least this long.
    #[serde(default)]
    pub min_side: Option<u32>,
    /// The most elongated shape accepted, either way up (`2.5:1` accepts 1:2.5 to 2.5:1).
    #[serde(default)]
    pub max_aspect_ratio: Option<AspectRatio>,
}

/// A video field's rules. Sizes are in pixels, durations in seconds.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VideoRules {
    /// Accepted containers, by content; empty accepts any.
    #[serde(default)]
    pub containers: Vec<VideoContainer>,
    /// Accepted codecs of the video track; empty accepts any.
    #[serde(default)]
    pub codecs: Vec<VideoCodec>,
    /// The shortest duration accepted (inclusive).
    #[serde(default)]
    pub min_duration_secs: Option<f64>,
    /// The longest duration accepted (inclusive).
    #[serde(default)]
    pub max_duration_secs: Option<f64>,
    /// The longest the long side may be.
    #[serde(default)]
    pub max_long_side: Option<u32>,
    /// The shortest the short side may be.
    #[serde(default)]
    pub min_short_side: Option<u32>,
    /// The most elongated shape accepted, either way up.
    #[serde(default)]
    pub max_aspect_ratio: Option<AspectRatio>,
    /// The largest file, in bytes (100 MB is written 100000000: "MB" is read as 10⁶ bytes).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The frame rate must be strictly above this (`8` for "more than 8 fps").
    #[serde(default)]
    pub fps_greater_than: Option<f64>,
}

/// An image format, as `model.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// `jpeg` (also `.jpg` files).
    Jpeg,
    /// `png`.
    Png,
    /// `webp`.
    Webp,
}

/// A video container, as `model.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoContainer {
    /// `mp4` (ISO base media).
    Mp4,
    /// `mov` (QuickTime).
    Mov,
}

/// A video codec, as `model.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodec {
    /// `h264` (H.264 / AVC).
    H264,
}

impl ImageFormat {
    /// Every format, in the order messages list them.
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::Webp];

    /// The format's media type, e.g. `image/png`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

impl VideoContainer {
    /// The container's media type, e.g. `video/mp4`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WEBP",
        })
    }
}

impl fmt::Display for VideoContainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mp4 => "MP4",
            Self::Mov => "MOV",
        })
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::H264 => "H.264",
        })
    }
}

/// A field name, or a numbered family of fields: `image_url_{n}` matches `image_url_1`,
/// `image_url_12`, … (`{n}`: one or more ASCII digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPattern(String);

impl FieldPattern {
    /// Checks the pattern's syntax: at most one `{n}`, no other braces, not empty.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let without = pattern.replacen("{n}", "", 1);
        if pattern.is_empty() || without.contains(['{', '}']) {
            return Err(format!(
                "`{pattern}` must be a field name, or one with a single `{{n}}` for its number"
            ));
        }
        Ok(Self(pattern.to_owned()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `field` is this field, or one of this numbered family.
    pub fn matches(&self, field: &str) -> bool {
        match self.0.split_once("{n}") {
            None => self.0 == field,
            Some(_) => self.number(field).is_some(),
        }
    }

    /// The number of `field` in this numbered family (`image_url_3` → 3); `None` when the pattern
    /// has no `{n}` or `field` does not match it.
    pub fn number(&self, field: &str) -> Option<u32> {
        let (prefix, suffix) = self.0.split_once("{n}")?;
        let digits = field.strip_prefix(prefix)?.strip_suffix(suffix)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

impl fmt::Display for FieldPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FieldPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// The most elongated shape accepted, either way up, kept as an exact fraction: `"2.5:1"` accepts
/// every shape from 1:2.5 to 2.5:1, both included.
///
/// ```
/// use happyhorse_types::rules::AspectRatio;
///
/// let limit: AspectRatio = "2.5:1".parse().unwrap();
/// assert!(limit.allows(750, 300) && limit.allows(300, 750));
/// assert!(!limit.allows(751, 300));
/// assert_eq!(limit.to_string(), "2.5:1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AspectRatio {
    text: String,
    /// `long : short` as integers (`2.5:1` is 25 : 10), `long >= short > 0`.
    long: u64,
    short: u64,
}

impl AspectRatio {
    /// Whether a `width` × `height` picture is within the limit, either way up.
    pub fn allows(&self, width: u64, height: u64) -> bool {
        let (long, short) = (width.max(height), width.min(height));
        u128::from(long) * u128::from(self.short) <= u128::from(short) * u128::from(self.long)
    }

    /// The limit as a number (`2.5`), for messages.
    pub fn value(&self) -> f64 {
        self.long as f64 / self.short as f64
    }

    /// The accepted range in words, both ways up: `between 1:2.5 and 2.5:1`.
    ///
    /// ```
    /// let limit: happyhorse_types::rules::AspectRatio = "2.5:1".parse().unwrap();
    /// assert_eq!(limit.range(), "between 1:2.5 and 2.5:1");
    /// ```
    pub fn range(&self) -> String {
        let (a, b) = self.text.split_once(':').unwrap_or((&self.text, "1"));
        let (a, b) = (a.trim(), b.trim());
        format!("between {b}:{a} and {a}:{b}")
    }
}

impl std::str::FromStr for AspectRatio {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` must be an aspect ratio such as `2.5:1`");
        let (a, b) = text.split_once(':').ok_or_else(bad)?;
        let ((a_num, a_den), (b_num, b_den)) = (
            decimal(a.trim()).ok_or_else(bad)?,
            decimal(b.trim()).ok_or_else(bad)?,
        );
        // a_num/a_den : b_num/b_den == a_num·b_den : b_num·a_den
        let (x, y) = (
            a_num.checked_mul(b_den).ok_or_else(bad)?,
            b_num.checked_mul(a_den).ok_or_else(bad)?,
        );
        if x == 0 || y == 0 {
            return Err(bad());
        }
        Ok(Self {
            text: text.to_owned(),
            long: x.max(y),
            short: x.min(y),
        })
    }
}

/// A non-negative decimal (`2.5`) as `numerator / denominator` (`25 / 10`).
fn decimal(text: &str) -> Option<(u64, u64)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let denominator = 10u64.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let numerator = format!("{whole}{fraction}").parse().ok()?;
    Some((numerator, denominator))
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for AspectRatio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for MediaRule {
    /// `{"field": …, "kind": "image"|"video", "role": …, "note": …, <the kind's checks>}`. Read
    /// by hand because serde's `flatten` would silently ignore a misspelt check.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        use serde_json::Value;

        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Image,
            Video,
        }
        fn take<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            map: &mut serde_json::Map<String, Value>,
            key: &str,
            context: &str,
        ) -> Result<T, E> {
            let value = map
                .remove(key)
                .ok_or_else(|| E::custom(format!("{context}missing field `{key}`")))?;
            serde_json::from_value(value).map_err(|e| E::custom(format!("{context}`{key}`: {e}")))
        }

        let mut map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let field: FieldPattern = take(&mut map, "field", "a media rule: ")?;
        let context = format!("the media rule for `{field}`: ");
        let kind: Kind = take(&mut map, "kind", &context)?;
        let role = take(&mut map, "role", &context)?;
        let note = match map.remove("note") {
            None => None,
            Some(note) => Some(
                serde_json::from_value(note)
                    .map_err(|e| D::Error::custom(format!("{context}`note`: {e}")))?,
            ),
        };
        let checks = Value::Object(map);
        let bad = |e: serde_json::Error| D::Error::custom(format!("{context}{e}"));
        let checks = match kind {
            Kind::Image => MediaChecks::Image(serde_json::from_value(checks).map_err(bad)?),
            Kind::Video => MediaChecks::Video(serde_json::from_value(checks).map_err(bad)?),
        };
        Ok(Self {
            field,
            role,
            note,
            checks,
        })
    }
}
