//! [`EmulatorArgs`]: the command-line flags, shared by this crate's binary and `happyhorse emulator`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::ApiToken;
use crate::builder::{AuthStatus, EmulatorBuilder, ErrorShape, ProcessingTime};
use crate::duration::{parse_duration, parse_memory_size, parse_size, parse_time_scale};
use crate::faults::{Endpoint, FaultConfig, FaultKind};
use crate::shapes::{AnswerShapes, OutputShape};

/// The emulator's flags. Flatten it into a clap command and call [`EmulatorArgs::builder`].
///
/// ```
/// use clap::Parser;
/// use happyhorse_emulator::EmulatorArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     emulator: EmulatorArgs,
/// }
///
/// let cli = Cli::parse_from(["emu", "--time-scale", "100", "--fault", "reset=0.1", "--token", "t1"]);
/// assert_eq!(cli.emulator.time_scale, 100.0);
/// let _builder = cli.emulator.builder();
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address of the API listener (port 0: the OS picks one).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,

    /// Address of the storage (output file) listener; a different port is a different origin.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    pub storage_addr: SocketAddr,

    /// Accept only this API token (repeatable). Without it any non-empty bearer token is accepted.
    #[arg(long = "token", value_name = "TOKEN")]
    pub tokens: Vec<ApiToken>,

    /// HTTP status of the `400004` answer to a missing or unknown token.
    #[arg(long, value_enum, default_value = "400")]
    pub auth_status: AuthStatus,

    /// Jobs that run at once; the others wait `in_queue` with a queue position.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub workers: usize,

    /// How long a job runs: fixed (`100s`) or drawn uniformly from a range (`60s..180s`), in simulated time.
    #[arg(long, value_name = "DURATION[..DURATION]", default_value = "60s..180s")]
    pub processing_time: ProcessingTime,

    /// Simulated time runs this many times faster than real time (100: a 100 s job takes 1 s); 0.001 to 1000000.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,

    /// Probability that a job fails (`/status` still reads `completed`; `/result` carries `error`).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub failure_rate: f64,

    /// Shape of a failed job's `error`: an object with `type` and `message`, or a plain string.
    #[arg(long, value_enum, default_value = "object")]
    pub error_shape: ErrorShape,

    /// Finished jobs answer `404001` after this long (simulated time).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub expire_after: Duration,

    /// Seed of processing times and job failures.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Overall probability that a request gets a fault, spread evenly over the kinds that apply.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fault_rate: f64,

    /// Probability of one fault kind (repeatable), overriding its share of --fault-rate,
    /// e.g. `--fault reset=0.05 --fault rate_limited=0.1`.
    #[arg(long = "fault", value_name = "KIND=P", value_parser = parse_kind_rate)]
    pub faults: Vec<(FaultKind, f64)>,

    /// Seed of the fault dice: the same seed and request order give the same faults.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_seed: u64,

    /// Fault only these endpoints (repeatable; default all).
    #[arg(long = "fault-endpoint", value_enum, value_name = "ENDPOINT")]
    pub fault_endpoints: Vec<Endpoint>,

    /// How long a `delay` fault holds a response back (simulated time).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub fault_delay: Duration,

    /// `Retry-After` seconds sent with a `rate_limited` fault.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub retry_after: u64,

    /// Reject image URLs the emulator cannot fetch (anything but data: URIs and loopback http URLs)
    /// instead of accepting them unchecked.
    #[arg(long)]
    pub strict_images: bool,

    /// Serve every output as a synthetic body of this size instead of the MP4 (e.g. 5000000, 200MiB).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub large_file_size: Option<u64>,

    /// Answer every submit with `400002` (insufficient balance).
    #[arg(long)]
    pub insufficient_balance: bool,

    /// Serve the fixed sample clip for every job instead of rendering each job's offline preview
    /// (its own image, duration and resolution; seconds of CPU per job).
    #[arg(long)]
    pub fixture_video: bool,

    /// Largest accepted request body (e.g. 67108864, 64MiB).
    #[arg(long, value_name = "BYTES", default_value = "64MiB", value_parser = parse_memory_size)]
    pub max_body_bytes: usize,

    /// Most TCP connections held at once (API and storage together); more wait until one closes.
    #[arg(long, value_name = "N", default_value_t = crate::DEFAULT_MAX_CONNECTIONS, value_parser = parse_connections)]
    pub max_connections: usize,

    /// Close a connection that has not sent a complete request header within this time (real time).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration)]
    pub header_read_timeout: Duration,

    /// Shape of a succeeded result's `output` (to rehearse the shapes a client must read).
    #[arg(long, value_enum, default_value = "video")]
    pub output_shape: OutputShape,

    /// Answer cancels with the documentation's own example: a comma missing, not valid JSON.
    #[arg(long)]
    pub malformed_cancel: bool,

    /// Send error answers with HTTP 200 (the top-level `error_code` still says what failed).
    #[arg(long)]
    pub errors_with_200: bool,

    /// Send `queue_position` and `cost` as strings (`"3"`, `"0.35"`).
    #[arg(long)]
    pub string_numbers: bool,
}

impl EmulatorArgs {
    /// A builder configured from these flags.
    pub fn builder(&self) -> EmulatorBuilder {
        let faults = FaultConfig {
            rate: self.fault_rate,
            rates: self.faults.iter().copied().collect(),
            seed: self.fault_seed,
            endpoints: self.fault_endpoints.clone(),
            delay: self.fault_delay,
            retry_after_secs: self.retry_after,
        };
        crate::Emulator::builder()
            .addr(self.addr)
            .storage_addr(self.storage_addr)
            .tokens(self.tokens.iter().map(|t| t.expose().to_owned()))
            .auth_status(self.auth_status)
            .workers(self.workers)
            .processing_time(self.processing_time)
            .time_scale(self.time_scale)
            .failure_rate(self.failure_rate)
            .error_shape(self.error_shape)
            .expire_after(self.expire_after)
            .seed(self.seed)
            .faults(faults)
            .strict_images(self.strict_images)
            .large_file_size(self.large_file_size)
            .insufficient_balance(self.insufficient_balance)
            .previews(!self.fixture_video)
            .max_body_bytes(self.max_body_bytes)
            .max_connections(self.max_connections)
            .header_read_timeout(self.header_read_timeout)
            .answer_shapes(AnswerShapes {
                output: self.output_shape,
                malformed_cancel: self.malformed_cancel,
                errors_with_200: self.errors_with_200,
                string_numbers: self.string_numbers,
            })
    }
}

fn parse_connections(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=1_000_000) => Ok(n),
        _ => Err(format!(
            "expected a number of connections from 1 to 1000000, got {text:?}"
        )),
    }
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        zero if zero.is_zero() => Err(format!("{text:?} is zero: it must be positive")),
        duration => Ok(duration),
    }
}

fn parse_kind_rate(text: &str) -> Result<(FaultKind, f64), String> {
    use clap::ValueEnum;
    let (kind, rate) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=P, e.g. reset=0.1, got {text:?}"))?;
    let kind = FaultKind::from_str(kind.trim(), true).map_err(|_| {
        let known: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown fault kind {kind:?}; known: {}", known.join(", "))
    })?;
    let rate: f64 = rate
        .trim()
        .parse()
        .map_err(|_| format!("invalid probability {rate:?}"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("probability must be between 0 and 1, got {rate}"));
    }
    Ok((kind, rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }

    #[test]
    fn defaults_behave_like_the_service() {
        let args = Cli::parse_from(["emu"]).emulator;
        assert_eq!(args.auth_status, AuthStatus::BadRequest);
        assert_eq!(
            args.processing_time,
            ProcessingTime::Uniform {
                min: Duration::from_secs(60),
                max: Duration::from_secs(180)
            }
        );
        assert_eq!(args.expire_after, Duration::from_secs(86_400));
        assert!(args.tokens.is_empty());
    }

    #[test]
    fn every_flag_parses() {
        let args = Cli::parse_from([
            "emu",
            "--addr",
            "127.0.0.1:9000",
            "--storage-addr",
            "127.0.0.1:9001",
            "--token",
            "a",
            "--token",
            "b",
            "--auth-status",
            "401",
            "--workers",
            "2",
            "--processing-time",
            "100s",
            "--time-scale",
            "50",
            "--failure-rate",
            "0.25",
            "--error-shape",
            "string",
            "--expire-after",
            "10m",
            "--seed",
            "3",
            "--fault-rate",
            "0.1",
            "--fault",
            "reset=0.05",
            "--fault",
            "lost_submit=0.2",
            "--fault-seed",
            "9",
            "--fault-endpoint",
            "submit",
            "--fault-endpoint",
            "storage",
            "--fault-delay",
            "5s",
            "--retry-after",
            "3",
            "--strict-images",
            "--large-file-size",
            "1000000",
            "--insufficient-balance",
            "--max-body-bytes",
            "1KiB",
            "--max-connections",
            "64",
            "--header-read-timeout",
            "2s",
        ])
        .emulator;
        assert_eq!(args.tokens.len(), 2);
        assert_eq!(args.auth_status, AuthStatus::Unauthorized);
        assert_eq!(
            args.processing_time,
            ProcessingTime::Fixed(Duration::from_secs(100))
        );
        assert_eq!(args.error_shape, ErrorShape::String);
        assert_eq!(
            args.faults,
            vec![(FaultKind::Reset, 0.05), (FaultKind::LostSubmit, 0.2)]
        );
        assert_eq!(
            args.fault_endpoints,
            vec![Endpoint::Submit, Endpoint::Storage]
        );
        assert_eq!(args.fault_delay, Duration::from_secs(5));
        assert!(args.strict_images && args.insufficient_balance);
        assert_eq!(args.max_body_bytes, 1024);
        assert_eq!(args.large_file_size, Some(1_000_000));
        assert_eq!(args.max_connections, 64);
        assert_eq!(args.header_read_timeout, Duration::from_secs(2));
        let builder = format!("{:?}", args.builder());
        assert!(
            !builder.contains("\"a\""),
            "tokens must be redacted: {builder}"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["emu", "--fault", "nonsense=0.1"]).is_err());
        assert!(Cli::try_parse_from(["emu", "--fault", "reset=2"]).is_err());
        assert!(Cli::try_parse_from(["emu", "--processing-time", "9s..1s"]).is_err());
        assert!(Cli::try_parse_from(["emu", "--auth-status", "403"]).is_err());
    }

    #[test]
    fn huge_values_are_usage_errors_not_panics() {
        for args in [
            &["emu", "--time-scale", "1e308"][..],
            &["emu", "--time-scale", "0"],
            &["emu", "--time-scale", "NaN"],
            &["emu", "--time-scale", "-5"],
            &["emu", "--expire-after", "18446744073709551615s"],
            &["emu", "--fault-delay", "99999999999999999999d"],
            &["emu", "--processing-time", "1s..18446744073709551615s"],
            &["emu", "--max-body-bytes", "99999999999999999999"],
            &["emu", "--large-file-size", "2TiB"],
            &["emu", "--max-connections", "0"],
            &["emu", "--header-read-timeout", "0s"],
        ] {
            let error = Cli::try_parse_from(args).err();
            assert!(error.is_some(), "{args:?} was accepted");
        }
    }

    #[tokio::test]
    async fn the_builder_refuses_what_the_flags_would() {
        use crate::Emulator;
        for builder in [
            Emulator::builder().time_scale(f64::MAX),
            Emulator::builder().time_scale(f64::NAN),
            Emulator::builder().expire_after(Duration::MAX),
            Emulator::builder().processing_time(ProcessingTime::Fixed(Duration::MAX)),
            Emulator::builder().header_read_timeout(Duration::ZERO),
        ] {
            assert!(builder.start().await.is_err());
        }
    }
}
