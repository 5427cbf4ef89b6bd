//! Every file a command will write, checked before anything is paid for: `run -o`, `wait -o`,
//! and a batch's outputs, journal and report. A path is refused (exit 73, naming the path and
//! why) when it is `/`, a symlink or a special file (or, where a file is expected, a directory), when its directory cannot be created
//! or written, when a file is already there (unless `--force`, or unless it is the command's own
//! earlier work), and — in a batch — when two of the files it reads or writes are the same file.
//!
//! "The same file" is decided in this order: two existing files with the same device and inode
//! (hard links, and any path through symlinked directories); else the same canonical directory
//! and the same name, compared without case when that directory's file system ignores case
//! (probed once per directory by creating a file and looking it up by another case). Unicode
//! normalisation (macOS's NFD) is not folded: names that differ only by it are distinct here.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::Metadata;
use std::path::{Component, Path, PathBuf};

use crate::exit::{self, Failure};

/// A refused path: what it is and why, as the user named it.
fn refuse(path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::new(
        exit::CANT_CREATE,
        format!("{}: {why} (nothing was sent)", path.display()),
    )
}

/// What may already be at an output path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// An existing file is refused (the default: nothing is overwritten unasked).
    Refuse,
    /// An existing regular file may be replaced (`--force`, or the command's own earlier output).
    Replace,
}

/// Checks `-o` before paying: a directory (an existing one, or a path ending in a separator:
/// the videos go inside it, see `files.rs`) must be writable and is created if missing, but is
/// never `/`; anything else is a file, checked by [`output_file`]. Returns the path made
/// absolute.
pub(crate) fn destination(path: &Path, existing: Existing) -> Result<PathBuf, Failure> {
    let text = path.as_os_str().to_string_lossy();
    let written_as_dir = text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR);
    if !(written_as_dir || path.is_dir()) {
        return output_file(path, existing);
    }
    if std::fs::canonicalize(path).is_ok_and(|p| p.parent().is_none()) {
        return Err(refuse(
            path,
            "is the root directory; name a file (e.g. video.mp4) or a directory for the videos",
        ));
    }
    output_dir(path)
}

/// Checks that a video can be written at `path`, creating its directory if missing; returns the
/// path made absolute (its directory canonical), which is what the ledger records.
pub(crate) fn output_file(path: &Path, existing: Existing) -> Result<PathBuf, Failure> {
    let name = file_name(path)?;
    if let Some(meta) = metadata(path)? {
        kind_allowed(path, &meta)?;
        if existing == Existing::Refuse {
            return Err(refuse(
                path,
                "a file is already there; pass --force to replace it",
            ));
        }
    }
    let dir = output_dir(parent_of(path)).map_err(|failure| {
        Failure::new(
            failure.code,
            format!("{}: its directory {}", path.display(), failure.message),
        )
    })?;
    Ok(dir.join(name))
}

/// Checks that whatever is at `path` (in a directory already checked) is a regular file or
/// nothing: a batch's outputs, whose directory [`output_dir`] checked once for all.
pub(crate) fn replaceable(path: &Path) -> Result<(), Failure> {
    file_name(path)?;
    match metadata(path)? {
        Some(meta) => kind_allowed(path, &meta),
        None => Ok(()),
    }
}

/// Checks, right before a paid job's file is downloaded to `path`, that nothing took the place
/// since the check before paying: a file that appeared meanwhile (another command's video, the
/// user's), or one at a further file's name (`NAME-2.EXT`), is not replaced unless `existing`
/// allows it, and never a link, a directory or a special file (the download refuses those
/// again at the rename). The window left is the download's own.
pub(crate) fn still_free(path: &Path, existing: Existing) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) => {
            kind_allowed(path, &meta).map_err(|refused| refused.message)?;
            match existing {
                Existing::Replace => Ok(()),
                Existing::Refuse => Err(format!(
                    "{}: a file is there that this command did not write (it appeared while the job ran); \
                     it was not replaced",
                    path.display()
                )),
            }
        }
    }
}

/// Checks (creating it if missing) a directory that files will be written into; returns it
/// canonical.
pub(crate) fn output_dir(dir: &Path) -> Result<PathBuf, Failure> {
    match metadata(dir)? {
        Some(meta) if meta.is_dir() => {}
        Some(_) => return Err(refuse(dir, "is not a directory")),
        None => std::fs::create_dir_all(dir)
            .map_err(|e| refuse(dir, format!("cannot be created ({})", reason(&e))))?,
    }
    // The honest test of "can be written": writing. (Permission bits lie about read-only
    // mounts, ACLs and root.)
    tempfile::Builder::new()
        .prefix(".happyhorse-probe-")
        .tempfile_in(dir)
        .map_err(|e| refuse(dir, format!("cannot be written ({})", reason(&e))))?;
    std::fs::canonicalize(dir)
        .map_err(|e| refuse(dir, format!("cannot be resolved ({})", reason(&e))))
}

/// Only regular files (or nothing) may be replaced.
fn kind_allowed(path: &Path, meta: &Metadata) -> Result<(), Failure> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        Err(refuse(
            path,
            "is a symbolic link; happyhorse never writes through or replaces a link (name its target instead)",
        ))
    } else if kind.is_dir() {
        Err(refuse(
            path,
            "is a directory; name a file (e.g. video.mp4) inside it",
        ))
    } else if !kind.is_file() {
        Err(refuse(
            path,
            "is a special file (a FIFO, socket or device), not a place for a video",
        ))
    } else {
        Ok(())
    }
}

/// `symlink_metadata`, with "nothing there" as `None`.
fn metadata(path: &Path) -> Result<Option<Metadata>, Failure> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        // "Not a directory": a parent is a file, which the directory check then names.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(refuse(path, format!("cannot be examined ({})", reason(&e)))),
    }
}

/// The last component, which must be a name (not `/`, `.`, `..` or a trailing slash).
fn file_name(path: &Path) -> Result<OsString, Failure> {
    let text = path.as_os_str().to_string_lossy();
    let ends_like_a_dir = text.ends_with('/') || (cfg!(windows) && text.ends_with('\\'));
    match path.components().next_back() {
        Some(Component::Normal(name)) if !ends_like_a_dir => Ok(name.to_owned()),
        _ if text.is_empty() => Err(refuse(path, "is empty; name a file")),
        _ => Err(refuse(
            path,
            "is a directory; name a file (e.g. video.mp4) inside it",
        )),
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// An I/O error for people, without the `(os error N)` noise.
fn reason(error: &std::io::Error) -> String {
    crate::read::io_reason(error)
}

/// One file of a batch, for [`collisions`]: who names it, and where it resolves.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    /// For people: `the journal out/happyhorse-batch.journal`, `line 3 (sku-1) output a.mp4`.
    pub(crate) label: String,
    /// The path as given (relative paths are relative to the current directory).
    pub(crate) path: PathBuf,
}

/// Every pair of `files` that are one file, as one message per pair naming both.
pub(crate) fn collisions(files: &[Named]) -> Vec<String> {
    let mut probes: HashMap<PathBuf, bool> = HashMap::new();
    let mut by_key: HashMap<Key, usize> = HashMap::new();
    let mut found = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for key in keys(&file.path, &mut probes) {
            if let Some(&first) = by_key.get(&key) {
                let message = format!(
                    "{} and {} are the same file ({})",
                    files[first].label,
                    file.label,
                    file.path.display()
                );
                if !found.contains(&message) {
                    found.push(message);
                }
            } else {
                by_key.insert(key, index);
            }
        }
    }
    found
}

/// What identifies a file: its inode when it exists, and its canonical directory and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Inode(u64, u64),
    Name(PathBuf, String),
}

fn keys(path: &Path, probes: &mut HashMap<PathBuf, bool>) -> Vec<Key> {
    let mut keys = Vec::new();
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt as _;
        keys.push(Key::Inode(meta.dev(), meta.ino()));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir =
        std::fs::canonicalize(parent_of(path)).unwrap_or_else(|_| parent_of(path).to_path_buf());
    let ignores_case = *probes
        .entry(dir.clone())
        .or_insert_with(|| ignores_case(&dir));
    let name = if ignores_case {
        name.to_lowercase()
    } else {
        name
    };
    keys.push(Key::Name(dir, name));
    keys
}

/// Whether `dir`'s file system finds a file under another case of its name.
fn ignores_case(dir: &Path) -> bool {
    let Ok(probe) = tempfile::Builder::new()
        .prefix(".happyhorse-case-probe-")
        .tempfile_in(dir)
    else {
        return false;
    };
    let name = probe
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().to_uppercase())
        .unwrap_or_default();
    std::fs::symlink_metadata(dir.join(name)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<PathBuf, Failure>) -> String {
        let failure = result.unwrap_err();
        assert_eq!(failure.code, exit::CANT_CREATE);
        failure.message
    }

    #[test]
    fn what_cannot_hold_a_video_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(message(output_file(d, Existing::Replace)).contains("is a directory"));
        assert!(message(output_file(Path::new("/"), Existing::Replace)).contains("is a directory"));
        let slash = PathBuf::from(format!("{}/new/", d.display()));
        assert!(message(output_file(&slash, Existing::Replace)).contains("is a directory"));
        assert!(message(output_file(Path::new(""), Existing::Replace)).contains("is empty"));

        std::fs::write(d.join("old.mp4"), b"old").unwrap();
        let existing = message(output_file(&d.join("old.mp4"), Existing::Refuse));
        assert!(
            existing.contains("already there; pass --force"),
            "{existing}"
        );
        assert!(output_file(&d.join("old.mp4"), Existing::Replace).is_ok());
        assert_eq!(
            std::fs::read(d.join("old.mp4")).unwrap(),
            b"old",
            "checking writes nothing"
        );

        // A parent that is a file cannot become a directory.
        let under_file = message(output_file(&d.join("old.mp4/x.mp4"), Existing::Replace));
        assert!(
            under_file.contains("its directory") && under_file.contains("is not a directory"),
            "{under_file}"
        );
    }

    #[test]
    fn a_directory_receives_the_videos_but_never_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = PathBuf::from(format!("{}/fresh/", dir.path().display()));
        assert!(destination(&fresh, Existing::Refuse).is_ok());
        assert!(dir.path().join("fresh").is_dir(), "created");
        assert!(destination(dir.path(), Existing::Refuse).is_ok());
        let root = message(destination(Path::new("/"), Existing::Replace));
        assert!(root.contains("is the root directory"), "{root}");
        let file = dir.path().join("v.mp4");
        std::fs::write(&file, b"v").unwrap();
        assert!(message(destination(&file, Existing::Refuse)).contains("already there"));
    }

    #[cfg(unix)]
    #[test]
    fn links_and_special_files_are_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("target.mp4"), b"keep").unwrap();
        std::os::unix::fs::symlink(d.join("target.mp4"), d.join("link.mp4")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling.mp4")).unwrap();
        for link in ["link.mp4", "dangling.mp4"] {
            let why = message(output_file(&d.join(link), Existing::Replace));
            assert!(why.contains("symbolic link"), "{why}");
        }
        assert!(
            message(output_file(Path::new("/dev/null"), Existing::Replace))
                .contains("special file")
        );
        assert_eq!(std::fs::read(d.join("target.mp4")).unwrap(), b"keep");
    }

    #[test]
    fn a_missing_directory_is_created_and_the_path_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/video.mp4");
        let resolved = output_file(&path, Existing::Refuse).unwrap();
        assert!(resolved.is_absolute());
        assert!(dir.path().join("a/b").is_dir());
        assert_eq!(resolved.file_name().unwrap(), "video.mp4");
        assert!(!path.exists(), "no file is left behind by the check");
        assert_eq!(
            std::fs::read_dir(dir.path().join("a/b")).unwrap().count(),
            0
        );
    }

    #[test]
    fn two_names_of_one_file_collide_and_both_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("out")).unwrap();
        std::fs::write(d.join("jobs.jsonl"), b"{}").unwrap();
        let named = |label: &str, path: PathBuf| Named {
            label: label.into(),
            path,
        };
        let files = [
            named("the jobs file jobs.jsonl", d.join("jobs.jsonl")),
            named("the journal", d.join("out/happyhorse-batch.journal")),
            named("line 2 (a) output", d.join("out/./a.mp4")),
            named(
                "line 5 (j) output",
                d.join("out/../out/happyhorse-batch.journal"),
            ),
            named("the report", d.join("out/../jobs.jsonl")),
            named("line 7 (b) output", d.join("out/b.mp4")),
        ];
        let found = collisions(&files);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("the journal and line 5 (j) output are the same file"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("the jobs file jobs.jsonl and the report are the same file"),
            "{found:#?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_and_symlinked_directories_collide() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("out")).unwrap();
        std::fs::write(d.join("jobs.jsonl"), b"{}").unwrap();
        std::fs::hard_link(d.join("jobs.jsonl"), d.join("out/hard.mp4")).unwrap();
        std::os::unix::fs::symlink(d.join("out"), d.join("alias")).unwrap();
        let named = |label: &str, path: PathBuf| Named {
            label: label.into(),
            path,
        };
        let found = collisions(&[
            named("the jobs file", d.join("jobs.jsonl")),
            named("line 1 output", d.join("out/hard.mp4")),
            named("the journal", d.join("out/j.journal")),
            named("--journal", d.join("alias/j.journal")),
        ]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].contains("the jobs file and line 1 output"),
            "{found:#?}"
        );
        assert!(found[1].contains("the journal and --journal"), "{found:#?}");
    }

    #[test]
    fn case_is_folded_only_where_the_file_system_ignores_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let named = |label: &str, name: &str| Named {
            label: label.into(),
            path: d.join(name),
        };
        let found = collisions(&[named("line 1", "Horse.mp4"), named("line 2", "horse.mp4")]);
        assert_eq!(found.len(), usize::from(ignores_case(d)), "{found:#?}");
    }
}
