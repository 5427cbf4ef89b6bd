//! AV1 encoding with `rav1e` (pure Rust, no assembly, royalty-free), at its fastest preset.

use rav1e::prelude::*;

use super::{FPS, PreviewError};

/// Constant quantizer (0–255): a clean first frame and smooth drift at a few hundred kB per 5 s.
const QUANTIZER: usize = 100;
/// A key frame every 5 s, so a player can seek.
const KEY_FRAME_INTERVAL: u64 = 5 * FPS as u64;
/// AV1 level 4.0 (`seq_level_idx` 8): up to 2,359,296 pixels per frame, 4096×2304, covers 1080P.
const LEVEL_IDX: u8 = 8;

/// One frame's planes, 8-bit 4:2:0.
pub(crate) struct Yuv420 {
    pub(crate) y: Vec<u8>,
    pub(crate) u: Vec<u8>,
    pub(crate) v: Vec<u8>,
    width: usize,
}

impl Yuv420 {
    pub(crate) fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width as usize, height as usize);
        Self {
            y: vec![16; w * h],
            u: vec![128; (w / 2) * (h / 2)],
            v: vec![128; (w / 2) * (h / 2)],
            width: w,
        }
    }
}

/// The encoded stream: the sequence header (for `av1C`) and one sample per frame.
#[derive(Debug)]
pub(crate) struct Stream {
    /// The sequence header OBU, as it opens the first key frame.
    pub(crate) sequence_header: Vec<u8>,
    /// Frames in display order: their OBUs (temporal delimiters removed) and whether each is a key frame.
    pub(crate) samples: Vec<(Vec<u8>, bool)>,
}

pub(crate) struct Encoder {
    context: Context<u8>,
    samples: Vec<(Vec<u8>, bool)>,
    sequence_header: Option<Vec<u8>>,
}

fn failed(what: &str, error: impl std::fmt::Display) -> PreviewError {
    PreviewError::new(format!("the AV1 encoder failed to {what}: {error}"))
}

impl Encoder {
    pub(crate) fn new(width: u32, height: u32) -> Result<Self, PreviewError> {
        let mut config = EncoderConfig::with_speed_preset(10);
        config.width = width as usize;
        config.height = height as usize;
        config.time_base = Rational::new(1, u64::from(FPS));
        config.quantizer = QUANTIZER;
        config.min_key_frame_interval = 0;
        config.max_key_frame_interval = KEY_FRAME_INTERVAL;
        // No frame reordering: each frame comes out as soon as it went in.
        config.low_latency = true;
        config.level_idx = Some(LEVEL_IDX);
        config.pixel_range = PixelRange::Limited;
        config.color_description = Some(ColorDescription {
            color_primaries: ColorPrimaries::BT709,
            transfer_characteristics: TransferCharacteristics::BT709,
            matrix_coefficients: MatrixCoefficients::BT709,
        });
        let context = Config::new()
            .with_encoder_config(config)
            .with_threads(1)
            .new_context()
            .map_err(|e| failed("start", e))?;
        Ok(Self {
            context,
            samples: Vec::new(),
            sequence_header: None,
        })
    }

    pub(crate) fn push(&mut self, yuv: &Yuv420) -> Result<(), PreviewError> {
        let mut frame = self.context.new_frame();
        let w = yuv.width;
        frame.planes[0].copy_from_raw_u8(&yuv.y, w, 1);
        frame.planes[1].copy_from_raw_u8(&yuv.u, w / 2, 1);
        frame.planes[2].copy_from_raw_u8(&yuv.v, w / 2, 1);
        self.context
            .send_frame(frame)
            .map_err(|e| failed("take a frame", e))?;
        self.drain(false)
    }

    fn drain(&mut self, flushing: bool) -> Result<(), PreviewError> {
        loop {
            match self.context.receive_packet() {
                Ok(packet) => self.keep(packet)?,
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::NeedMoreData) if !flushing => return Ok(()),
                Err(EncoderStatus::LimitReached) => return Ok(()),
                Err(error) => return Err(failed("encode", error)),
            }
        }
    }

    fn keep(&mut self, packet: Packet<u8>) -> Result<(), PreviewError> {
        let key = packet.frame_type == FrameType::KEY;
        let mut sample = Vec::with_capacity(packet.data.len());
        for obu in obus(&packet.data)? {
            match obu.kind {
                // ISO/IEC 14496-12 AV1 binding: samples carry no temporal delimiters.
                OBU_TEMPORAL_DELIMITER => continue,
                OBU_SEQUENCE_HEADER if self.sequence_header.is_none() => {
                    self.sequence_header = Some(obu.bytes.to_vec());
                }
                _ => {}
            }
            sample.extend_from_slice(obu.bytes);
        }
        self.samples.push((sample, key));
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Stream, PreviewError> {
        self.context.flush();
        self.drain(true)?;
        let sequence_header = self
            .sequence_header
            .ok_or_else(|| PreviewError::new("the AV1 encoder wrote no sequence header"))?;
        Ok(Stream {
            sequence_header,
            samples: self.samples,
        })
    }
}

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;

/// One OBU of a low-overhead bitstream.
pub(crate) struct Obu<'a> {
    pub(crate) kind: u8,
    /// The whole OBU, header included.
    pub(crate) bytes: &'a [u8],
}

/// Splits a temporal unit into its OBUs (every OBU rav1e writes carries its size).
pub(crate) fn obus(data: &[u8]) -> Result<Vec<Obu<'_>>, PreviewError> {
    let bad = || PreviewError::new("the AV1 encoder wrote a malformed OBU");
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let header = rest[0];
        let kind = (header >> 3) & 0x0f;
        let extension = header & 0x04 != 0;
        if header & 0x02 == 0 {
            return Err(bad());
        }
        let mut at = 1 + usize::from(extension);
        let mut size: u64 = 0;
        for i in 0..8 {
            let byte = *rest.get(at).ok_or_else(bad)?;
            at += 1;
            size |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                break;
            }
        }
        let end = at
            .checked_add(usize::try_from(size).map_err(|_| bad())?)
            .filter(|end| *end <= rest.len())
            .ok_or_else(bad)?;
        out.push(Obu {
            kind,
            bytes: &rest[..end],
        });
        rest = &rest[end..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obus_split_by_their_leb128_sizes() {
        // A temporal delimiter (size 0), then a padding OBU of 130 bytes (size in two bytes).
        let mut data = vec![0x12, 0x00, 0x7a, 0x82, 0x01];
        data.extend(std::iter::repeat_n(0xaa, 130));
        let parsed = obus(&data).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].kind, OBU_TEMPORAL_DELIMITER);
        assert_eq!(parsed[1].kind, 15);
        assert_eq!(parsed[1].bytes.len(), 3 + 130);
        // Truncated: the size promises more than there is.
        assert!(obus(&data[..50]).is_err());
        // No size field: not what rav1e writes.
        assert!(obus(&[0x10]).is_err());
    }
}
