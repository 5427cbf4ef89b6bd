//! The JSONL jobs file: one input object per line, with an optional `id`, `output` file name and
//! `model` (a full id or a short name; the command's `--model` when absent), so one batch may mix
//! models. Every line is checked against its own model before anything is sent, and every problem
//! is reported at once.
//!
//! The file must be a regular file (a rerun must read the same bytes). It is read line by line,
//! each line at most 64 MiB (the request cap) and UTF-8: a line with an invalid byte is refused
//! with its line and byte offset, never "repaired" with U+FFFD and sent.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use happyhorse_core::validate::{
    InputError, REQUEST_MAX_BYTES, ValidateOptions, check_utf8, shorten, validate_input_with,
};
use happyhorse_http::ImageSource;
use happyhorse_types::{ModelSpec, find_model};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::input::{inline_local_media, known_models};
use crate::read::{self, Line};

/// One valid line: the job's id, where its video goes, and its input (local image paths are
/// inlined only when the job is submitted, so a large batch never holds every image at once).
#[derive(Debug, Clone)]
pub(crate) struct JobLine {
    /// 1-based line number.
    pub(crate) line: usize,
    pub(crate) id: String,
    /// The model the line is for.
    pub(crate) model: &'static ModelSpec,
    /// A file name inside the output directory.
    pub(crate) output: String,
    pub(crate) input: Map<String, Value>,
}

/// A line that cannot be submitted, with every reason.
#[derive(Debug, Clone)]
pub(crate) struct InvalidLine {
    pub(crate) line: usize,
    pub(crate) id: Option<String>,
    pub(crate) errors: Vec<InputError>,
}

/// A parsed jobs file.
#[derive(Debug)]
pub(crate) struct JobsFile {
    pub(crate) path: PathBuf,
    /// SHA-256 of the file's bytes: a journal belongs to exactly one jobs file.
    pub(crate) sha256: String,
    pub(crate) jobs: Vec<JobLine>,
    pub(crate) invalid: Vec<InvalidLine>,
    /// Where relative image paths are resolved: the file's own directory.
    base: PathBuf,
}

const ID_MAX: usize = 100;

impl JobsFile {
    /// Reads and checks every line of `path` against its model (`spec` unless the line names one).
    pub(crate) fn load(
        path: &Path,
        spec: &'static ModelSpec,
        options: ValidateOptions,
    ) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other(
                "not a regular file: a rerun must read the same jobs again",
            ));
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut file_checked = JobsFile {
            path: path.to_path_buf(),
            sha256: String::new(),
            jobs: Vec::new(),
            invalid: Vec::new(),
            base,
        };
        let mut hasher = Sha256::new();
        let mut reader = BufReader::new(file);
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut outputs: HashMap<String, usize> = HashMap::new();
        let mut number = 0;
        while let Some(line) =
            read::next_line(&mut reader, REQUEST_MAX_BYTES, |bytes| hasher.update(bytes))?
        {
            number += 1;
            let checked = match line {
                Line::TooLong => Err(InvalidLine {
                    line: number,
                    id: None,
                    errors: vec![InputError::new(
                        "",
                        "line_length",
                        "must be at most 64 MiB (the largest request)",
                        format!("line {number}"),
                    )],
                }),
                Line::Text(bytes) => match check_utf8(&bytes) {
                    Err(problem) => Err(InvalidLine {
                        line: number,
                        id: None,
                        errors: vec![InputError::new(
                            "",
                            "utf8",
                            &format!(
                                "must be UTF-8 text (invalid byte 0x{:02X} at byte offset {} of line {number})",
                                problem.byte, problem.offset
                            ),
                            format!("line {number}"),
                        )],
                    }),
                    Ok(text) if text.trim().is_empty() => continue,
                    Ok(text) => file_checked.check_line(
                        number,
                        text.strip_suffix('\r').unwrap_or(text),
                        spec,
                        options,
                        &mut ids,
                        &mut outputs,
                    ),
                },
            };
            match checked {
                Ok(job) => file_checked.jobs.push(job),
                Err(invalid) => file_checked.invalid.push(invalid),
            }
        }
        file_checked.sha256 = hex(&hasher.finalize());
        Ok(file_checked)
    }

    /// `job`'s input, ready to send: local images read, checked and inlined. An image that
    /// vanished since the check leaves its path in place, which validation then refuses.
    pub(crate) fn submit_body(&self, job: &JobLine) -> Value {
        let mut input = job.input.clone();
        let mut errors = Vec::new();
        inline_local_media(job.model, &mut input, &self.base, &mut errors);
        Value::Object(input)
    }

    fn check_line(
        &self,
        number: usize,
        line: &str,
        spec: &'static ModelSpec,
        options: ValidateOptions,
        ids: &mut HashMap<String, usize>,
        outputs: &mut HashMap<String, usize>,
    ) -> Result<JobLine, InvalidLine> {
        let mut invalid = InvalidLine {
            line: number,
            id: None,
            errors: Vec::new(),
        };
        let mut object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            Ok(other) => {
                let got = shorten(&other.to_string());
                invalid.errors.push(InputError::new(
                    "",
                    "json_object",
                    "must be a JSON object",
                    got,
                ));
                return Err(invalid);
            }
            Err(e) => {
                let rule = format!("must be valid JSON ({e})");
                invalid
                    .errors
                    .push(InputError::new("", "json", &rule, shorten(line)));
                return Err(invalid);
            }
        };
        let (id, id_ok) = match object.remove("id") {
            None => (format!("line-{number}"), true),
            Some(Value::String(id)) if is_valid_id(&id) => (id, true),
            Some(other) => {
                let rule = format!(
                    "must be 1 to {ID_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit"
                );
                invalid.errors.push(InputError::new(
                    "id",
                    "id",
                    &rule,
                    shorten(&other.to_string()),
                ));
                (format!("line-{number}"), false)
            }
        };
        invalid.id = Some(id.clone());
        let model = match object.remove("model") {
            None => spec,
            Some(Value::String(name)) if find_model(&name).is_some() => {
                find_model(&name).unwrap_or(spec)
            }
            Some(other) => {
                invalid.errors.push(InputError::new(
                    "model",
                    "model",
                    &format!("must be a model id or short name ({})", known_models()),
                    shorten(&other.to_string()),
                ));
                return Err(invalid);
            }
        };
        if id_ok && let Some(first) = ids.insert(id.clone(), number) {
            let rule = format!("must be unique (line {first} has the same id)");
            invalid
                .errors
                .push(InputError::new("id", "unique", &rule, id.clone()));
        }
        let (output, output_ok) = match object.remove("output") {
            None => (format!("{id}.mp4"), id_ok),
            Some(Value::String(name)) if is_plain_file_name(&name) => (name, true),
            Some(other) => {
                invalid.errors.push(InputError::new(
                    "output",
                    "file_name",
                    "must be a plain file name inside --out-dir (no '/', '\\', '..' or leading '.')",
                    shorten(&other.to_string()),
                ));
                (format!("{id}.mp4"), false)
            }
        };
        // Only a usable name can collide: a broken one is already reported.
        if output_ok && let Some(first) = outputs.insert(output.clone(), number) {
            let rule = format!("must be unique (line {first} writes the same file)");
            invalid
                .errors
                .push(InputError::new("output", "unique", &rule, output.clone()));
        }
        let mut checked = object.clone();
        let failed = inline_local_media(model, &mut checked, &self.base, &mut invalid.errors);
        if let Err(found) = validate_input_with(model, &Value::Object(checked), options) {
            invalid
                .errors
                .extend(found.into_iter().filter(|e| !failed.contains(&e.field)));
        }
        if !invalid.errors.is_empty() {
            return Err(invalid);
        }
        Ok(JobLine {
            line: number,
            id,
            model,
            output,
            input: object,
        })
    }
}

fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.len() <= ID_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !ImageSource::is_url(name)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use happyhorse_types::image_to_video::SPEC;

    fn load(text: &str) -> JobsFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.jsonl");
        std::fs::write(&path, text).unwrap();
        JobsFile::load(&path, &SPEC, ValidateOptions::default()).unwrap()
    }

    const GOOD: &str = r#""image_url":"https://example.com/a.png","prompt":"a horse""#;

    #[test]
    fn ids_and_outputs_default_from_the_line_number() {
        let file = load(&format!(
            "{{{GOOD}}}\n\n{{\"id\":\"sku-1\",\"output\":\"a.mp4\",{GOOD}}}\n"
        ));
        assert!(file.invalid.is_empty(), "{:?}", file.invalid);
        let jobs: Vec<_> = file
            .jobs
            .iter()
            .map(|j| (j.line, j.id.as_str(), j.output.as_str()))
            .collect();
        assert_eq!(jobs, [(1, "line-1", "line-1.mp4"), (3, "sku-1", "a.mp4")]);
        assert!(
            !file.jobs[1].input.contains_key("id"),
            "id and output are not sent"
        );
        assert_eq!(file.sha256.len(), 64);
    }

    #[test]
    fn every_problem_of_every_line_is_reported() {
        let text = [
            "not json".to_owned(),
            "[1,2]".to_owned(),
            format!("{{\"id\":\"../x\",{GOOD}}}"),
            format!("{{\"id\":\"a\",\"output\":\"../../etc/passwd\",{GOOD}}}"),
            format!("{{\"id\":\"a\",{GOOD}}}"),
            r#"{"prompt":"","duration":99}"#.to_owned(),
            r#"{"image_url":"missing.png","prompt":"x"}"#.to_owned(),
        ]
        .join("\n");
        let file = load(&text);
        assert!(file.jobs.is_empty());
        let rules: Vec<(usize, Vec<&str>)> = file
            .invalid
            .iter()
            .map(|l| (l.line, l.errors.iter().map(|e| e.rule.as_str()).collect()))
            .collect();
        assert_eq!(rules[0], (1, vec!["json"]));
        assert_eq!(rules[1], (2, vec!["json_object"]));
        assert_eq!(rules[2], (3, vec!["id"]));
        assert_eq!(rules[3], (4, vec!["file_name"]));
        assert_eq!(rules[4], (5, vec!["unique"]));
        assert_eq!(rules[5], (6, vec!["required", "enum"]));
        assert_eq!(rules[6], (7, vec!["image_file"]));
    }

    #[test]
    fn invalid_utf8_is_refused_with_line_and_offset_and_the_rest_still_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.jsonl");
        let mut bytes = format!("{{{GOOD}}}\n").into_bytes();
        bytes.extend_from_slice(
            b"{\"image_url\":\"https://example.com/a.png\",\"prompt\":\"caf\xE9\"}\r\n",
        );
        bytes.extend_from_slice(format!("{{{GOOD},\"durration\":12}}\r\n").as_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let file = JobsFile::load(&path, &SPEC, ValidateOptions::default()).unwrap();
        assert_eq!(file.jobs.len(), 1);
        let errors: Vec<(usize, String)> = file
            .invalid
            .iter()
            .flat_map(|l| l.errors.iter().map(move |e| (l.line, e.to_string())))
            .collect();
        assert_eq!(
            errors,
            [
                (2, "input: must be UTF-8 text (invalid byte 0xE9 at byte offset 54 of line 2), got line 2".to_owned()),
                (3, "durration: is not a field of happyhorse/happyhorse-1.0/image-to-video (did you mean \"duration\"?), got 12".to_owned()),
            ]
        );
        assert_eq!(
            file.sha256,
            hex(&Sha256::digest(&bytes)),
            "the hash covers every byte"
        );
        let allowed = JobsFile::load(
            &path,
            &SPEC,
            ValidateOptions::default().allow_unknown_fields(true),
        )
        .unwrap();
        assert_eq!(allowed.jobs.len(), 2);
        assert!(JobsFile::load(Path::new("/dev/null"), &SPEC, ValidateOptions::default()).is_err());
    }

    #[test]
    fn local_images_are_relative_to_the_jobs_file_and_inlined_only_to_submit() {
        let dir = tempfile::tempdir().unwrap();
        let png = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/horse.png"
        ))
        .unwrap();
        std::fs::write(dir.path().join("horse.png"), png).unwrap();
        let path = dir.path().join("jobs.jsonl");
        std::fs::write(&path, r#"{"image_url":"horse.png","prompt":"a horse"}"#).unwrap();
        let file = JobsFile::load(&path, &SPEC, ValidateOptions::default()).unwrap();
        assert!(file.invalid.is_empty(), "{:?}", file.invalid);
        assert_eq!(file.jobs[0].input["image_url"], "horse.png");
        let body = file.submit_body(&file.jobs[0]);
        assert!(
            body["image_url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/png;base64,")
        );
    }
}
