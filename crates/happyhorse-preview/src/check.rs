//! Reading a preview back like a player would, for tests: the MP4 parsed with `mp4-atom` (sizes,
//! timing, samples located through `stsz`/`stco`), every AV1 sample decoded by rav1d (a decoder
//! that shares nothing with the encoder), and the PSNR of two luma planes.
//!
//! Only with the `check` feature. Its functions panic on anything unexpected: they are test
//! assertions, not a parser for untrusted files.

use std::io::Cursor;

use mp4_atom::{Any, Codec, Decode, StszSamples};
use re_rav1d::dav1d::{Decoder, Error as DecodeError, PlanarImageComponent, Settings};

/// What a player learns from the MP4's boxes.
#[derive(Debug)]
pub struct Mp4 {
    /// The sample entry's width.
    pub width: u32,
    /// The sample entry's height.
    pub height: u32,
    /// The sample entry's kind (always `av01` here: anything else panics).
    pub codec: &'static str,
    /// Media time units per second (`mdhd`).
    pub timescale: u32,
    /// Media duration in those units (`mdhd`).
    pub duration: u64,
    /// The first `stts` entry's sample duration.
    pub sample_delta: u32,
    /// Whether every sample lasts `sample_delta` (one `stts` entry covering them all).
    pub frame_durations_are_uniform: bool,
    /// Each sample's bytes, located through the sample tables.
    pub samples: Vec<Vec<u8>>,
    /// `av1C`'s configuration OBUs (the sequence header).
    pub config_obus: Vec<u8>,
}

impl Mp4 {
    /// The media duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.duration as f64 / f64::from(self.timescale)
    }

    /// Frames per second, from the sample duration.
    pub fn fps(&self) -> f64 {
        f64::from(self.timescale) / f64::from(self.sample_delta)
    }
}

/// Parses an MP4 of one AV1 video track (panics on anything else: a test helper).
pub fn read_mp4(bytes: &[u8]) -> Mp4 {
    let mut cursor = Cursor::new(bytes);
    let mut moov = None;
    while (cursor.position() as usize) < bytes.len() {
        match Any::decode(&mut cursor).expect("a well-formed box") {
            Any::Moov(m) => moov = Some(m),
            Any::Ftyp(ftyp) => assert_eq!(ftyp.major_brand, b"isom".into()),
            _ => {}
        }
    }
    let moov = moov.expect("a moov box");
    assert_eq!(moov.trak.len(), 1, "one track");
    let trak = &moov.trak[0];
    let stbl = &trak.mdia.minf.stbl;
    let Codec::Av01(av01) = &stbl.stsd.codecs[0] else {
        panic!("not an av01 sample entry: {:?}", stbl.stsd.codecs[0]);
    };
    let sizes: Vec<u32> = match &stbl.stsz.samples {
        StszSamples::Different { sizes } => sizes.clone(),
        StszSamples::Identical { count, size } => vec![*size; *count as usize],
    };
    let offsets = &stbl.stco.as_ref().expect("stco").entries;
    assert_eq!(offsets.len(), 1, "one chunk");
    let mut at = offsets[0] as usize;
    let samples = sizes
        .iter()
        .map(|&size| {
            let sample = bytes[at..at + size as usize].to_vec();
            at += size as usize;
            sample
        })
        .collect();
    let stts = &stbl.stts.entries;
    Mp4 {
        width: u32::from(av01.visual.width),
        height: u32::from(av01.visual.height),
        codec: "av01",
        timescale: trak.mdia.mdhd.timescale,
        duration: trak.mdia.mdhd.duration,
        sample_delta: stts[0].sample_delta,
        frame_durations_are_uniform: stts.len() == 1
            && stts[0].sample_count as usize == sizes.len(),
        samples,
        config_obus: av01.av1c.config_obus.clone(),
    }
}

/// One decoded frame's luma plane.
#[derive(Debug)]
pub struct Decoded {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Luma, row by row, `width × height` bytes.
    pub y: Vec<u8>,
}

/// Decodes every sample (single-threaded, frame by frame).
pub fn decode(mp4: &Mp4) -> Vec<Decoded> {
    let mut settings = Settings::new();
    settings.set_n_threads(1);
    settings.set_max_frame_delay(1);
    let mut decoder = Decoder::with_settings(&settings).expect("a decoder");
    let mut frames = Vec::new();
    let take = |decoder: &mut Decoder, frames: &mut Vec<Decoded>| loop {
        match decoder.get_picture() {
            Ok(picture) => {
                let (width, height) = (picture.width(), picture.height());
                let stride = picture.stride(PlanarImageComponent::Y) as usize;
                let plane = picture.plane(PlanarImageComponent::Y);
                let mut y = Vec::with_capacity((width * height) as usize);
                for row in 0..height as usize {
                    y.extend_from_slice(&plane[row * stride..row * stride + width as usize]);
                }
                frames.push(Decoded { width, height, y });
            }
            Err(DecodeError::Again) => return,
            Err(error) => panic!("decoding failed: {error}"),
        }
    };
    for sample in &mp4.samples {
        match decoder.send_data(sample.clone(), None, None, None) {
            Ok(()) => {}
            Err(DecodeError::Again) => {
                take(&mut decoder, &mut frames);
                decoder.send_pending_data().expect("pending data");
            }
            Err(error) => panic!("the decoder refused a sample: {error}"),
        }
        take(&mut decoder, &mut frames);
    }
    decoder.flush();
    take(&mut decoder, &mut frames);
    frames
}

/// BT.709 limited-range luma of an RGB image, computed independently of the emulator.
pub fn luma_of(image: &image::RgbImage) -> Vec<u8> {
    image
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(f64::from);
            (16.0 + (0.2126 * r + 0.7152 * g + 0.0722 * b) * 219.0 / 255.0).round() as u8
        })
        .collect()
}

/// Peak signal-to-noise ratio of two 8-bit planes, in dB.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "planes of different sizes");
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}
