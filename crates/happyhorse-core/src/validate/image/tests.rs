//! The structural checks: every way a file can be an image's header without being the image,
//! each refused with its rule, and no input at all that makes them panic.

use proptest::prelude::*;

use super::*;

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32fast::hash(&out[4..]).to_be_bytes());
    out
}

fn png_of(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out
}

fn ihdr(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
    let mut data = width.to_be_bytes().to_vec();
    data.extend_from_slice(&height.to_be_bytes());
    data.extend_from_slice(&[depth, color, 0, 0, 0]);
    chunk(b"IHDR", &data)
}

/// A structurally whole baseline JPEG: SOI, SOF0 (one component), SOS, `scan` bytes of entropy
/// data, EOI. The entropy data is zeros: framing is what the walk checks.
pub(crate) fn jpeg(width: u16, height: u16, scan: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[1, 1, 0x11, 0]);
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
    out.extend(std::iter::repeat_n(0u8, scan));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A whole JPEG of the given size with the least scan data a Huffman-coded one can have.
pub(crate) fn jpeg_fit(width: u16, height: u16) -> Vec<u8> {
    let blocks = usize::from(width).div_ceil(8) * usize::from(height).div_ceil(8);
    jpeg(width, height, blocks / 8 + 1)
}

fn riff(chunks: &[u8]) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + chunks.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(chunks);
    out
}

fn webp_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A lossless WEBP frame header of the given size (and a few bytes of "data").
pub(crate) fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
    let packed = (width - 1) | ((height - 1) << 14);
    let mut data = vec![0x2F];
    data.extend_from_slice(&packed.to_le_bytes());
    data.extend_from_slice(&[0; 8]);
    riff(&webp_chunk(b"VP8L", &data))
}

/// A lossy WEBP key frame header of the given size, with `partition` bytes after it.
fn webp_lossy(width: u16, height: u16, partition: u32, extra: usize) -> Vec<u8> {
    let tag = partition << 5 | 0b10000; // key frame, version 0, shown
    let mut data = tag.to_le_bytes()[..3].to_vec();
    data.extend_from_slice(&[0x9D, 0x01, 0x2A]);
    data.extend_from_slice(&width.to_le_bytes());
    data.extend_from_slice(&height.to_le_bytes());
    data.extend(std::iter::repeat_n(0u8, extra));
    riff(&webp_chunk(b"VP8 ", &data))
}

fn rule_of(bytes: &[u8]) -> String {
    check_image_bytes(bytes).unwrap_err().rule
}

#[test]
fn real_structures_are_accepted() {
    for (name, bytes, format, size) in [
        ("png", blank_png(1280, 720), ImageFormat::Png, (1280, 720)),
        ("jpeg", jpeg_fit(300, 750), ImageFormat::Jpeg, (300, 750)),
        (
            "webp lossless",
            webp_lossless(750, 300),
            ImageFormat::Webp,
            (750, 300),
        ),
        (
            "webp lossy",
            webp_lossy(640, 480, 4, 8),
            ImageFormat::Webp,
            (640, 480),
        ),
    ] {
        let info = check_image_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (info.format, info.width, info.height),
            (format, size.0, size.1),
            "{name}"
        );
        assert_eq!(info.bytes, bytes.len());
    }
    // An extended WEBP: VP8X canvas, then the frame.
    let mut vp8x = vec![0x10, 0, 0, 0];
    vp8x.extend_from_slice(&[0xFF, 0x03, 0x00, 0xFF, 0x03, 0x00]); // 1024 x 1024
    let mut frame = vec![0x2F];
    frame.extend_from_slice(&(1023u32 | (1023 << 14)).to_le_bytes());
    let mut chunks = webp_chunk(b"VP8X", &vp8x);
    chunks.extend(webp_chunk(b"ALPH", &[0, 1, 2]));
    chunks.extend(webp_chunk(b"VP8L", &frame));
    let info = check_image_bytes(&riff(&chunks)).unwrap();
    assert_eq!((info.width, info.height), (1024, 1024));
    // Data after the end of the image (as some cameras append) is not the image's business.
    let mut trailing = blank_png(400, 400);
    trailing.extend_from_slice(b"trailer");
    assert!(check_image_bytes(&trailing).is_ok());
}

#[test]
fn the_issues_png_header_of_100000_squared_in_68_bytes_is_refused() {
    let bytes = png_of(&[
        ihdr(100_000, 100_000, 8, 2),
        chunk(b"IDAT", &[0x78, 0x01, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1]),
        chunk(b"IEND", &[]),
    ]);
    assert_eq!(bytes.len(), 68);
    let error = check_image_bytes(&bytes).unwrap_err();
    assert_eq!(error.rule, "image_data_size");
    assert_eq!(
        error.to_string(),
        "image: must hold the image data its size needs (declared 100000 x 100000 px but holds \
         11 bytes of PNG image data; at least 29,069,767 are needed), got 68 bytes"
    );
}

#[test]
fn broken_pngs_are_refused_with_their_rule() {
    let good = blank_png(1000, 1000);
    // The first 40 bytes of a real PNG: the IDAT chunk header promises more than there is.
    let first_40 = check_image_bytes(&good[..40]).unwrap_err();
    assert_eq!(first_40.rule, "image_truncated");
    assert!(
        first_40.message.contains("PNG data is truncated"),
        "{first_40}"
    );
    assert_eq!(rule_of(&good[..good.len() - 12]), "image_truncated"); // no IEND
    let no_data = png_of(&[ihdr(1000, 1000, 8, 2), chunk(b"IEND", &[])]);
    let error = check_image_bytes(&no_data).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "image: must hold image data (the PNG has no IDAT chunk), got {} bytes",
            no_data.len()
        )
    );
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let error = check_image_bytes(&flipped).unwrap_err();
    assert_eq!(error.rule, "image_corrupt");
    assert!(error.message.contains("fails its CRC check"), "{error}");
    for (name, chunks) in [
        (
            "IDAT first",
            vec![chunk(b"IDAT", &[0x78, 1]), chunk(b"IEND", &[])],
        ),
        ("bad depth", vec![ihdr(400, 400, 3, 2), chunk(b"IEND", &[])]),
        ("zero width", vec![ihdr(0, 400, 8, 2), chunk(b"IEND", &[])]),
        (
            "palette without PLTE",
            vec![
                ihdr(400, 400, 8, 3),
                chunk(b"IDAT", &[0x78, 1]),
                chunk(b"IEND", &[]),
            ],
        ),
        (
            "not zlib",
            vec![
                ihdr(400, 400, 8, 2),
                chunk(b"IDAT", &[0; 200]),
                chunk(b"IEND", &[]),
            ],
        ),
        (
            "unknown critical chunk",
            vec![
                ihdr(400, 400, 8, 2),
                chunk(b"CgBI", &[0; 4]),
                chunk(b"IEND", &[]),
            ],
        ),
    ] {
        assert_eq!(rule_of(&png_of(&chunks)), "image_corrupt", "{name}");
    }
}

#[test]
fn broken_jpegs_are_refused_with_their_rule() {
    // The issue's case: a JPEG that is only its size marker.
    let mut sof_only = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08];
    sof_only.extend_from_slice(&[0x03, 0x20, 0x04, 0xB0, 1, 1, 0x11, 0]);
    let error = check_image_bytes(&sof_only).unwrap_err();
    assert_eq!(error.rule, "image_truncated");
    assert!(error.message.contains("JPEG data is truncated"), "{error}");

    let good = jpeg_fit(1200, 800);
    assert_eq!(rule_of(&good[..good.len() - 2]), "image_truncated"); // no EOI
    assert_eq!(rule_of(&good[..20]), "image_truncated"); // inside the SOF
    let error = check_image_bytes(&jpeg(10_000, 10_000, 10)).unwrap_err();
    assert_eq!(error.rule, "image_data_size");
    assert!(
        error
            .message
            .contains("declared 10000 x 10000 px but holds 10 bytes of JPEG image data"),
        "{error}"
    );
    let no_scan = [
        0xFF, 0xD8, 0xFF, 0xC0, 0, 0x0B, 8, 1, 0, 1, 0, 1, 1, 0x11, 0, 0xFF, 0xD9,
    ];
    assert_eq!(rule_of(&no_scan), "image_no_data");
    let scan_first = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0, 0xFF, 0xD9];
    assert_eq!(rule_of(&scan_first), "image_corrupt");
    // Stuffed zeros and restart markers inside a scan do not end it.
    let mut stuffed = jpeg_fit(400, 400);
    let at = stuffed.len() - 10;
    stuffed[at..at + 4].copy_from_slice(&[0xFF, 0x00, 0xFF, 0xD3]);
    assert!(check_image_bytes(&stuffed).is_ok());
}

#[test]
fn broken_webps_are_refused_with_their_rule() {
    let good = webp_lossless(800, 600);
    assert_eq!(rule_of(&good[..good.len() - 1]), "image_truncated");
    let error = check_image_bytes(&good[..16]).unwrap_err();
    assert!(error.message.contains("WEBP data is truncated"), "{error}");
    let partition_too_big = webp_lossy(640, 480, 1000, 8);
    assert_eq!(rule_of(&partition_too_big), "image_truncated");
    assert_eq!(
        rule_of(&riff(&webp_chunk(b"EXIF", &[0; 4]))),
        "image_corrupt"
    );
    let mut vp8x = vec![0x10, 0, 0, 0];
    vp8x.extend_from_slice(&[0xFF, 0x03, 0x00, 0xFF, 0x03, 0x00]);
    assert_eq!(rule_of(&riff(&webp_chunk(b"VP8X", &vp8x))), "image_no_data");
    let mut bad_signature = webp_lossless(800, 600);
    bad_signature[20] = 0x2E;
    assert_eq!(rule_of(&bad_signature), "image_corrupt");
}

#[test]
fn other_formats_are_named() {
    let gif = check_image_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00").unwrap_err();
    assert_eq!(
        (gif.rule.as_str(), gif.value.as_str()),
        ("image_format", "GIF")
    );
    let heic = check_image_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap_err();
    assert_eq!(heic.value, "HEIF");
    let text = check_image_bytes(b"not an image").unwrap_err();
    assert_eq!(text.value, "12 bytes starting 6e6f7420616e2069");
    assert_eq!(check_image_bytes(&[]).unwrap_err().value, "no bytes");
}

#[test]
fn the_size_limit_is_exactly_10_000_000_bytes() {
    assert_eq!(IMAGE_MAX_BYTES, 10_000_000);
    let mut at_limit = blank_png(2000, 2000);
    // Pad with an ancillary chunk up to exactly the limit.
    let pad = IMAGE_MAX_BYTES - at_limit.len() - 12;
    let iend = at_limit.split_off(at_limit.len() - 12);
    at_limit.extend(chunk(b"tEXt", &vec![b'a'; pad]));
    at_limit.extend(iend);
    assert_eq!(at_limit.len(), IMAGE_MAX_BYTES);
    assert!(check_image_bytes(&at_limit).is_ok());
    at_limit.push(0);
    let error = check_image_bytes(&at_limit).unwrap_err();
    assert_eq!(error.rule, "image_max_bytes");
    assert_eq!(
        error.to_string(),
        "image: must be at most 10 MB (10,000,000 bytes), got 10.00 MB (10,000,001 bytes)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_bytes_make_the_checks_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = check_image_bytes(&bytes);
        // Also behind each signature, where the walks start.
        for signature in [&b"\x89PNG\r\n\x1a\n"[..], &[0xFF, 0xD8, 0xFF], b"RIFF\x40\0\0\0WEBP"] {
            let mut framed = signature.to_vec();
            framed.extend_from_slice(&bytes);
            let _ = check_image_bytes(&framed);
        }
    }

    #[test]
    fn every_cut_of_a_whole_image_is_refused(cut in 0usize..10_000, which in 0usize..3) {
        let whole = match which {
            0 => blank_png(400, 300),
            1 => jpeg_fit(400, 300),
            _ => webp_lossless(400, 300),
        };
        let cut = cut % whole.len();
        prop_assert!(check_image_bytes(&whole[..cut]).is_err(), "{} of {} bytes accepted", cut, whole.len());
    }
}
