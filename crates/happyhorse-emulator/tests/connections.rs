//! The emulator stays bounded: at most `max_connections` connections are held at once (the rest
//! wait, unanswered, until one closes), and a connection that sends no complete request header
//! within the header-read timeout is closed.
//!
//! Every wait here is on an event (a counter in the stats, an answer, an end of stream), bounded
//! only so that a regression fails instead of hanging.

use std::time::Duration;

use happyhorse_emulator::{Emulator, RunningEmulator, StatsSnapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits until the emulator's stats satisfy `done` (polled; at most about 20 s).
async fn stats_until(
    emulator: &RunningEmulator,
    done: impl Fn(&StatsSnapshot) -> bool,
) -> StatsSnapshot {
    for _ in 0..2000 {
        let stats = emulator.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the stats never reached the expected state: {:?}",
        emulator.stats().connections
    );
}

/// Reads until the peer closes; bounded so a regression fails instead of hanging.
async fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer))
        .await
        .expect("the emulator never closed the connection")
        .ok();
    answer
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_and_are_then_served_in_turn() {
    let emulator = Emulator::builder()
        .max_connections(2)
        .start()
        .await
        .unwrap();
    let mut streams = Vec::new();
    for _ in 0..5 {
        streams.push(TcpStream::connect(emulator.addr()).await.unwrap());
    }
    // All five are connected (the kernel completed them); the emulator took only two.
    stats_until(&emulator, |s| s.connections.accepted_total == 2).await;
    let request = b"GET /__emulator/stats HTTP/1.1\r\nhost: emulator\r\nconnection: close\r\n\r\n";
    for stream in &mut streams {
        stream.write_all(request).await.unwrap();
    }
    for (i, stream) in streams.iter_mut().enumerate() {
        let answer = read_to_end(stream).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "connection {i}: {:?} {}",
            emulator.stats().connections,
            String::from_utf8_lossy(&answer)
        );
    }
    let stats = stats_until(&emulator, |s| s.connections.open == 0).await;
    assert_eq!(stats.connections.accepted_total, 5);
    assert_eq!(stats.connections.peak, 2, "{:?}", stats.connections);
    emulator.shutdown().await;
}

#[tokio::test]
async fn idle_and_slow_connections_are_closed_after_the_header_read_timeout() {
    let emulator = Emulator::builder()
        .header_read_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    // Idle: connects and sends nothing.
    let mut idle = TcpStream::connect(emulator.addr()).await.unwrap();
    assert_eq!(read_to_end(&mut idle).await, b"");
    // Slow: starts a request and never finishes its header.
    let mut slow = TcpStream::connect(emulator.addr()).await.unwrap();
    slow.write_all(b"GET /v1/models HTTP/1.1\r\nhost: e")
        .await
        .unwrap();
    let answer = read_to_end(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let stats = stats_until(&emulator, |s| s.connections.open == 0).await;
    assert_eq!(
        stats.connections.header_timeouts, 2,
        "{:?}",
        stats.connections
    );
    assert_eq!(stats.requests_total, 0, "neither reached a handler");
    // A prompt client is unaffected.
    let mut prompt = TcpStream::connect(emulator.addr()).await.unwrap();
    prompt
        .write_all(b"GET /__emulator/stats HTTP/1.1\r\nhost: e\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(read_to_end(&mut prompt).await.starts_with(b"HTTP/1.1 200"));
    emulator.shutdown().await;
}
