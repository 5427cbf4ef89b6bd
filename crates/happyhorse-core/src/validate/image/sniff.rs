//! What a file is, by its first bytes: one of the three accepted formats, or the name of the
//! format it is instead ("GIF", "HEIF", "PDF"), so a refusal can say "got GIF" rather than a
//! string of hex.

use super::ImageFormat;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// An accepted format (its structure is still to be checked).
    Accepted(ImageFormat),
    /// A recognised format the models do not take, by its usual name.
    Other(&'static str),
    /// Nothing recognisable.
    Unknown,
}

/// Reads the signature at the start of `bytes`.
pub(super) fn sniff(bytes: &[u8]) -> Sniffed {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    let starts = |prefix: &[u8]| bytes.starts_with(prefix);
    if starts(PNG) {
        return Sniffed::Accepted(ImageFormat::Png);
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Accepted(ImageFormat::Jpeg);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Sniffed::Accepted(ImageFormat::Webp);
    }
    Sniffed::Other(match () {
        () if starts(b"GIF87a") || starts(b"GIF89a") => "GIF",
        () if starts(b"BM") && bytes.len() >= 26 && bytes.get(6..10) == Some(&[0; 4]) => "BMP",
        () if starts(b"II*\0") || starts(b"MM\0*") => "TIFF",
        () if starts(b"II\x2B\0") || starts(b"MM\0\x2B") => "BigTIFF",
        () if starts(&[0, 0, 1, 0]) && bytes.len() >= 6 => "ICO",
        () if starts(b"8BPS") => "PSD (Photoshop)",
        () if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0CJXL \r\n\x87\n") => "JPEG XL",
        () if starts(b"\0\0\0\x0CjP  \r\n\x87\n") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) => {
            "JPEG 2000"
        }
        () if starts(b"qoif") => "QOI",
        () if starts(b"%PDF") => "PDF",
        () if starts(b"RIFF") && bytes.get(8..12) == Some(b"AVI ") => "AVI video",
        () if starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") => "WAV audio",
        () if bytes.get(4..8) == Some(b"ftyp") => return iso_media(bytes),
        () if starts(&[0x1A, 0x45, 0xDF, 0xA3]) => "Matroska/WebM video",
        () if starts(b"PK\x03\x04") => "ZIP archive",
        () if starts(&[0x1F, 0x8B]) => "gzip archive",
        () if looks_like_svg(bytes) => "SVG",
        () => return Sniffed::Unknown,
    })
}

/// ISO base media files (`ftyp` box): HEIF/HEIC and AVIF images, or MP4/QuickTime videos.
fn iso_media(bytes: &[u8]) -> Sniffed {
    let brand = bytes.get(8..12).unwrap_or_default();
    Sniffed::Other(match brand {
        b"avif" | b"avis" => "AVIF",
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => "HEIF",
        b"qt  " => "QuickTime video",
        _ => "MP4 video",
    })
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named() {
        for (bytes, expected) in [
            (&b"GIF89a\x01\x00\x01\x00"[..], Sniffed::Other("GIF")),
            (b"II*\0\x08\0\0\0", Sniffed::Other("TIFF")),
            (b"\0\0\0\x1cftypheic\0\0\0\0", Sniffed::Other("HEIF")),
            (b"\0\0\0\x1cftypavif\0\0\0\0", Sniffed::Other("AVIF")),
            (b"\0\0\0\x1cftypisom\0\0\0\0", Sniffed::Other("MP4 video")),
            (b"%PDF-1.7", Sniffed::Other("PDF")),
            (
                b"  <svg xmlns='http://www.w3.org/2000/svg'>",
                Sniffed::Other("SVG"),
            ),
            (b"\x89PNG\r\n\x1a\n", Sniffed::Accepted(ImageFormat::Png)),
            (b"\xFF\xD8\xFF\xE0", Sniffed::Accepted(ImageFormat::Jpeg)),
            (
                b"RIFF\0\0\0\0WEBPVP8 ",
                Sniffed::Accepted(ImageFormat::Webp),
            ),
            (b"not an image", Sniffed::Unknown),
            (b"", Sniffed::Unknown),
        ] {
            assert_eq!(sniff(bytes), expected, "{bytes:?}");
        }
    }
}
