//! A stdout that discards everything. Rust's runtime opens `/dev/null` in place of a closed
//! standard descriptor before `main` (so a later file can never land on descriptor 1), which
//! makes a closed stdout (`>&-`) look exactly like `>/dev/null`: writes "succeed" and vanish.
//! `submit` prints nothing but the request id, so it treats both as a stdout that cannot be
//! written rather than lose the id silently.

/// Whether stdout is `/dev/null` (or was closed, which the runtime turned into `/dev/null`).
pub(crate) fn stdout_discards() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
        let Ok(stdout) = std::io::stdout().as_fd().try_clone_to_owned() else {
            return true;
        };
        let (Ok(out), Ok(null)) = (
            std::fs::File::from(stdout).metadata(),
            std::fs::metadata("/dev/null"),
        ) else {
            return false;
        };
        out.file_type().is_char_device() && out.rdev() == null.rdev()
    }
    #[cfg(not(unix))]
    false
}
