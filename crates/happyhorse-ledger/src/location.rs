//! Where the ledger lives: `$HAPPYHORSE_LEDGER`, else the platform's per-user state directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};

/// The environment variable that names the ledger's file (`off` turns the ledger off).
pub const LEDGER_ENV_VAR: &str = "HAPPYHORSE_LEDGER";
/// The ledger's file name inside the state directory.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// Where the ledger is, or that the user turned it off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The ledger's file.
    File(PathBuf),
    /// No ledger: `HAPPYHORSE_LEDGER=off` (or a caller's `--no-ledger`).
    Off,
}

impl Location {
    /// The location from the environment: `HAPPYHORSE_LEDGER` (a file, or `off`), else
    /// `$XDG_STATE_HOME/happyhorse/ledger.sqlite3`, else (Windows) `%LOCALAPPDATA%\happyhorse\…`,
    /// else `~/.local/state/happyhorse/ledger.sqlite3`.
    ///
    /// # Errors
    /// [`ErrorKind::NoLocation`] when none of these variables is set.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
    }

    /// [`Location::from_env`] over any source of variables (for tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self, Error> {
        if let Some(value) = var(LEDGER_ENV_VAR) {
            if value == "off" {
                return Ok(Self::Off);
            }
            return Ok(Self::File(PathBuf::from(value)));
        }
        // XDG says a relative XDG_STATE_HOME is invalid and must be ignored.
        let state = var("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let state = state
            .or_else(|| {
                cfg!(windows)
                    .then(|| var("LOCALAPPDATA").map(PathBuf::from))
                    .flatten()
            })
            .or_else(|| {
                var("HOME")
                    .or_else(|| var("USERPROFILE"))
                    .map(|home| Path::new(&home).join(".local").join("state"))
            });
        match state {
            Some(dir) => Ok(Self::File(dir.join("happyhorse").join(FILE_NAME))),
            None => Err(Error::new(
                ErrorKind::NoLocation,
                Path::new(FILE_NAME),
                format!(
                    "no state directory: set XDG_STATE_HOME or HOME, or {LEDGER_ENV_VAR} to a file"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
    }

    #[test]
    fn the_variable_wins_then_xdg_then_home() {
        let file = |p: &str| Ok(Location::File(PathBuf::from(p)));
        assert_eq!(
            Location::from_vars(vars(&[
                ("HAPPYHORSE_LEDGER", "/x/l.db"),
                ("XDG_STATE_HOME", "/s")
            ])),
            file("/x/l.db")
        );
        assert_eq!(
            Location::from_vars(vars(&[("HAPPYHORSE_LEDGER", "off")])),
            Ok(Location::Off)
        );
        assert_eq!(
            Location::from_vars(vars(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])),
            file("/s/happyhorse/ledger.sqlite3")
        );
        // A relative XDG_STATE_HOME is ignored, as the XDG spec says.
        assert_eq!(
            Location::from_vars(vars(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")])),
            file("/h/.local/state/happyhorse/ledger.sqlite3")
        );
        let none = Location::from_vars(vars(&[])).unwrap_err();
        assert_eq!(none.kind(), ErrorKind::NoLocation);
        assert!(none.to_string().contains("HAPPYHORSE_LEDGER"), "{none}");
    }
}
