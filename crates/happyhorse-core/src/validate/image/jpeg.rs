//! JPEG's structure, walked without decoding: every marker segment from `SOI` to `EOI`, the
//! frame header (`SOF`) before the first scan, each scan's entropy-coded data to its end, and at
//! least as much scan data as the declared size needs.

use super::Damage;

/// The dimensions of a structurally sound JPEG, or what is wrong with it.
pub(super) fn walk(bytes: &[u8]) -> Result<(u64, u64), Damage> {
    let mut pos = 2; // after SOI, which the sniffer checked
    let mut frame: Option<Frame> = None;
    let mut scan_bytes: u64 = 0;
    let mut scans = 0usize;
    loop {
        // Stray bytes between segments are skipped, as libjpeg does (with a warning); any
        // number of 0xFF fill bytes may precede a marker.
        match bytes.get(pos..).and_then(|rest| memchr::memchr(0xFF, rest)) {
            Some(skip) => pos += skip,
            None => return Err(truncated(bytes.len(), "before its EOI marker")),
        }
        let marker_at = pos;
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(truncated(pos, "inside a marker"));
        };
        pos += 1;
        match marker {
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | 0xD8 => {
                return Err(Damage::Corrupt(format!(
                    "JPEG has a misplaced marker 0xFF{marker:02X} at byte {marker_at}"
                )));
            }
            _ => {}
        }
        let Some(length) = bytes.get(pos..pos + 2) else {
            return Err(truncated(pos, "inside a segment length"));
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if length < 2 {
            return Err(Damage::Corrupt(format!(
                "JPEG segment 0xFF{marker:02X} at byte {marker_at} has an invalid length"
            )));
        }
        let Some(segment) = bytes.get(pos + 2..pos + length) else {
            return Err(Damage::Truncated(format!(
                "JPEG data is truncated: the segment 0xFF{marker:02X} at byte {marker_at} needs {} bytes, {} remain",
                length + 2,
                bytes.len() - marker_at
            )));
        };
        pos += length;
        if is_frame_header(marker) {
            if frame.is_some() {
                return Err(Damage::Corrupt(format!(
                    "JPEG has a second frame header at byte {marker_at}"
                )));
            }
            frame = Some(Frame::read(marker, segment)?);
        } else if marker == 0xDA {
            if frame.is_none() {
                return Err(Damage::Corrupt(format!(
                    "JPEG has a scan at byte {marker_at} before its frame header (SOF)"
                )));
            }
            let end = scan_end(bytes, pos)
                .ok_or_else(|| truncated(bytes.len(), "inside its scan data, before EOI"))?;
            scan_bytes += (end - pos) as u64;
            scans += 1;
            pos = end;
        }
    }
    let Some(frame) = frame else {
        return Err(Damage::Corrupt(
            "JPEG has no frame header (SOF) giving its size".into(),
        ));
    };
    if scans == 0 {
        return Err(Damage::NoData("the JPEG has no scan (SOS)".into()));
    }
    frame.check_data(scan_bytes)
}

fn truncated(at: usize, what: &str) -> Damage {
    Damage::Truncated(format!(
        "JPEG data is truncated: it ends at byte {at}, {what}"
    ))
}

/// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
fn is_frame_header(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Where a scan's entropy-coded data ends: at the first marker that is not a stuffed zero
/// (`FF 00`), a restart marker (`FF D0`–`FF D7`) or fill; `None` when the data runs out first.
fn scan_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    loop {
        pos += memchr::memchr(0xFF, bytes.get(pos..)?)?;
        let mut next = pos + 1;
        while bytes.get(next) == Some(&0xFF) {
            next += 1;
        }
        match bytes.get(next)? {
            0x00 | 0xD0..=0xD7 => pos = next + 1,
            _ => return Some(pos),
        }
    }
}

/// The frame header's size and coding.
struct Frame {
    width: u64,
    height: u64,
    /// Huffman-coded (baseline, extended or progressive DCT): every 8 × 8 block costs at least
    /// one bit (its DC code), which gives a floor on the scan data.
    huffman_dct: bool,
}

impl Frame {
    fn read(marker: u8, segment: &[u8]) -> Result<Self, Damage> {
        if segment.len() < 6 {
            return Err(Damage::Corrupt(
                "JPEG frame header (SOF) is too short".into(),
            ));
        }
        let height = u16::from_be_bytes([segment[1], segment[2]]);
        let width = u16::from_be_bytes([segment[3], segment[4]]);
        let components = usize::from(segment[5]);
        if components == 0 || segment.len() < 6 + 3 * components {
            return Err(Damage::Corrupt(
                "JPEG frame header (SOF) lists its components wrongly".into(),
            ));
        }
        if width == 0 || height == 0 {
            return Err(Damage::Corrupt(format!(
                "JPEG frame header (SOF) declares {width} x {height} px"
            )));
        }
        Ok(Self {
            width: width.into(),
            height: height.into(),
            huffman_dct: matches!(marker, 0xC0..=0xC2),
        })
    }

    fn check_data(&self, scan_bytes: u64) -> Result<(u64, u64), Damage> {
        let blocks = self.width.div_ceil(8) * self.height.div_ceil(8);
        let needed = blocks / 8;
        if self.huffman_dct && scan_bytes < needed {
            return Err(Damage::TooLittleData {
                format: "JPEG",
                width: self.width,
                height: self.height,
                holds: scan_bytes,
                needed,
            });
        }
        Ok((self.width, self.height))
    }
}
