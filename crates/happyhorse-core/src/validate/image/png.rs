//! PNG's structure, walked without decoding: every chunk to `IEND`, each with its CRC; a valid
//! `IHDR` first; image data present, and at least as much of it as the declared size needs.

use super::Damage;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// Deflate's best possible ratio: a 258-byte match costs at least 2 bits (1032 : 1).
pub(super) const DEFLATE_MAX_RATIO: u128 = 1032;

/// The dimensions of a structurally sound PNG, or what is wrong with it.
pub(super) fn walk(bytes: &[u8]) -> Result<(u64, u64), Damage> {
    let mut pos = SIGNATURE.len();
    let mut header: Option<Header> = None;
    let mut palette = false;
    let mut idat_bytes: u64 = 0;
    let mut zlib_head: Vec<u8> = Vec::with_capacity(2);
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(Damage::Truncated(if pos >= bytes.len() {
                format!("PNG data is truncated: it ends at byte {pos} without an IEND chunk")
            } else {
                format!("PNG data is truncated: it ends inside the chunk header at byte {pos}")
            }));
        };
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = &head[4..8];
        let name = String::from_utf8_lossy(kind).into_owned();
        if length > i32::MAX as u32 || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Damage::Corrupt(format!(
                "PNG chunk header at byte {pos} is not valid"
            )));
        }
        let data_start = pos + 8;
        let crc_start = data_start + length as usize;
        let Some(crc) = bytes.get(crc_start..crc_start + 4) else {
            return Err(Damage::Truncated(format!(
                "PNG data is truncated: the {name} chunk at byte {pos} needs {} bytes, {} remain",
                u64::from(length) + 12,
                bytes.len() - pos
            )));
        };
        let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(&bytes[pos + 4..crc_start]) != stored {
            return Err(Damage::Corrupt(format!(
                "PNG chunk {name} at byte {pos} fails its CRC check"
            )));
        }
        let data = &bytes[data_start..crc_start];
        match (kind, &header) {
            (b"IHDR", None) => header = Some(Header::read(data)?),
            (_, None) => {
                return Err(Damage::Corrupt(format!(
                    "PNG starts with a {name} chunk instead of IHDR"
                )));
            }
            (b"IHDR", Some(_)) => {
                return Err(Damage::Corrupt(format!(
                    "PNG has a second IHDR chunk at byte {pos}"
                )));
            }
            (b"PLTE", _) => palette = true,
            (b"IDAT", _) => {
                idat_bytes += u64::from(length);
                let missing = 2 - zlib_head.len();
                zlib_head.extend(data.iter().take(missing));
            }
            (b"IEND", Some(header)) => {
                return header.check_data(palette, idat_bytes, &zlib_head);
            }
            // A critical chunk (upper-case first letter) a decoder does not know: it must refuse.
            (_, _) if kind[0].is_ascii_uppercase() => {
                return Err(Damage::Corrupt(format!(
                    "PNG has an unknown critical chunk {name} at byte {pos}"
                )));
            }
            _ => {}
        }
        pos = crc_start + 4;
    }
}

/// The `IHDR` fields that decide how much data the image needs.
struct Header {
    width: u64,
    height: u64,
    bits_per_pixel: u64,
    color_type: u8,
}

impl Header {
    fn read(data: &[u8]) -> Result<Self, Damage> {
        let bad = |why: &str| Damage::Corrupt(format!("PNG header (IHDR) {why}"));
        if data.len() != 13 {
            return Err(bad(&format!("has {} bytes instead of 13", data.len())));
        }
        let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        let (depth, color_type) = (data[8], data[9]);
        if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
            return Err(bad(&format!("declares {width} x {height} px")));
        }
        let channels: u64 = match (color_type, depth) {
            (0, 1 | 2 | 4 | 8 | 16) => 1,
            (3, 1 | 2 | 4 | 8) => 1,
            (4, 8 | 16) => 2,
            (2, 8 | 16) => 3,
            (6, 8 | 16) => 4,
            _ => {
                return Err(bad(&format!(
                    "has an invalid colour type {color_type} with bit depth {depth}"
                )));
            }
        };
        if data[10] != 0 || data[11] != 0 || data[12] > 1 {
            return Err(bad(
                "names an unknown compression, filter or interlace method",
            ));
        }
        Ok(Self {
            width: width.into(),
            height: height.into(),
            bits_per_pixel: channels * u64::from(depth),
            color_type,
        })
    }

    /// Checks the image data once `IEND` is reached.
    fn check_data(
        &self,
        palette: bool,
        idat_bytes: u64,
        zlib_head: &[u8],
    ) -> Result<(u64, u64), Damage> {
        if self.color_type == 3 && !palette {
            return Err(Damage::Corrupt(
                "PNG uses a palette but has no PLTE chunk".into(),
            ));
        }
        if idat_bytes == 0 {
            return Err(Damage::NoData("the PNG has no IDAT chunk".into()));
        }
        if let [cmf, flg] = *zlib_head
            && (cmf & 0x0F != 8 || (u16::from(cmf) * 256 + u16::from(flg)) % 31 != 0)
        {
            return Err(Damage::Corrupt(
                "PNG image data does not start with a zlib header".into(),
            ));
        }
        // The pixels alone, without the filter bytes, are a lower bound for either interlacing.
        let raw =
            u128::from(self.width) * u128::from(self.height) * u128::from(self.bits_per_pixel) / 8;
        let needed = raw / DEFLATE_MAX_RATIO;
        if u128::from(idat_bytes) < needed {
            return Err(Damage::TooLittleData {
                format: "PNG",
                width: self.width,
                height: self.height,
                holds: idat_bytes,
                needed: u64::try_from(needed).unwrap_or(u64::MAX),
            });
        }
        Ok((self.width, self.height))
    }
}

/// A valid, blank (black) PNG of `width` × `height` pixels: 1-bit greyscale, stored without
/// compression. The smallest honest image of that size these checks accept; for tests and
/// examples, which need real images rather than headers.
///
/// ```
/// use happyhorse_core::validate::{blank_png, check_image_bytes};
///
/// let png = blank_png(640, 480);
/// assert_eq!(check_image_bytes(&png).unwrap().width, 640);
/// // Its first 40 bytes are not an image.
/// assert_eq!(check_image_bytes(&png[..40]).unwrap_err().rule, "image_truncated");
/// ```
pub fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let row = 1 + (width as usize).div_ceil(8);
    let raw = vec![0u8; row * height as usize];
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(0xFFFF).peekable();
    if blocks.peek().is_none() {
        zlib.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let len = block.len() as u16;
        zlib.push(u8::from(blocks.peek().is_none()));
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut png = SIGNATURE.to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &zlib[..]),
        (b"IEND", &[][..]),
    ] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32fast::hash(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}
