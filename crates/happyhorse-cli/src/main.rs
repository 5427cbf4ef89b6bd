//! The `happyhorse` command. Not built yet (issue 6): this placeholder says so and exits.
//!
//! Contract: validates before it submits (bad input exits 65 having sent nothing), prints the
//! request id the moment it is known, and maps every failure to a documented exit code in one place.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("happyhorse: the command-line tool is not built yet (see issue 6); nothing was done");
    ExitCode::from(2)
}
