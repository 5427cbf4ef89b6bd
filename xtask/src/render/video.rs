//! H.264 encoding (OpenH264), MP4 muxing (`mp4` crate) and a read-back check.

use anyhow::{Context as _, Result, bail, ensure};
use mp4::{
    AvcConfig, MediaConfig, MediaType, Mp4Config, Mp4Reader, Mp4Sample, Mp4Writer, TrackConfig,
    TrackType,
};
use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode, VuiConfig,
};
use openh264::formats::{YUVBuffer, YUVSource as _};
use std::io::Cursor;

/// Movie and media timescale (ticks per second): 512 ticks per frame at 24 fps, as
/// ffmpeg does. Using it for the movie too keeps `mvhd`/`tkhd` durations exact (the
/// `mp4` crate rescales each sample's duration with integer division).
const TIMESCALE: u32 = 12_288;

/// One encoded access unit: length-prefixed NAL units (no SPS/PPS).
struct Sample {
    data: Vec<u8>,
    sync: bool,
}

/// Converts packed RGB to planar I420, BT.601 limited range (what the VUI signals).
pub(crate) fn rgb_to_i420(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3 / 2];
    let (y_plane, uv) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(w * h / 4);
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        [
            f32::from(rgb[i]),
            f32::from(rgb[i + 1]),
            f32::from(rgb[i + 2]),
        ]
    };
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = px(x, y);
            y_plane[y * w + x] = (16.0 + 0.257 * r + 0.504 * g + 0.098 * b).round() as u8;
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            let mut avg = [0.0f32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                for (a, v) in avg.iter_mut().zip(px(2 * x + dx, 2 * y + dy)) {
                    *a += v / 4.0;
                }
            }
            let [r, g, b] = avg;
            u_plane[y * w / 2 + x] = (128.0 - 0.148 * r - 0.291 * g + 0.439 * b)
                .round()
                .clamp(0.0, 255.0) as u8;
            v_plane[y * w / 2 + x] = (128.0 + 0.439 * r - 0.368 * g - 0.071 * b)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Encodes RGB frames to H.264 and muxes them into an MP4 file image.
pub(crate) fn encode_mp4(frames: &[Vec<u8>], w: usize, h: usize, fps: u32) -> Result<Vec<u8>> {
    // Rate control off = OpenH264's fixed default QP (~210 KB for this clip). The
    // bitrate modes print a warning unless frame skipping is on, and a skipped
    // frame would break "one sample per frame".
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(1_000_000))
        .max_frame_rate(FrameRate::from_hz(fps as f32))
        .rate_control_mode(RateControlMode::Off)
        .skip_frames(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames(fps))
        .num_threads(1)
        .vui(VuiConfig::bt601());
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)?;
    let (mut sps, mut pps, mut samples) = (None, None, Vec::new());
    for (i, rgb) in frames.iter().enumerate() {
        let yuv = YUVBuffer::from_vec(rgb_to_i420(rgb, w, h), w, h);
        let ms = i as u64 * 1000 / u64::from(fps);
        let stream = encoder.encode_at(&yuv, Timestamp::from_millis(ms))?;
        let mut sample = Sample {
            data: Vec::new(),
            sync: false,
        };
        for l in 0..stream.num_layers() {
            let layer = stream.layer(l).context("layer")?;
            for n in 0..layer.nal_count() {
                let nal = strip_start_code(layer.nal_unit(n).context("nal")?)?;
                match nal[0] & 0x1f {
                    7 => sps = sps.or_else(|| Some(nal.to_vec())),
                    8 => pps = pps.or_else(|| Some(nal.to_vec())),
                    kind => {
                        sample.sync |= kind == 5;
                        sample
                            .data
                            .extend_from_slice(&u32::try_from(nal.len())?.to_be_bytes());
                        sample.data.extend_from_slice(nal);
                    }
                }
            }
        }
        ensure!(
            !sample.data.is_empty(),
            "encoder produced no picture for frame {i}"
        );
        samples.push(sample);
    }
    let (Some(sps), Some(pps)) = (sps, pps) else {
        bail!("encoder emitted no SPS/PPS")
    };
    ensure!(samples[0].sync, "first frame is not an IDR picture");

    let brands = ["isom", "iso2", "avc1", "mp41"]
        .map(|b| b.parse())
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mp4_config = Mp4Config {
        major_brand: "isom".parse()?,
        minor_version: 512,
        compatible_brands: brands,
        timescale: TIMESCALE,
    };
    let mut writer = Mp4Writer::write_start(Cursor::new(Vec::new()), &mp4_config)?;
    let avc = AvcConfig {
        width: u16::try_from(w)?,
        height: u16::try_from(h)?,
        seq_param_set: sps,
        pic_param_set: pps,
    };
    writer.add_track(&TrackConfig {
        track_type: TrackType::Video,
        timescale: TIMESCALE,
        language: "und".into(),
        media_conf: MediaConfig::AvcConfig(avc),
    })?;
    let tick = TIMESCALE / fps;
    for (i, s) in samples.into_iter().enumerate() {
        let start_time = u64::try_from(i)? * u64::from(tick);
        let sample = Mp4Sample {
            start_time,
            duration: tick,
            rendering_offset: 0,
            is_sync: s.sync,
            bytes: s.data.into(),
        };
        writer.write_sample(1, &sample)?;
    }
    writer.write_end()?;
    Ok(writer.into_writer().into_inner())
}

fn strip_start_code(nal: &[u8]) -> Result<&[u8]> {
    let body = nal
        .strip_prefix(&[0, 0, 0, 1])
        .or_else(|| nal.strip_prefix(&[0, 0, 1]))
        .context("NAL without start code")?;
    ensure!(!body.is_empty(), "empty NAL unit");
    Ok(body)
}

/// What [`verify_mp4`] found.
pub(crate) struct Report {
    /// Top-level box types in file order.
    pub(crate) boxes: Vec<String>,
    /// Summary of the video track.
    pub(crate) track: String,
    /// Frames decoded by OpenH264.
    pub(crate) decoded: usize,
    /// Sync (IDR) samples.
    pub(crate) sync_samples: usize,
    /// Lowest per-frame PSNR (dB) of the decoded frames against the source.
    pub(crate) min_psnr: f64,
    /// Decoded RGB of the middle frame, for a visual check.
    pub(crate) middle_frame: Vec<u8>,
}

/// Parses `mp4` back, checks it against what was encoded and decodes every frame.
pub(crate) fn verify_mp4(
    mp4: &[u8],
    frames: &[Vec<u8>],
    w: usize,
    h: usize,
    fps: u32,
) -> Result<Report> {
    let mut boxes = Vec::new();
    let mut at = 0;
    while at + 8 <= mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into()?) as usize;
        ensure!(size >= 8 && at + size <= mp4.len(), "bad box size at {at}");
        boxes.push(String::from_utf8_lossy(&mp4[at + 4..at + 8]).into_owned());
        at += size;
    }
    ensure!(at == mp4.len(), "trailing bytes after the last box");

    let mut reader = Mp4Reader::read_header(Cursor::new(mp4), mp4.len() as u64)?;
    ensure!(reader.tracks().len() == 1, "expected exactly one track");
    let track = reader.tracks().values().next().context("no track")?;
    ensure!(track.media_type()? == MediaType::H264, "track is not H.264");
    ensure!(
        (usize::from(track.width()), usize::from(track.height())) == (w, h),
        "wrong dimensions"
    );
    ensure!(
        track.sample_count() as usize == frames.len(),
        "wrong sample count"
    );
    let expected = std::time::Duration::from_secs_f64(frames.len() as f64 / f64::from(fps));
    ensure!(
        track.duration() == expected,
        "track duration {:?} != {expected:?}",
        track.duration()
    );
    ensure!(
        reader.duration() == expected,
        "movie duration {:?} != {expected:?}",
        reader.duration()
    );
    let track_id = track.track_id();
    let (sps, pps) = (
        track.sequence_parameter_set()?.to_vec(),
        track.picture_parameter_set()?.to_vec(),
    );
    let summary = format!(
        "{} {:?} {}x{} {:.3} fps, timescale {}, duration {:?}, {} samples",
        track.box_type()?,
        track.video_profile()?,
        track.width(),
        track.height(),
        track.frame_rate(),
        track.timescale(),
        track.duration(),
        track.sample_count(),
    );

    let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())?;
    let (mut decoded, mut sync_samples, mut min_psnr) = (0, 0, f64::INFINITY);
    let mut rgb = vec![0u8; w * h * 3];
    let (mut middle_frame, mut sample_bytes) = (Vec::new(), 0);
    for id in 1..=u32::try_from(frames.len())? {
        let sample = reader
            .read_sample(track_id, id)?
            .with_context(|| format!("sample {id} missing"))?;
        ensure!(
            sample.duration == TIMESCALE / fps,
            "sample {id} has duration {}",
            sample.duration
        );
        sample_bytes += sample.bytes.len();
        let mut annex_b = Vec::new();
        if sample.is_sync {
            sync_samples += 1;
            for ps in [&sps, &pps] {
                annex_b.extend_from_slice(&[0, 0, 0, 1]);
                annex_b.extend_from_slice(ps);
            }
        }
        let mut rest = &sample.bytes[..];
        while !rest.is_empty() {
            ensure!(rest.len() >= 4, "truncated NAL length in sample {id}");
            let len = u32::from_be_bytes(rest[..4].try_into()?) as usize;
            ensure!(
                len > 0 && 4 + len <= rest.len(),
                "bad NAL length in sample {id}"
            );
            annex_b.extend_from_slice(&[0, 0, 0, 1]);
            annex_b.extend_from_slice(&rest[4..4 + len]);
            rest = &rest[4 + len..];
        }
        let image = decoder
            .decode(&annex_b)?
            .with_context(|| format!("sample {id} decoded to no picture"))?;
        ensure!(
            image.dimensions() == (w, h),
            "decoded frame {id} has the wrong size"
        );
        image.write_rgb8(&mut rgb);
        min_psnr = min_psnr.min(psnr(&rgb, &frames[decoded]));
        if decoded == frames.len() / 2 {
            middle_frame = rgb.clone();
        }
        decoded += 1;
    }
    ensure!(
        decoder.flush_remaining()?.is_empty(),
        "decoder held back frames"
    );
    let kbps = sample_bytes as f64 * 8.0 / expected.as_secs_f64() / 1000.0;
    Ok(Report {
        boxes,
        track: format!("{summary}, {kbps:.0} kbit/s"),
        decoded,
        sync_samples,
        min_psnr,
        middle_frame,
    })
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
}
