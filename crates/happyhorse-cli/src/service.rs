//! Which service a job command talks to, and with which token: flags, environment, token file;
//! and the [`Session`] that holds the client (and the in-process emulator for `--emulator`).
//!
//! The token and the base URL are checked before any input is read or anything is sent.

use std::path::Path;
use std::time::Duration;

use happyhorse_emulator::{Emulator, RunningEmulator};
use happyhorse_http::{Client, PollPolicy};

use crate::cli::{GlobalArgs, ServiceArgs};
use crate::exit::{self, Failure};

/// Where the token may come from, in order of preference (as `happyhorse_http::Client::from_env`).
const TOKEN_ENV_VARS: [&str; 2] = happyhorse_http::TOKEN_ENV_VARS;
/// Where the base URL may come from after `--base-url` (the second is RunComfy's CLI's, ending in `/v1`).
const BASE_URL_ENV_VARS: [&str; 2] = happyhorse_http::BASE_URL_ENV_VARS;
/// How often `--emulator` jobs are polled: its jobs last seconds, not minutes.
const EMULATOR_POLL: Duration = Duration::from_millis(200);
/// The token sent to the in-process emulator (it accepts any).
const EMULATOR_TOKEN: &str = "happyhorse-emulator";

/// A ready client, and the emulator it talks to when `--emulator` was given.
pub(crate) struct Session {
    /// The client.
    pub(crate) client: Client,
    emulator: Option<RunningEmulator>,
    /// The service options a command suggested to the user must repeat (see [`Self::command`]).
    service_flags: String,
}

impl Session {
    /// A `happyhorse` command line for the user to run next, with the `--base-url` and
    /// `--token-file` this one was given (without them it would ask another service, or none) and
    /// every argument quoted for a POSIX shell.
    pub(crate) fn command(&self, args: &[&str]) -> String {
        format!("happyhorse{} {}", self.service_flags, quoted(args))
    }

    /// Whether the service is an emulator living only as long as this command.
    pub(crate) fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// Stops the in-process emulator, if any.
    pub(crate) async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// How a job command reaches its service, resolved without any IO beyond reading a token file.
#[derive(Debug)]
pub(crate) struct Target {
    emulator_time_scale: Option<f64>,
    service_flags: String,
    poll: PollPolicy,
    builder: happyhorse_http::ClientBuilder,
}

/// Resolves the target from flags and environment: fails with [`exit::AUTH`] without a token and
/// [`exit::CONFIG`] for an unusable base URL or token file. Nothing is sent.
pub(crate) fn resolve(
    global: &GlobalArgs,
    service: &ServiceArgs,
    deadline: Option<Duration>,
) -> Result<Target, Failure> {
    let poll = match (service.poll_interval, service.emulator) {
        (Some(interval), _) => PollPolicy::fixed(interval),
        (None, true) => PollPolicy::fixed(EMULATOR_POLL),
        (None, false) => PollPolicy::default(),
    };
    let poll = match deadline {
        Some(deadline) => poll.with_deadline(Some(deadline)),
        None => poll,
    };
    if service.emulator {
        return Ok(Target {
            emulator_time_scale: Some(service.emulator_time_scale),
            service_flags: String::new(),
            poll,
            builder: Client::builder().token(EMULATOR_TOKEN),
        });
    }
    let base_url = global.base_url.clone().or_else(|| {
        BASE_URL_ENV_VARS
            .iter()
            .find_map(|name| non_empty_env(name))
    });
    let token = match &global.token_file {
        Some(path) => read_token_file(path)?,
        None => TOKEN_ENV_VARS
            .iter()
            .find_map(|name| non_empty_env(name))
            .ok_or_else(|| {
                Failure::new(
                    exit::AUTH,
                    "no API token: set RUNCOMFY_API_TOKEN (or RUNCOMFY_TOKEN), or pass --token-file PATH \
                     (nothing was sent; --emulator needs no token)",
                )
            })?,
    };
    let mut builder = Client::builder().token(token);
    if let Some(base_url) = base_url {
        builder = builder.base_url(base_url);
    }
    let mut service_flags = String::new();
    if let Some(url) = &global.base_url {
        service_flags.push_str(&format!(" --base-url {}", quoted(&[url])));
    }
    if let Some(path) = &global.token_file {
        service_flags.push_str(&format!(
            " --token-file {}",
            quoted(&[&path.to_string_lossy()])
        ));
    }
    let target = Target {
        emulator_time_scale: None,
        service_flags,
        poll,
        builder,
    };
    // Building the client checks the base URL (and refuses plain http to a non-loopback host)
    // without sending anything: do it now, before the input is read.
    target
        .builder
        .clone()
        .build()
        .map_err(|e| Failure::new(exit::CONFIG, format!("{e} (nothing was sent)")))?;
    Ok(target)
}

impl Target {
    /// Whether the client may send fields the model's schema does not know (`--allow-unknown`).
    pub(crate) fn allow_unknown_fields(mut self, allow: bool) -> Self {
        self.builder = self.builder.allow_unknown_fields(allow);
        self
    }

    /// Starts the emulator if asked for, and builds the client.
    pub(crate) async fn connect(self) -> anyhow::Result<Session> {
        // Every job's result is asked for its cost, shown and recorded when it ends.
        let mut builder = self.builder.poll_policy(self.poll).include_cost(true);
        let emulator = match self.emulator_time_scale {
            Some(scale) => {
                // The front door: each job's video is a preview made from its own request.
                let emulator = Emulator::builder()
                    .time_scale(scale)
                    .previews(true)
                    .start()
                    .await?;
                builder = builder.base_url(emulator.base_url());
                Some(emulator)
            }
            None => None,
        };
        Ok(Session {
            client: builder.build()?,
            emulator,
            service_flags: self.service_flags,
        })
    }
}

/// `args` joined for a POSIX shell: each quoted when it needs it (`-o 'my videos/a.mp4'`).
pub(crate) fn quoted(args: &[&str]) -> String {
    args.iter()
        .map(|arg| {
            // Only a NUL cannot be quoted, and no argument of ours holds one.
            shlex::try_quote(arg).map_or_else(|_| (*arg).to_owned(), |q| q.into_owned())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The first line of a token file: a regular file of at most a few KiB (a FIFO or a device is
/// refused before it is opened, so this never blocks nor reads without end).
fn read_token_file(path: &Path) -> Result<String, Failure> {
    let bytes = crate::read::read_token_file(path).map_err(|why| {
        Failure::new(
            exit::CONFIG,
            format!(
                "--token-file {}: cannot read it ({}; nothing was sent)",
                path.display(),
                why.reason()
            ),
        )
    })?;
    // Never quoted: a file that is not text is described, not shown.
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::new(
            exit::CONFIG,
            format!(
                "--token-file {}: it is not UTF-8 text, so it holds no token (nothing was sent)",
                path.display()
            ),
        )
    })?;
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        return Err(Failure::new(
            exit::AUTH,
            format!(
                "--token-file {}: the first line is empty (nothing was sent)",
                path.display()
            ),
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_never_shows_the_token_in_debug() {
        let canary = "tok-canary-5e1f";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("{canary}\n")).unwrap();
        let global = GlobalArgs {
            base_url: Some("https://user:pw-canary@example.com/?key=q-canary".into()),
            token_file: Some(file),
            json: false,
            verbose: 0,
            quiet: false,
            ledger: None,
        };
        let service = ServiceArgs {
            emulator: false,
            emulator_time_scale: 60.0,
            poll_interval: None,
        };
        // The base URL with credentials is refused, and the error does not repeat them.
        let refused = resolve(&global, &service, None).unwrap_err();
        let global = GlobalArgs {
            base_url: Some("https://example.com".into()),
            ..global
        };
        let target = resolve(&global, &service, None).unwrap();
        let shown = format!("{target:?}\n{refused:?}\n{refused}");
        for secret in [canary, "pw-canary", "q-canary"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
