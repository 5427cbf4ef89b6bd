//! The command line, declared once with clap: every command, flag and help text. `--help`,
//! shell completions and the man page are all generated from these definitions.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use happyhorse_emulator::EmulatorArgs;
use happyhorse_types::ModelSpec;

use crate::exit::EXIT_CODES_HELP;

const ROOT_AFTER_HELP: &str = "\
Examples:
  # Offline, against the built-in emulator (no token, nothing billed):
  happyhorse run --emulator --image examples/horse.png --prompt \"The horse trots\" -o horse.mp4
  # On RunComfy (token from RUNCOMFY_API_TOKEN):
  happyhorse run --image photo.jpg --prompt \"She smiles and waves\" --duration 8 --resolution 720P
  # Check an input without sending it:
  happyhorse validate request.json

Environment:
  RUNCOMFY_API_TOKEN, RUNCOMFY_TOKEN       the API token (or --token-file)
  RUNCOMFY_BASE_URL, RUNCOMFY_MODEL_API_BASE  the API base URL (default https://model-api.runcomfy.net)
  HAPPYHORSE_LEDGER                        the job ledger's file, or `off` (default
                                           $XDG_STATE_HOME/happyhorse/ledger.sqlite3)
  NO_COLOR                                 no colour in human output

Retries:
  status, result, cancel, models and the polls of run/wait are retried on HTTP 429, 408 and 5xx,
  unreadable answers and network failures: backoff from 1s doubling to 30s, at most 6 attempts
  per call and 30 retries per job, Retry-After honoured up to 60s. A submit is sent again only
  when it provably never left this machine (it could otherwise create and bill a second job).
";

/// HappyHorse 1.0 image-to-video on RunComfy's Model API, from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "happyhorse",
    version,
    about,
    after_help = ROOT_AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// The command with its full `--help` epilogue (examples, environment, exit codes); used for
    /// parsing, completions and the man page alike.
    pub(crate) fn command_full() -> clap::Command {
        use clap::CommandFactory as _;
        Self::command().after_long_help(format!("{ROOT_AFTER_HELP}\n{EXIT_CODES_HELP}"))
    }

    /// Parses `args` (the process's, program name first), after [`runcomfy_spellings`].
    pub(crate) fn try_parse_full(args: Vec<OsString>) -> Result<Self, clap::Error> {
        use clap::FromArgMatches as _;
        let matches = Self::command_full().try_get_matches_from(runcomfy_spellings(args))?;
        Self::from_arg_matches(&matches)
    }
}

/// RunComfy's CLI's spelling of the output format, read as ours: `--output json` (or
/// `--output=json`) is `--json`, and `--output pretty` is the default human output. Only those two
/// exact words: any other `-o`/`--output` value is the video's path on `run` and `wait` (a file
/// named `json` is `-o ./json`). Nothing after `--` is touched.
pub(crate) fn runcomfy_spellings(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        let format = match arg.to_str() {
            Some("--output=json") => Some("json"),
            Some("--output=pretty") => Some("pretty"),
            Some("--output") => args
                .peek()
                .and_then(|next| next.to_str())
                .filter(|next| matches!(*next, "json" | "pretty"))
                .map(|next| if next == "json" { "json" } else { "pretty" }),
            _ => None,
        };
        match format {
            Some(format) => {
                if arg == "--output" {
                    args.next();
                }
                if format == "json" {
                    out.push("--json".into());
                }
            }
            None => out.push(arg),
        }
    }
    out
}

/// Whether `args` ask for JSON output (`--json`, or RunComfy's `--output json`), read before
/// parsing so that a usage error can be reported as JSON too.
pub(crate) fn wants_json(args: &[OsString]) -> bool {
    runcomfy_spellings(args.to_vec())
        .iter()
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json")
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// API base URL: an origin, or RunComfy's CLI style `…/v1` [env: RUNCOMFY_BASE_URL, RUNCOMFY_MODEL_API_BASE]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,

    /// Read the API token from this file (first line) instead of RUNCOMFY_API_TOKEN / RUNCOMFY_TOKEN
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,

    /// Machine-readable output: one JSON object (NDJSON events for `run`, `wait` and `batch`) on stdout
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// More detail on stderr (-vv: HTTP-level tracing)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Only errors on stderr; results still go to stdout
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// The job ledger's file, or `off` [env: HAPPYHORSE_LEDGER] [default: $XDG_STATE_HOME/happyhorse/ledger.sqlite3]
    #[arg(long, global = true, value_name = "PATH|off")]
    pub(crate) ledger: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate, submit, follow, fetch the result and download the video
    #[command(after_help = "\
Examples:
  happyhorse run --emulator --image examples/horse.png --prompt \"The horse trots\" -o horse.mp4
  happyhorse run --image https://example.com/cat.webp --prompt \"The cat yawns\" --no-download
  happyhorse run --input request.json --set seed=42 --json | jq -c .

Ctrl-C cancels a queued job; a running job cannot be cancelled (it finishes and is billed):
the command then prints `happyhorse wait ID` to resume, and exits with 130.")]
    Run(RunArgs),

    /// Validate and submit; print the request id at once and exit
    Submit(SubmitArgs),

    /// Show a job's status (and queue position); retried on 429/5xx/network errors
    Status(JobArgs),

    /// Show a job's result (every output URL, or the service's error); retried on 429/5xx/network errors
    Result(JobArgs),

    /// Cancel a queued job (a running job cannot be cancelled); exits 0 with the service's verdict
    #[command(
        after_help = "Prints what the service did: cancelled (nothing billed), too late (the job is running and will be
billed), already finished, refused, or not confirmed (check with `happyhorse status ID`). Any of
these exits 0: the request was answered. Retried on 429/5xx/network errors (cancelling twice is a
no-op on the service)."
    )]
    Cancel(JobArgs),

    /// Resume following a job, then download its video
    Wait(WaitArgs),

    /// List the jobs in the job ledger: state, id, age, output, cost, and what to do next
    #[command(after_help = "\
Every job happyhorse submits (run, submit, batch) is recorded in a per-user ledger before its
submit is sent, then with its request id, states, saved video and cost. A job listed `unknown`
may exist at the service (and be billed) without its id being known: check the account's
requests before submitting its input again.

Examples:
  happyhorse jobs
  happyhorse jobs --state unknown,running --since 2d
  happyhorse --json jobs --all | jq -r '.jobs[].request_id'")]
    Jobs(JobsArgs),

    /// Run every job of a JSONL file, crash-safe: rerun the same command to resume
    #[command(after_help = "\
Each line of JOBS.jsonl is one input object, optionally with \"id\" (default line-N) and
\"output\" (a file name in --out-dir, default <id>.mp4). Every line is checked before anything is
sent. A journal in --out-dir records each submit before it is sent and each request id as soon
as it is known: after a crash or Ctrl-C, the same command skips finished jobs, follows submitted
ones and submits the rest. A job whose submit may have reached the service without its id being
recorded is not resubmitted unless --resubmit-unknown (it could be billed twice).

Example:
  happyhorse batch products.jsonl --out-dir videos --concurrency 8")]
    Batch(BatchArgs),

    /// Check an input offline, reporting every broken rule at once; sends nothing
    #[command(after_help = "\
Examples:
  happyhorse validate request.json
  cat request.json | happyhorse validate -
  happyhorse validate --image photo.jpg --prompt \"…\" --duration 16   # exit 65, names the field")]
    Validate(ValidateArgs),

    /// Print the model's checked-in JSON Schema
    Schema(SchemaArgs),

    /// The model catalogue, with prices
    Models(ModelsArgs),

    /// Run the RunComfy API emulator in the foreground (Ctrl-C stops it)
    Emulator(EmulatorCommandArgs),

    /// Print a shell completion script
    Completions(CompletionsArgs),

    /// Print the man page (roff) of `happyhorse` or of one command; --dir writes every page
    #[command(after_help = "\
Examples:
  happyhorse man | man -l -
  happyhorse man run | man -l -
  happyhorse man --dir ~/.local/share/man/man1   # happyhorse.1 and happyhorse-COMMAND.1")]
    Man(ManArgs),
}

/// Where the input comes from. Layers merge in this order, later ones winning per field:
/// `--input` (or `--input-file`), `--set` pairs, then the named flags.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Input")]
pub(crate) struct InputArgs {
    /// The model: a full id or a short name — i2v, t2v, r2v, edit, 1.1/i2v, 1.1/t2v, 1.1/r2v (`happyhorse models`) [default: i2v]
    #[arg(long, value_name = "MODEL", value_parser = parse_model)]
    pub(crate) model: Option<&'static ModelSpec>,

    /// The first frame (image-to-video): an https:// URL, a local JPEG/PNG/WEBP file (checked, sent inline), or `-` for image bytes on stdin
    #[arg(long, value_name = "URL|PATH|-")]
    pub(crate) image: Option<String>,

    /// A reference image (reference-to-video, video-edit), repeatable: fills the model's reference fields in order
    #[arg(long = "ref-image", value_name = "URL|PATH")]
    pub(crate) ref_images: Vec<String>,

    /// The video to edit (video-edit): an https:// URL or a local MP4/MOV file (checked without decoding, sent inline up to 48 MB)
    #[arg(long, value_name = "URL|PATH")]
    pub(crate) video: Option<String>,

    /// Aspect ratio, HappyHorse 1.0 text- and reference-to-video: 16:9, 9:16, 1:1, 4:3 or 3:4 [default: 16:9]
    #[arg(long, value_name = "RATIO")]
    pub(crate) aspect_ratio: Option<String>,

    /// Aspect ratio, HappyHorse 1.1 text- and reference-to-video: 16:9, 9:16 or 1:1 [default: 16:9]
    #[arg(long, value_name = "RATIO")]
    pub(crate) ratio: Option<String>,

    /// What should happen in the video (≤ 5000 characters, ≤ 2500 if Chinese)
    #[arg(long, value_name = "TEXT", conflicts_with = "prompt_file")]
    pub(crate) prompt: Option<String>,

    /// Read the prompt from a file (`-`: stdin)
    #[arg(long, value_name = "PATH|-")]
    pub(crate) prompt_file: Option<String>,

    /// Output resolution: 720P or 1080P [default: 1080P]
    #[arg(long, value_name = "RES")]
    pub(crate) resolution: Option<String>,

    /// Video length in seconds, 3 to 15 [default: 5]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub(crate) duration: Option<String>,

    /// Random seed, 0 to 2147483647 [default: 0]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub(crate) seed: Option<String>,

    /// Add a watermark [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) watermark: Option<bool>,

    /// Start from this JSON object: inline (`'{"prompt": "…"}'`: its first non-space character is `{`), a file, or `-` for stdin (RunComfy's CLI convention)
    #[arg(
        long = "input",
        value_name = "JSON|FILE|-",
        conflicts_with = "input_file"
    )]
    pub(crate) input: Option<String>,

    /// Start from the JSON object in this file (`-`: stdin), as RunComfy's CLI's --input-file
    #[arg(long = "input-file", value_name = "FILE|-")]
    pub(crate) input_file: Option<String>,

    /// Set any field; VALUE is parsed as JSON if it parses, else taken as a string; `@PATH` names a local file for a media field (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,

    /// Send fields the model's schema does not know (refused by default: the service ignores them and bills its defaults)
    #[arg(long)]
    pub(crate) allow_unknown: bool,
}

impl InputArgs {
    /// The model the input is for: `--model`, else image-to-video.
    pub(crate) fn spec(&self) -> &'static ModelSpec {
        self.model
            .unwrap_or(&happyhorse_types::image_to_video::SPEC)
    }
}

/// Which service a job command talks to.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Service")]
pub(crate) struct ServiceArgs {
    /// Start the emulator in this process and use it (no token, nothing billed; it stops when the command ends)
    #[arg(long, conflicts_with = "base_url")]
    pub(crate) emulator: bool,

    /// With --emulator: how many times faster than real time jobs run (0.001 to 1000000)
    #[arg(
        long,
        value_name = "FACTOR",
        default_value_t = 60.0,
        requires = "emulator",
        value_parser = happyhorse_emulator::parse_time_scale
    )]
    pub(crate) emulator_time_scale: f64,

    /// Poll at this fixed interval (e.g. 2s, 500ms; at most 1h) instead of the adaptive schedule [default with --emulator: 200ms]
    #[arg(long, value_name = "DURATION", value_parser = parse_poll_interval)]
    pub(crate) poll_interval: Option<std::time::Duration>,
}

/// Where and whether the video is saved.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct DownloadArgs {
    /// Save the video here, or in this directory (existing, or ending in /); more files go beside it as NAME-2.EXT, … [default: <request_id>.mp4]
    #[arg(
        short = 'o',
        long = "output",
        value_name = "PATH",
        conflicts_with = "no_download"
    )]
    pub(crate) output: Option<PathBuf>,

    /// Do not download; print the output URLs (videos first)
    #[arg(long)]
    pub(crate) no_download: bool,

    /// Stop following after this long (e.g. 90s, 10m, 1h; at most 7d) [default: 30m]; the job keeps running — resume with `wait`
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub(crate) timeout: Option<std::time::Duration>,

    /// Replace a file already at --output (never a directory, symlink or special file)
    #[arg(long, conflicts_with = "no_download")]
    pub(crate) force: bool,
}

/// `happyhorse run`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) download: DownloadArgs,

    /// Submit, print the request id, and exit without following (same as `submit`)
    #[arg(long, conflicts_with_all = ["output", "no_download", "timeout", "force"])]
    pub(crate) no_wait: bool,

    /// If the job ledger knows an identical input submitted before, follow that job instead of paying again
    #[arg(long)]
    pub(crate) once: bool,

    /// Refuse (exit 65, nothing submitted) when the estimated cost is above USD (e.g. 2.50), or cannot be estimated
    #[arg(long, value_name = "USD", value_parser = crate::budget::parse_usd)]
    pub(crate) max_cost: Option<f64>,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse submit`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Refuse (exit 65, nothing submitted) when the estimated cost is above USD (e.g. 2.50), or cannot be estimated
    #[arg(long, value_name = "USD", value_parser = crate::budget::parse_usd)]
    pub(crate) max_cost: Option<f64>,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse status|result|cancel ID`.
#[derive(Debug, Clone, Args)]
pub(crate) struct JobArgs {
    /// The request id printed by `run` or `submit`
    #[arg(value_name = "REQUEST_ID")]
    pub(crate) request_id: String,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse wait [ID]`.
#[derive(Debug, Clone, Args)]
pub(crate) struct WaitArgs {
    /// The request id printed by `run` or `submit` [default: the most recent unfinished job in the job ledger]
    #[arg(value_name = "REQUEST_ID")]
    pub(crate) request_id: Option<String>,

    /// Follow the most recent unfinished job in the job ledger
    #[arg(long, conflicts_with = "request_id")]
    pub(crate) last: bool,

    #[command(flatten)]
    pub(crate) download: DownloadArgs,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse jobs`.
#[derive(Debug, Clone, Args)]
pub(crate) struct JobsArgs {
    /// Only jobs in these states (repeatable, or comma-separated): submitting, unknown, not_created, submitted, queued, running, succeeded, failed, cancelled, gone
    #[arg(long, value_name = "STATE", value_delimiter = ',', value_parser = crate::cmd::jobs::parse_state)]
    pub(crate) state: Vec<crate::cmd::jobs::StateArg>,

    /// Only jobs submitted within this time (e.g. 30m, 12h, 7d, 2w)
    #[arg(long, value_name = "AGO", value_parser = crate::cmd::jobs::parse_since)]
    pub(crate) since: Option<std::time::Duration>,

    /// At most this many jobs, the most recent first
    #[arg(long, value_name = "N", default_value_t = 20, conflicts_with = "all")]
    pub(crate) limit: usize,

    /// Every matching job
    #[arg(long)]
    pub(crate) all: bool,
}

/// `happyhorse batch`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BatchArgs {
    /// The jobs: one JSON input object per line (with optional "id" and "output")
    #[arg(value_name = "JOBS.jsonl")]
    pub(crate) jobs: PathBuf,

    /// Where the videos, the journal and the report go (created if missing)
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: PathBuf,

    /// Jobs alive at the service at once (submitted and not finished)
    #[arg(long, value_name = "N", default_value_t = happyhorse_http::DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub(crate) concurrency: usize,

    /// The journal file [default: <out-dir>/happyhorse-batch.journal]
    #[arg(long, value_name = "PATH")]
    pub(crate) journal: Option<PathBuf>,

    /// Run the valid lines even if some are invalid (they are reported, and skipped)
    #[arg(long)]
    pub(crate) skip_invalid: bool,

    /// Submit again jobs whose earlier submit may have created a job we never got the id of (may bill twice)
    #[arg(long)]
    pub(crate) resubmit_unknown: bool,

    /// Stop following each job after this long (e.g. 30m; at most 7d); it keeps running — rerun to pick it up
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub(crate) timeout: Option<std::time::Duration>,

    /// Send fields the model's schema does not know (refused by default: the service ignores them and bills its defaults)
    #[arg(long)]
    pub(crate) allow_unknown: bool,

    /// The model of the lines without a "model" (a full id or a short name) [default: i2v]
    #[arg(long, value_name = "MODEL", value_parser = parse_model)]
    pub(crate) model: Option<&'static ModelSpec>,

    /// Refuse (exit 65, nothing submitted) when the estimated cost of all the jobs to submit is above USD (e.g. 2.50), or cannot be estimated
    #[arg(long, value_name = "USD", value_parser = crate::budget::parse_usd)]
    pub(crate) max_cost: Option<f64>,

    /// Replace files already at jobs' outputs that this batch's journal did not write
    #[arg(long)]
    pub(crate) force: bool,

    /// If the journal is damaged or another batch's: move it aside and rebuild it from the job ledger (jobs already submitted are followed, never submitted again)
    #[arg(long)]
    pub(crate) rebuild_journal: bool,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse validate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ValidateArgs {
    /// A JSON input object to check: inline (first non-space character `{`), a file, or `-` for stdin; same as --input
    #[arg(value_name = "JSON|FILE|-", conflicts_with_all = ["input", "input_file"])]
    pub(crate) file: Option<String>,

    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `happyhorse man`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ManArgs {
    /// The command whose page to print (`run`, `batch`, …) [default: happyhorse itself]
    #[arg(value_name = "COMMAND")]
    pub(crate) command: Option<String>,

    /// Write the page of happyhorse and of every command into this directory (happyhorse.1, happyhorse-run.1, …)
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub(crate) dir: Option<PathBuf>,
}

/// Which schema `happyhorse schema` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaKind {
    /// The request body (what `--input` and `--set` fill)
    #[default]
    Input,
    /// The `output` object of a finished job's result
    Output,
}

/// `happyhorse schema`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SchemaArgs {
    /// Which schema
    #[arg(value_enum, default_value_t = SchemaKind::Input)]
    pub(crate) which: SchemaKind,

    /// The model: a full id or a short name [default: i2v]
    #[arg(long, value_name = "MODEL", value_parser = parse_model)]
    pub(crate) model: Option<&'static ModelSpec>,
}

/// `happyhorse models`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ModelsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ModelsCommand>,

    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// `happyhorse models list|get`.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum ModelsCommand {
    /// Every model, with its price (the default)
    List,
    /// One model's details
    Get {
        /// A model id or short name, e.g. happyhorse/happyhorse-1.0/image-to-video or t2v
        #[arg(value_name = "MODEL_ID")]
        id: String,
    },
}

/// `happyhorse emulator`: the emulator crate's own flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct EmulatorCommandArgs {
    #[command(flatten)]
    pub(crate) emulator: EmulatorArgs,
}

/// `happyhorse completions`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub(crate) shell: Shell,
}

/// A model by its full id or short name (`happyhorse models` lists them).
fn parse_model(text: &str) -> Result<&'static ModelSpec, String> {
    happyhorse_types::find_model(text.trim()).ok_or_else(|| {
        let names: Vec<&str> = happyhorse_types::MODELS
            .iter()
            .map(|spec| spec.short_name)
            .collect();
        format!(
            "no model {text:?}: use a full id (happyhorse/happyhorse-1.0/text-to-video) or a short name ({})",
            names.join(", ")
        )
    })
}

/// A job concurrency: 1 to 10,000.
fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=10_000) => Ok(n),
        _ => Err(format!(
            "expected a number of jobs from 1 to 10000, got {text:?}"
        )),
    }
}

/// The longest `--timeout`: a job takes minutes, and results expire long before a week.
pub(crate) const TIMEOUT_MAX: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);
/// The longest `--poll-interval`.
pub(crate) const POLL_INTERVAL_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

/// `90`, `90s`, `10m`, `1h`, `500ms`, `1h 30m`: positive, at most [`TIMEOUT_MAX`].
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    positive(text, TIMEOUT_MAX)
}

/// As [`parse_timeout`], at most [`POLL_INTERVAL_MAX`].
fn parse_poll_interval(text: &str) -> Result<std::time::Duration, String> {
    positive(text, POLL_INTERVAL_MAX)
}

fn positive(text: &str, max: std::time::Duration) -> Result<std::time::Duration, String> {
    match happyhorse_core::validate::parse_duration(text, max)? {
        zero if zero.is_zero() => Err(format!("the duration must be positive, got {text:?}")),
        duration => Ok(duration),
    }
}

#[cfg(test)]
mod tests;
