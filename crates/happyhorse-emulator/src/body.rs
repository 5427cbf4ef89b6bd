//! The response body type: whole bytes, a synthetic byte stream, or a body cut short on purpose.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Size of the chunks a synthetic body is sent in.
const CHUNK: u64 = 64 * 1024;

/// The byte at `position` of every synthetic file: a cheap pattern a download test can verify
/// at any offset (so ranged and resumed downloads are checkable).
pub fn synthetic_byte(position: u64) -> u8 {
    (position.wrapping_mul(31) ^ (position >> 9)) as u8
}

/// A response body.
#[derive(Debug)]
pub(crate) enum EmuBody {
    Full(Option<Bytes>),
    /// `synthetic_byte(start..end)`, generated chunk by chunk.
    Synthetic {
        next: u64,
        end: u64,
    },
    /// Sends at most `allowed` bytes of `inner`, then fails so the connection is dropped mid-body.
    Truncated {
        inner: Box<EmuBody>,
        allowed: u64,
        /// Whether the server has had its chance to flush what was sent before the failure.
        flushed: bool,
    },
}

impl EmuBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        EmuBody::Full(Some(bytes.into()))
    }

    pub(crate) fn empty() -> Self {
        EmuBody::Full(None)
    }

    /// How many bytes the body would carry if sent in full.
    pub(crate) fn len(&self) -> u64 {
        match self {
            EmuBody::Full(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            EmuBody::Synthetic { next, end } => end - next,
            EmuBody::Truncated { inner, .. } => inner.len(),
        }
    }

    /// Cuts the body to half its length (at least one byte short).
    pub(crate) fn truncate(self) -> Self {
        let allowed = (self.len() / 2).min(self.len().saturating_sub(1));
        EmuBody::Truncated {
            inner: Box::new(self),
            allowed,
            flushed: false,
        }
    }
}

impl Body for EmuBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        match this {
            EmuBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            EmuBody::Synthetic { next, end } => {
                if next >= end {
                    return Poll::Ready(None);
                }
                let stop = (*next + CHUNK).min(*end);
                let chunk: Vec<u8> = (*next..stop).map(synthetic_byte).collect();
                *next = stop;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
            }
            EmuBody::Truncated {
                inner,
                allowed,
                flushed,
            } => {
                if *allowed == 0 {
                    if !*flushed {
                        // hyper drops its write buffer when a body fails; pausing once makes it
                        // flush the part already sent, so the client really sees a short body.
                        *flushed = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "body truncated on purpose (injected fault)",
                    ))));
                }
                match Pin::new(inner.as_mut()).poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => {
                        let frame = match frame.into_data() {
                            Ok(mut data) => {
                                if data.len() as u64 > *allowed {
                                    data.truncate(*allowed as usize);
                                }
                                *allowed -= data.len() as u64;
                                Frame::data(data)
                            }
                            Err(frame) => frame,
                        };
                        Poll::Ready(Some(Ok(frame)))
                    }
                    other => other,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            EmuBody::Full(bytes) => bytes.is_none(),
            EmuBody::Synthetic { next, end } => next >= end,
            EmuBody::Truncated { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            // No exact hint: hyper then uses the Content-Length header the handler set, and
            // aborts the connection when the body fails short of it.
            EmuBody::Truncated { .. } => SizeHint::default(),
            other => SizeHint::with_exact(other.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn synthetic_body_has_the_pattern_and_length() {
        let body = EmuBody::Synthetic {
            next: 10,
            end: 200_010,
        };
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 200_000);
        assert!(
            bytes
                .iter()
                .enumerate()
                .all(|(i, b)| *b == synthetic_byte(i as u64 + 10))
        );
    }

    #[tokio::test]
    async fn truncated_body_fails_after_half() {
        let mut body = EmuBody::full(vec![7u8; 100]).truncate();
        let mut received = 0;
        let error = loop {
            match body.frame().await {
                Some(Ok(frame)) => received += frame.into_data().unwrap().len(),
                Some(Err(error)) => break error,
                None => panic!("a truncated body must not end cleanly"),
            }
        };
        assert_eq!(received, 50);
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
    }
}
