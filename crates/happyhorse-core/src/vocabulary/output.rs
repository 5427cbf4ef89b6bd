//! A succeeded job's files: every http(s) URL in its `output`, whatever the output's shape.
//!
//! The output is documented as `{"video": URL}` (else `{"videos": [URL]}`), but the documentation
//! also allows a bare URL or a list, and RunComfy's own CLI trusts no shape: it walks the JSON for
//! URLs. So does this. The typed output of a model stays a *view* of the same JSON; these URLs
//! are what a client downloads.

use std::collections::HashMap;

use serde_json::Value;

/// One file of a job's output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OutputFile {
    /// The URL, as sent (trimmed).
    pub url: String,
    /// Whether it looks like a video: found under a key naming one (`video`, `videos`,
    /// `video_url`, …) or ending in a video extension (`.mp4`, `.mov`, `.webm`, …).
    pub is_video: bool,
}

impl OutputFile {
    /// The URL path's file extension, lowercase, when it has a short plain one (`mp4`, `png`).
    ///
    /// ```
    /// use happyhorse_core::vocabulary::output_files;
    ///
    /// let files = output_files(&serde_json::json!("https://x/a/clip.MP4?sig=1"));
    /// assert_eq!(files[0].extension().as_deref(), Some("mp4"));
    /// ```
    pub fn extension(&self) -> Option<String> {
        extension(&self.url)
    }
}

const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "mov", "webm", "m4v", "mkv", "avi"];

/// Every http(s) URL in `output`, videos first (by key name or extension), each once, otherwise
/// in the order they appear. Strings that are not http(s) URLs (`data:` URIs, prose) are skipped.
///
/// ```
/// use happyhorse_core::vocabulary::output_files;
/// use serde_json::json;
///
/// let urls = |output| output_files(&output).into_iter().map(|f| f.url).collect::<Vec<_>>();
/// assert_eq!(urls(json!({"video": "https://s/v.mp4"})), ["https://s/v.mp4"]);
/// assert_eq!(urls(json!("https://s/v.mp4")), ["https://s/v.mp4"]);
/// assert_eq!(
///     urls(json!({"images": ["https://s/a.png"], "result": [{"url": "https://s/b.mp4"}]})),
///     ["https://s/b.mp4", "https://s/a.png"]
/// );
/// assert_eq!(urls(json!(["https://s/v.mp4", "https://s/v.mp4", "data:,x", 3])), ["https://s/v.mp4"]);
/// ```
pub fn output_files(output: &Value) -> Vec<OutputFile> {
    let mut found = Found::default();
    walk(output, false, &mut found);
    // Stable: videos keep their order, the rest theirs.
    let (mut videos, others): (Vec<_>, Vec<_>) = found.files.into_iter().partition(|f| f.is_video);
    videos.extend(others);
    videos
}

/// The files found so far, and where each URL is among them: an output may list many thousands
/// of URLs, and looking each up in the list would make reading it quadratic.
#[derive(Default)]
struct Found {
    files: Vec<OutputFile>,
    index: HashMap<String, usize>,
}

impl Found {
    fn add(&mut self, url: &str, is_video: bool) {
        match self.index.get(url) {
            // Seen before: it is a video if any of its mentions says so.
            Some(&at) => self.files[at].is_video |= is_video,
            None => {
                self.index.insert(url.to_owned(), self.files.len());
                self.files.push(OutputFile {
                    url: url.to_owned(),
                    is_video,
                });
            }
        }
    }
}

/// Whether `value` holds at least one http(s) URL anywhere.
pub(crate) fn has_url(value: &Value) -> bool {
    match value {
        Value::String(text) => !urls_in(text).is_empty(),
        Value::Array(items) => items.iter().any(has_url),
        Value::Object(object) => object.values().any(has_url),
        _ => false,
    }
}

fn walk(value: &Value, under_video_key: bool, found: &mut Found) {
    match value {
        Value::String(text) => {
            for url in urls_in(text) {
                let is_video = under_video_key
                    || extension(url).is_some_and(|ext| VIDEO_EXTENSIONS.contains(&ext.as_str()));
                found.add(url, is_video);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, under_video_key, found);
            }
        }
        Value::Object(object) => {
            for (key, item) in object {
                let video_key = key.to_ascii_lowercase().contains("video");
                walk(item, under_video_key || video_key, found);
            }
        }
        _ => {}
    }
}

/// The URLs a string holds: itself (trimmed) when it is an absolute http(s) URL, or each of
/// several such URLs separated by whitespace. A URL with spaces in its file name, as a careless
/// server may send it unencoded (`…/my clip.mp4`), is still that one URL (the download encodes
/// the spaces): dropping it would lose a paid file. Prose that merely mentions a URL, or starts
/// with one (`https://status.example is degraded`), is not a file.
fn urls_in(text: &str) -> Vec<&str> {
    let text = text.trim();
    if as_url(text).is_none() {
        return Vec::new();
    }
    if !text.contains(char::is_whitespace) {
        return vec![text];
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.iter().all(|word| as_url(word).is_some()) {
        return words;
    }
    // Plain spaces only, all of them in the path (not in the host), which ends in a file name
    // with an extension.
    let after_scheme = text.find("://").map_or(0, |at| at + 3);
    let path_start = text[after_scheme..].find('/').map(|at| after_scheme + at);
    let spaced_file_name = !text.contains(|c: char| c.is_whitespace() && c != ' ')
        && path_start.is_some_and(|start| !text[..start].contains(' '))
        && extension(text).is_some();
    if spaced_file_name {
        vec![text]
    } else {
        Vec::new()
    }
}

/// `text`, when it starts as an absolute http(s) URL with a host.
fn as_url(text: &str) -> Option<&str> {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &text[8..]
    } else if lower.starts_with("http://") {
        &text[7..]
    } else {
        return None;
    };
    let host_present = rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace));
    host_present.then_some(text)
}

fn extension(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let last = path.split('/').skip(1).last()?;
    let (_, ext) = last.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn urls(output: Value) -> Vec<(String, bool)> {
        output_files(&output)
            .into_iter()
            .map(|f| (f.url, f.is_video))
            .collect()
    }

    #[test]
    fn every_documented_and_plausible_shape_yields_its_video() {
        let v = "https://storage.example/out/v.mp4";
        for output in [
            json!({"video": v}),
            json!({"videos": [v]}),
            json!(v),
            json!([v]),
            json!([{"url": v}]),
            json!({"result": {"files": [{"url": v, "type": "video/mp4"}]}}),
            json!({"image": "https://storage.example/i.png", "video": v}),
            json!({"images": ["https://storage.example/i.png"], "videos": [{"url": v}]}),
        ] {
            let found = urls(output.clone());
            assert_eq!(found.first(), Some(&(v.to_owned(), true)), "{output}");
        }
    }

    #[test]
    fn videos_come_first_by_key_or_extension_then_the_rest_in_order() {
        let found = urls(json!({
            "thumbnail": "https://s/t.jpg",
            "clip": "https://s/c.webm",
            "video_url": "https://s/noext",
            "other": "http://s/doc",
        }));
        assert_eq!(
            found,
            [
                ("https://s/c.webm".to_owned(), true),
                ("https://s/noext".to_owned(), true),
                ("https://s/t.jpg".to_owned(), false),
                ("http://s/doc".to_owned(), false),
            ]
        );
    }

    #[test]
    fn duplicates_are_merged_and_not_urls_are_skipped() {
        let found = urls(json!({
            "a": "https://s/x",
            "video": "https://s/x",
            "b": ["ftp://s/y", "data:video/mp4;base64,AAAA", "https://", "see https://s/z", 7, null],
        }));
        assert_eq!(found, [("https://s/x".to_owned(), true)]);
        assert!(urls(json!({})).is_empty());
        assert!(urls(json!(null)).is_empty());
    }

    #[test]
    fn extensions_are_read_from_the_path_only() {
        let ext = |u: &str| extension(u);
        assert_eq!(ext("https://s/a/b.Mp4?x=y.png"), Some("mp4".into()));
        assert_eq!(ext("https://s.example.com"), None);
        assert_eq!(ext("https://s/a/b"), None);
        assert_eq!(ext("https://s/a/b.tar.gz"), Some("gz".into()));
        assert_eq!(ext("https://s/a/b.<script>"), None);
    }
}
