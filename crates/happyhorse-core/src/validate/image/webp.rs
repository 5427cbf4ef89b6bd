//! WEBP's structure, walked without decoding: the RIFF size, every chunk inside it, and the
//! frame header of the image data (`VP8 ` lossy, `VP8L` lossless, under an optional `VP8X`).
//!
//! No floor on the amount of data: both codecs can describe a flat picture in a few bytes.

use super::Damage;

/// The dimensions of a structurally sound WEBP, or what is wrong with it.
pub(super) fn walk(bytes: &[u8]) -> Result<(u64, u64), Damage> {
    let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let end = declared.saturating_add(8);
    if declared < 4 {
        return Err(Damage::Corrupt(
            "WEBP's RIFF header declares no content".into(),
        ));
    }
    if end > bytes.len() {
        return Err(Damage::Truncated(format!(
            "WEBP data is truncated: its RIFF header declares {end} bytes, the file has {}",
            bytes.len()
        )));
    }
    let mut pos = 12;
    let mut canvas: Option<(u64, u64)> = None;
    let mut image: Option<(u64, u64)> = None;
    let mut frames = 0usize;
    while pos < end {
        let Some(head) = bytes.get(pos..pos + 8).filter(|_| pos + 8 <= end) else {
            return Err(Damage::Truncated(format!(
                "WEBP data is truncated: it ends inside the chunk header at byte {pos}"
            )));
        };
        let kind = &head[..4];
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let name = String::from_utf8_lossy(kind).trim_end().to_owned();
        let data_end = pos + 8 + size;
        if data_end > end {
            return Err(Damage::Truncated(format!(
                "WEBP data is truncated: the {name} chunk at byte {pos} needs {} bytes, {} remain",
                size + 8,
                end - pos
            )));
        }
        let data = &bytes[pos + 8..data_end];
        let first = pos == 12;
        match kind {
            b"VP8X" if first => canvas = Some(extended_canvas(data)?),
            b"VP8 " | b"VP8L" if image.is_none() && (first || canvas.is_some()) => {
                image = Some(if kind == b"VP8 " {
                    lossy_frame(data, pos)?
                } else {
                    lossless_frame(data)?
                });
            }
            b"ANMF" if canvas.is_some() => frames += 1,
            _ if first => {
                return Err(Damage::Corrupt(format!(
                    "WEBP starts with a {name} chunk instead of VP8, VP8L or VP8X"
                )));
            }
            _ => {}
        }
        // Chunks are padded to an even size; a missing pad byte at the very end is tolerated.
        pos = (data_end + (size & 1)).min(end);
    }
    match (canvas, image) {
        (Some(canvas), _) if image.is_some() || frames > 0 => Ok(canvas),
        (None, Some(size)) => Ok(size),
        _ => Err(Damage::NoData("the WEBP has no VP8 or VP8L chunk".into())),
    }
}

/// `VP8X`: flags, then the canvas size as two 24-bit values minus one.
fn extended_canvas(data: &[u8]) -> Result<(u64, u64), Damage> {
    if data.len() < 10 {
        return Err(Damage::Corrupt("WEBP's VP8X chunk is too short".into()));
    }
    let width = u64::from(u32::from_le_bytes([data[4], data[5], data[6], 0])) + 1;
    let height = u64::from(u32::from_le_bytes([data[7], data[8], data[9], 0])) + 1;
    Ok((width, height))
}

/// `VP8 `: a key frame's 3-byte tag (with the first partition's size), the start code, then the
/// 14-bit width and height.
fn lossy_frame(data: &[u8], at: usize) -> Result<(u64, u64), Damage> {
    if data.len() < 10 || data[3..6] != [0x9D, 0x01, 0x2A] {
        return Err(Damage::Corrupt(format!(
            "WEBP's VP8 chunk at byte {at} does not hold a key frame"
        )));
    }
    let tag = u32::from_le_bytes([data[0], data[1], data[2], 0]);
    if tag & 1 != 0 {
        return Err(Damage::Corrupt(format!(
            "WEBP's VP8 chunk at byte {at} does not hold a key frame"
        )));
    }
    let first_partition = (tag >> 5) as usize;
    if first_partition > data.len() - 10 {
        return Err(Damage::Truncated(format!(
            "WEBP data is truncated: the VP8 frame at byte {at} declares a {first_partition}-byte first partition, {} bytes remain",
            data.len() - 10
        )));
    }
    let width = u16::from_le_bytes([data[6], data[7]]) & 0x3FFF;
    let height = u16::from_le_bytes([data[8], data[9]]) & 0x3FFF;
    if width == 0 || height == 0 {
        return Err(Damage::Corrupt(format!(
            "WEBP's VP8 frame declares {width} x {height} px"
        )));
    }
    Ok((width.into(), height.into()))
}

/// `VP8L`: the signature byte 0x2F, then 14-bit width and height minus one, an alpha bit and a
/// 3-bit version that must be 0.
fn lossless_frame(data: &[u8]) -> Result<(u64, u64), Damage> {
    if data.len() < 5 || data[0] != 0x2F {
        return Err(Damage::Corrupt(
            "WEBP's VP8L chunk lacks its signature".into(),
        ));
    }
    let bits = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
    if bits >> 29 != 0 {
        return Err(Damage::Corrupt(
            "WEBP's VP8L chunk has an unknown version".into(),
        ));
    }
    let width = u64::from(bits & 0x3FFF) + 1;
    let height = u64::from((bits >> 14) & 0x3FFF) + 1;
    Ok((width, height))
}
