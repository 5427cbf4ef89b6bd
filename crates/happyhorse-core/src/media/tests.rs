//! The completeness checks against a real MP4, every way of cutting it, hand-built edge cases
//! (64-bit sizes, size-0 boxes, `uuid` headers) and arbitrary bytes.

use std::io::Cursor;

use proptest::prelude::*;

use super::mp4::{self, FourCc, Mp4Error};
use super::{MediaFormat, NotWhole, check_whole};

/// The emulator's output: `ftyp`, `mdat`, `moov` (index at the end, as most encoders write it).
const HORSE: &[u8] = include_bytes!("../../../happyhorse-emulator/fixtures/horse.mp4");

fn mp4_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
    let mut b = u32::try_from(8 + payload).unwrap().to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.resize(8 + payload, 0xab);
    b
}

fn large_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
    let mut b = 1u32.to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(&(16 + payload as u64).to_be_bytes());
    b.resize(16 + payload, 0xcd);
    b
}

fn check(bytes: &[u8]) -> Result<mp4::Layout, Mp4Error> {
    mp4::check_whole(&mut Cursor::new(bytes), bytes.len() as u64)
}

#[test]
fn the_fixture_is_whole_and_every_cut_of_it_is_not() {
    let layout = check(HORSE).unwrap();
    let kinds: Vec<String> = layout.boxes.iter().map(|b| b.kind.to_string()).collect();
    assert_eq!(kinds, ["ftyp", "mdat", "moov"]);
    assert!(!layout.open_ended);
    for len in 0..HORSE.len() {
        let err = check(&HORSE[..len]).expect_err(&format!("a cut at {len} passed"));
        let expected = match len {
            0..8 => matches!(err, Mp4Error::NoFtyp { first: None }),
            // Cut exactly after `ftyp` or `mdat`: whole boxes, but the index is gone.
            32 | 210_402 => matches!(err, Mp4Error::NoMoov),
            _ => matches!(err, Mp4Error::Truncated { .. }),
        };
        assert!(expected, "cut at {len}: {err}");
    }
}

#[test]
fn a_64_bit_largesize_is_read_and_checked() {
    let file = [
        mp4_box(b"ftyp", 8),
        large_box(b"mdat", 5000),
        mp4_box(b"moov", 40),
    ]
    .concat();
    let layout = check(&file).unwrap();
    assert_eq!(layout.boxes[1].header_len, 16);
    assert_eq!(layout.boxes[1].size, Some(5016));
    // Cut inside the largesize field itself, then inside the payload.
    for len in [20, 26, 1000] {
        assert!(
            matches!(check(&file[..len]), Err(Mp4Error::Truncated { .. })),
            "{len}"
        );
    }
    // A largesize far past any file: cut short, no overflow.
    let mut huge = file.clone();
    huge[24..32].copy_from_slice(&u64::MAX.to_be_bytes());
    let err = check(&huge).unwrap_err();
    assert!(
        matches!(
            err,
            Mp4Error::Truncated {
                declared_end: u64::MAX,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_size_0_last_box_runs_to_the_end_and_is_flagged_open_ended() {
    let mut open = mp4_box(b"mdat", 300);
    open[..4].copy_from_slice(&0u32.to_be_bytes());
    let file = [mp4_box(b"ftyp", 8), mp4_box(b"moov", 40), open].concat();
    let layout = check(&file).unwrap();
    assert!(layout.open_ended);
    assert_eq!(layout.boxes[2].size, None);
    assert_eq!(layout.boxes[2].end(file.len() as u64), file.len() as u64);
    // A cut inside it still "passes" the walk: exactly why open_ended needs another proof.
    assert!(check(&file[..file.len() - 100]).unwrap().open_ended);
}

#[test]
fn required_boxes_and_sizes() {
    let ftyp = mp4_box(b"ftyp", 8);
    let no_ftyp = [mp4_box(b"moov", 8), mp4_box(b"mdat", 8)].concat();
    assert!(matches!(
        check(&no_ftyp),
        Err(Mp4Error::NoFtyp { first: Some(FourCc(k)) }) if &k == b"moov"
    ));
    let html = b"<!DOCTYPE html><html>error</html>";
    let err = check(html).unwrap_err();
    assert!(err.to_string().contains("not an MP4 file"), "{err}");
    assert!(matches!(
        check(&[ftyp.clone(), mp4_box(b"mdat", 8)].concat()),
        Err(Mp4Error::NoMoov)
    ));
    assert!(matches!(
        check(&[ftyp.clone(), mp4_box(b"moov", 8)].concat()),
        Err(Mp4Error::NoMdat)
    ));
    // A size smaller than the header would loop forever or walk backwards.
    let mut tiny = mp4_box(b"free", 8);
    tiny[..4].copy_from_slice(&4u32.to_be_bytes());
    assert!(matches!(
        check(&[ftyp.clone(), tiny].concat()),
        Err(Mp4Error::BadSize { size: 4, .. })
    ));
    // `uuid` boxes carry 16 more header bytes; a uuid box of 20 bytes is impossible.
    let uuid = mp4_box(b"uuid", 16);
    let ok = [ftyp.clone(), uuid, mp4_box(b"moov", 8), mp4_box(b"mdat", 8)].concat();
    assert_eq!(check(&ok).unwrap().boxes[1].header_len, 24);
    let bad = [
        ftyp,
        mp4_box(b"uuid", 12),
        mp4_box(b"moov", 8),
        mp4_box(b"mdat", 8),
    ]
    .concat();
    assert!(matches!(
        check(&bad),
        Err(Mp4Error::BadSize { size: 20, .. })
    ));
}

#[test]
fn box_types_are_escaped_in_messages() {
    let file = [mp4_box(b"ftyp", 8), mp4_box(b"\x1b[2J", 8)].concat();
    let err = check(&file[..26]).unwrap_err().to_string();
    assert!(err.contains("\\x1b[2J"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
}

#[test]
fn images_are_whole_only_with_their_ending() {
    let png = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &[7; 30],
        b"\0\0\0\0IEND\xaeB`\x82",
    ]
    .concat();
    let jpeg = [&b"\xff\xd8\xff\xe0"[..], &[7; 30], b"\xff\xd9"].concat();
    let gif = [&b"GIF89a"[..], &[7; 30], b"\x3b"].concat();
    let mut webp = [&b"RIFF\0\0\0\0WEBPVP8 "[..], &[7; 30]].concat();
    let riff = u32::try_from(webp.len() - 8).unwrap();
    webp[4..8].copy_from_slice(&riff.to_le_bytes());
    for (format, file) in [
        (MediaFormat::Png, &png),
        (MediaFormat::Jpeg, &jpeg),
        (MediaFormat::Gif, &gif),
        (MediaFormat::Webp, &webp),
    ] {
        let whole = check_whole(&mut Cursor::new(file), file.len() as u64).unwrap();
        assert_eq!(whole.format, format);
        for len in 12..file.len() {
            let err = check_whole(&mut Cursor::new(&file[..len]), len as u64).unwrap_err();
            assert!(
                matches!(err, NotWhole::Incomplete { format: f, .. } if f == format),
                "{format} cut at {len}: {err}"
            );
        }
    }
    let text = b"just some text, no format at all";
    assert!(matches!(
        check_whole(&mut Cursor::new(text), text.len() as u64),
        Err(NotWhole::Unrecognised)
    ));
    let whole = check_whole(&mut Cursor::new(HORSE), HORSE.len() as u64).unwrap();
    assert_eq!(whole.format, MediaFormat::Mp4);
}

proptest! {
    /// Hostile bytes end in an answer, never a panic or a hang.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = check(&bytes);
        let _ = check_whole(&mut Cursor::new(&bytes), bytes.len() as u64);
        // Claiming more length than there is: a reader that ends early is a cut file.
        let _ = mp4::check_whole(&mut Cursor::new(&bytes), bytes.len() as u64 + 1000);
    }

    /// A cut inside any box of a well-formed file is always caught.
    #[test]
    fn a_cut_inside_a_box_is_caught(
        middle in proptest::collection::vec((0usize..3, 0usize..200, any::<bool>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut boxes = vec![mp4_box(b"ftyp", 8), mp4_box(b"moov", 20), mp4_box(b"mdat", 50)];
        for (kind, payload, large) in middle {
            let kind = [b"free", b"skip", b"mdat"][kind];
            boxes.push(if large { large_box(kind, payload) } else { mp4_box(kind, payload) });
        }
        let mut ends = Vec::new();
        let mut end = 0;
        for b in &boxes {
            end += b.len();
            ends.push(end);
        }
        let file = boxes.concat();
        prop_assert!(check(&file).is_ok());
        let len = cut.index(file.len());
        if !ends.contains(&len) {
            prop_assert!(check(&file[..len]).is_err(), "cut at {} passed", len);
        }
    }
}
