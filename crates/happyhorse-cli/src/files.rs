//! Where a job's files are saved: predictable names, decided before the first byte is fetched.
//!
//! - Without `-o`: `<request_id>.<ext>` for the first file (a video whenever the output has one),
//!   then `<request_id>-2.<ext>`, `<request_id>-3.<ext>`, … in the current directory.
//! - `-o DIR` (an existing directory, or a path ending in `/`): the same names inside `DIR`.
//! - `-o FILE`: the first file is saved as `FILE` exactly; any others beside it as
//!   `<FILE's stem>-2.<ext>`, `-3`, ….
//!
//! `<ext>` is the URL path's own extension when it has a plain one, else `mp4` for a video and
//! `bin` for anything else. A name something else already claims (in a batch: another job's
//! video, another job's extra files, the journal, the report, the jobs file) is skipped for the
//! next number, so one job's extra file never overwrites another's. Documented in `docs/cli.md`
//! ("Several files").

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use happyhorse_http::OutputFile;

/// The path each of `files` is saved to, in the same order.
pub(crate) fn destinations(
    request_id: &str,
    output: Option<&Path>,
    files: &[OutputFile],
) -> Vec<PathBuf> {
    destinations_avoiding(request_id, output, files, &mut HashSet::new())
}

/// [`destinations`], where the extra files (all but the first) skip every path in `claimed`, and
/// claim theirs.
pub(crate) fn destinations_avoiding(
    request_id: &str,
    output: Option<&Path>,
    files: &[OutputFile],
    claimed: &mut HashSet<PathBuf>,
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
    let mut number = 1;
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
            if index == 0 {
                return dir.join(format!("{stem}.{ext}"));
            }
            loop {
                number += 1;
                let path = dir.join(format!("{stem}-{number}.{ext}"));
                if claimed.insert(path.clone()) {
                    return path;
                }
            }
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

    #[test]
    fn extra_files_skip_names_already_claimed_and_claim_theirs() {
        let two_videos = files(&[("https://s/a.mp4", true), ("https://s/b.mp4", true)]);
        // In a batch, job `shot` has two videos and job `shot-2` saves to `shot-2.mp4`.
        let mut claimed: HashSet<PathBuf> =
            ["out/shot.mp4", "out/shot-2.mp4"].map(PathBuf::from).into();
        let shot = destinations_avoiding(
            "r1",
            Some(Path::new("out/shot.mp4")),
            &two_videos,
            &mut claimed,
        );
        assert_eq!(shot, ["out/shot.mp4", "out/shot-3.mp4"].map(PathBuf::from));
        // Job `shot` (a .mov) has extra files too: they do not take `shot`'s.
        let shot_mov = destinations_avoiding(
            "r2",
            Some(Path::new("out/shot.mov")),
            &two_videos,
            &mut claimed,
        );
        assert_eq!(
            shot_mov,
            ["out/shot.mov", "out/shot-4.mp4"].map(PathBuf::from)
        );
    }
}
