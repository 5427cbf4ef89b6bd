//! Where a job's files are saved: predictable names, decided before the first byte is fetched.
//!
//! - Without `-o`: `<request_id>.<ext>` for the first file (a video whenever the output has one),
//!   then `<request_id>-2.<ext>`, `<request_id>-3.<ext>`, … in the current directory.
//! - `-o DIR` (an existing directory, or a path ending in `/`): the same names inside `DIR`.
//! - `-o FILE`: the first file is saved as `FILE` exactly; any others beside it as
//!   `<FILE's stem>-2.<ext>`, `-3`, ….
//!
//! `<ext>` is the URL path's own extension when it has a plain one, else `mp4` for a video and
//! `bin` for anything else. Documented in `docs/cli.md` ("Several files").

use std::path::{Path, PathBuf};

use happyhorse_http::OutputFile;

/// The path each of `files` is saved to, in the same order.
pub(crate) fn destinations(
    request_id: &str,
    output: Option<&Path>,
    files: &[OutputFile],
) -> Vec<PathBuf> {
    let as_directory = output.filter(|path| is_directory(path));
    let (dir, stem, first_exact) = match (output, as_directory) {
        (_, Some(dir)) => (dir.to_path_buf(), request_id.to_owned(), None),
        (Some(file), None) => {
            let stem = file.file_stem().map_or_else(
                || request_id.to_owned(),
                |s| s.to_string_lossy().into_owned(),
            );
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            (dir, stem, Some(file.to_path_buf()))
        }
        (None, None) => (PathBuf::new(), request_id.to_owned(), None),
    };
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            if index == 0
                && let Some(exact) = &first_exact
            {
                return exact.clone();
            }
            let ext = file
                .extension()
                .unwrap_or_else(|| if file.is_video { "mp4" } else { "bin" }.to_owned());
            let name = match index {
                0 => format!("{stem}.{ext}"),
                n => format!("{stem}-{}.{ext}", n + 1),
            };
            dir.join(name)
        })
        .collect()
}

/// An existing directory, or a path written as one (ending in a separator).
pub(crate) fn is_directory(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    path.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(urls: &[(&str, bool)]) -> Vec<OutputFile> {
        let output = serde_json::json!({
            "videos": urls.iter().filter(|(_, v)| *v).map(|(u, _)| *u).collect::<Vec<_>>(),
            "other": urls.iter().filter(|(_, v)| !*v).map(|(u, _)| *u).collect::<Vec<_>>(),
        });
        happyhorse_core::vocabulary::output_files(&output)
    }

    #[test]
    fn names_are_predictable() {
        let found = files(&[
            ("https://s/a/clip.webm?sig=1", true),
            ("https://s/a/raw", true),
            ("https://s/b/thumb.PNG", false),
            ("https://s/b/data", false),
        ]);
        let names = |output: Option<&Path>| destinations("req-1", output, &found);
        assert_eq!(
            names(None),
            ["req-1.webm", "req-1-2.mp4", "req-1-3.png", "req-1-4.bin"].map(PathBuf::from)
        );
        assert_eq!(
            names(Some(Path::new("out/horse.mp4"))),
            [
                "out/horse.mp4",
                "out/horse-2.mp4",
                "out/horse-3.png",
                "out/horse-4.bin"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            names(Some(Path::new("videos/"))),
            [
                "videos/req-1.webm",
                "videos/req-1-2.mp4",
                "videos/req-1-3.png",
                "videos/req-1-4.bin"
            ]
            .map(PathBuf::from)
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            destinations("r", Some(dir.path()), &found[..1]),
            [dir.path().join("r.webm")]
        );
    }
}
