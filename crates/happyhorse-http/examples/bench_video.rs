//! How much checking a 100 MB local video costs: the library's pipeline for a video-edit
//! `video_url` (`MediaSource::into_value_for_blocking`: every rule checked through seeks, then the
//! inline limit refuses it), against reading the file once (the baseline), and against the
//! obvious alternative, `mp4parse` reading the whole file.
//!
//! ```text
//! cargo build --release -p happyhorse-http --example bench_video
//! target/release/examples/bench_video [--runs 15] [--json]
//! ```
//!
//! The file is made here: `examples/horse.mp4` rewritten with its `moov` at the end, behind
//! nearly 100 MB of media data, 100,000,000 bytes in all (the worst layout: the check must skip all of it). The last line
//! with `--json` is one object: `{"runs", "bytes", "read_ms", "validate_ms", "naive_ms",
//! "probe_bytes_read"}` (medians).

use std::fs::File;
use std::io::{BufReader, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use happyhorse_core::validate::{ReadAt, probe_video};
use happyhorse_http::MediaSource;

/// The file's size: video-edit's limit exactly.
const FILE_BYTES: u64 = 100_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut runs = 15usize;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--json" => json = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let dir = std::env::temp_dir().join(format!("happyhorse-video-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = big_video(&dir)?;
    let bytes = std::fs::metadata(&path)?.len();
    let spec = &happyhorse_types::video_edit::SPEC;

    // The check must pass every rule but the inline limit: it measured the whole file.
    let error = MediaSource::Path(path.clone())
        .into_value_for_blocking(spec, "video_url")
        .expect_err("a 100 MB video is too large to send inline");
    let rules: Vec<&str> = error
        .input_errors()
        .ok_or("no structured errors")?
        .errors()
        .iter()
        .map(|e| e.rule.as_str())
        .collect();
    if rules != ["inline_size"] {
        return Err(format!("unexpected refusal: {error}").into());
    }
    let probe_bytes_read = {
        let mut source = Counting {
            file: File::open(&path)?,
            len: bytes,
            read: 0,
        };
        probe_video(&mut source)?;
        source.read
    };

    let read = median(runs, || {
        let read = std::fs::read(&path).expect("reading the video");
        std::hint::black_box(read.len());
    });
    let validate = median(runs, || {
        let result = MediaSource::Path(path.clone()).into_value_for_blocking(spec, "video_url");
        std::hint::black_box(result.is_err());
    });
    let naive = median(runs.min(5), || {
        let mut reader = BufReader::new(File::open(&path).expect("opening the video"));
        let context = mp4parse::read_mp4(&mut reader).expect("mp4parse reads the video");
        std::hint::black_box(context.tracks.len());
    });
    std::fs::remove_dir_all(&dir)?;

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "runs": runs,
                "bytes": bytes,
                "read_ms": ms(read),
                "validate_ms": ms(validate),
                "naive_ms": ms(naive),
                "probe_bytes_read": probe_bytes_read,
            })
        );
    } else {
        println!(
            "{bytes} bytes: read {:.2} ms, validate {:.3} ms ({probe_bytes_read} bytes read), mp4parse over the whole file {:.2} ms",
            ms(read),
            ms(validate),
            ms(naive)
        );
    }
    Ok(())
}

/// `horse.mp4` as ftyp, an `mdat` (its real media data, then zeros) and the moov, 100 MB in all — the `moov`'s
/// chunk offsets shifted so the file stays a valid video.
fn big_video(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let original = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/horse.mp4"
    ))?;
    let boxes = top_level(&original);
    let find = |kind: &[u8]| {
        boxes
            .iter()
            .find(|(k, ..)| k.as_slice() == kind)
            .copied()
            .ok_or("a box is missing from horse.mp4")
    };
    let (_, ftyp_at, ftyp_len) = find(b"ftyp")?;
    let (_, moov_at, moov_len) = find(b"moov")?;
    let (_, mdat_at, mdat_len) = find(b"mdat")?;
    let ftyp = &original[ftyp_at..ftyp_at + ftyp_len];
    let media = &original[mdat_at + 8..mdat_at + mdat_len];
    let mut moov = original[moov_at..moov_at + moov_len].to_vec();
    // The media now starts right after ftyp and the new mdat header.
    let shift = (ftyp.len() + 8) as i64 - (mdat_at + 8) as i64;
    shift_chunk_offsets(&mut moov, shift);

    let path = dir.join("big.mp4");
    let mut file = std::io::BufWriter::new(File::create(&path)?);
    let mdat_bytes = FILE_BYTES - ftyp.len() as u64 - moov.len() as u64;
    file.write_all(ftyp)?;
    file.write_all(&u32::try_from(mdat_bytes)?.to_be_bytes())?;
    file.write_all(b"mdat")?;
    file.write_all(media)?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = mdat_bytes - 8 - media.len() as u64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.write_all(&moov)?;
    file.flush()?;
    Ok(path)
}

fn top_level(bytes: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap_or_default()) as usize;
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap_or_default();
        out.push((kind, at, size));
        at += size.max(8);
    }
    out
}

/// Adds `shift` to every entry of every `stco` box in `moov` (found by name: the fixture has
/// one video track and no `co64`).
fn shift_chunk_offsets(moov: &mut [u8], shift: i64) {
    let mut at = 0;
    while let Some(found) = moov[at..].windows(4).position(|w| w == b"stco") {
        let start = at + found + 4 + 4; // after the type, version and flags
        let count = u32::from_be_bytes(moov[start..start + 4].try_into().unwrap_or_default());
        for i in 0..count as usize {
            let entry = start + 4 + 4 * i;
            let offset = u32::from_be_bytes(moov[entry..entry + 4].try_into().unwrap_or_default());
            let moved = u32::try_from(i64::from(offset) + shift).unwrap_or(offset);
            moov[entry..entry + 4].copy_from_slice(&moved.to_be_bytes());
        }
        at = start;
    }
}

/// A file that counts what the probe asks for.
struct Counting {
    file: File,
    len: u64,
    read: u64,
}

impl ReadAt for Counting {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.read += buf.len() as u64;
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|e| e.to_string())
    }
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
