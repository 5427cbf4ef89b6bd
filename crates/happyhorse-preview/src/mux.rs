//! The MP4 around the AV1 stream: `ftyp`, `moov` (before the data, so a player can start at
//! once), one `mdat`; one video track with an `av01` sample entry and its `av1C`.

use mp4_atom::{
    Av01, Av1c, Dinf, Dref, Encode, FourCC, Ftyp, Hdlr, Matrix, Mdat, Mdhd, Mdia, Minf, Moov, Mvhd,
    Stbl, Stco, Stsc, StscEntry, Stsd, Stss, Stsz, StszSamples, Stts, SttsEntry, Tkhd, Trak, Url,
    Visual, Vmhd,
};

use super::encode::Stream;
use super::{FPS, PreviewError};

/// Media time units per second: 512 per frame at 24 fps (as ffmpeg writes it).
const TIMESCALE: u32 = FPS * 512;
/// Movie time units per second (`mvhd`, `tkhd`).
const MOVIE_TIMESCALE: u32 = 1000;

fn failed(error: impl std::fmt::Display) -> PreviewError {
    PreviewError::new(format!("the MP4 could not be written: {error}"))
}

/// Wraps the stream in an MP4 of `width`×`height`.
pub(crate) fn mp4(stream: &Stream, width: u32, height: u32) -> Result<Vec<u8>, PreviewError> {
    let frames = u32::try_from(stream.samples.len()).map_err(failed)?;
    let (w16, h16) = (
        u16::try_from(width).map_err(failed)?,
        u16::try_from(height).map_err(failed)?,
    );
    let ftyp = Ftyp {
        major_brand: FourCC::new(b"isom"),
        minor_version: 512,
        compatible_brands: [b"isom", b"iso6", b"av01", b"mp41"]
            .iter()
            .map(|b| FourCC::new(b))
            .collect(),
    };
    let mut moov = moov(stream, frames, w16, h16, 0);
    let mut head = Vec::new();
    ftyp.encode(&mut head).map_err(failed)?;
    let ftyp_len = head.len();
    moov.encode(&mut head).map_err(failed)?;
    // The one chunk starts after ftyp, moov and the 8-byte mdat header; moov's size does not
    // depend on the offset (a 32-bit `stco` entry either way).
    let offset = u32::try_from(head.len() + 8).map_err(failed)?;
    moov = self::moov(stream, frames, w16, h16, offset);
    head.truncate(ftyp_len);
    moov.encode(&mut head).map_err(failed)?;
    let data: Vec<u8> = stream
        .samples
        .iter()
        .flat_map(|(bytes, _)| bytes.iter().copied())
        .collect();
    let mut out = head;
    Mdat { data }.encode(&mut out).map_err(failed)?;
    Ok(out)
}

fn moov(stream: &Stream, frames: u32, width: u16, height: u16, chunk_offset: u32) -> Moov {
    let media_duration = u64::from(frames) * u64::from(TIMESCALE / FPS);
    let movie_duration = u64::from(frames) * u64::from(MOVIE_TIMESCALE) / u64::from(FPS);
    let sync: Vec<u32> = (1..)
        .zip(&stream.samples)
        .filter(|(_, (_, key))| *key)
        .map(|(index, _)| index)
        .collect();
    let av01 = Av01 {
        visual: Visual {
            data_reference_index: 1,
            width,
            height,
            horizresolution: 72.into(),
            vertresolution: 72.into(),
            frame_count: 1,
            compressor: "AV1 (rav1e)".into(),
            depth: 24,
        },
        av1c: Av1c {
            seq_profile: 0,
            seq_level_idx_0: 8,
            seq_tier_0: false,
            high_bitdepth: false,
            twelve_bit: false,
            monochrome: false,
            chroma_subsampling_x: true,
            chroma_subsampling_y: true,
            chroma_sample_position: 0,
            initial_presentation_delay: None,
            config_obus: stream.sequence_header.clone(),
        },
        ..Default::default()
    };
    Moov {
        mvhd: Mvhd {
            timescale: MOVIE_TIMESCALE,
            duration: movie_duration,
            rate: 1.into(),
            volume: 1.into(),
            matrix: Matrix::default(),
            next_track_id: 2,
            ..Default::default()
        },
        trak: vec![Trak {
            tkhd: Tkhd {
                track_id: 1,
                duration: movie_duration,
                enabled: true,
                in_movie: true,
                matrix: Matrix::default(),
                width: width.into(),
                height: height.into(),
                ..Default::default()
            },
            mdia: Mdia {
                mdhd: Mdhd {
                    timescale: TIMESCALE,
                    duration: media_duration,
                    language: "und".into(),
                    ..Default::default()
                },
                hdlr: Hdlr {
                    handler: FourCC::new(b"vide"),
                    name: "happyhorse emulator preview".into(),
                },
                minf: Minf {
                    vmhd: Some(Vmhd::default()),
                    dinf: Dinf {
                        dref: Dref {
                            entries: vec![
                                Url {
                                    location: String::new(),
                                }
                                .into(),
                            ],
                        },
                    },
                    stbl: Stbl {
                        stsd: Stsd {
                            codecs: vec![av01.into()],
                        },
                        stts: Stts {
                            entries: vec![SttsEntry {
                                sample_count: frames,
                                sample_delta: TIMESCALE / FPS,
                            }],
                        },
                        stss: Some(Stss { entries: sync }),
                        stsc: Stsc {
                            entries: vec![StscEntry {
                                first_chunk: 1,
                                samples_per_chunk: frames,
                                sample_description_index: 1,
                            }],
                        },
                        stsz: Stsz {
                            samples: StszSamples::Different {
                                sizes: stream
                                    .samples
                                    .iter()
                                    .map(|(bytes, _)| bytes.len() as u32)
                                    .collect(),
                            },
                        },
                        stco: Some(Stco {
                            entries: vec![chunk_offset],
                        }),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }],
        ..Default::default()
    }
}
