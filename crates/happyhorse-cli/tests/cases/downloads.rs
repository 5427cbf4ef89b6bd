//! The CLI's download against a storage host that trickles: `--timeout` covers the download, so
//! the command ends at its deadline with exit 75 and a partial file that `wait` resumes. The API
//! and the storage host are small servers written here (the emulator's storage behaves).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::common::happyhorse;

const VIDEO: &[u8] = include_bytes!("../../../happyhorse-emulator/fixtures/horse.mp4");
const ID: &str = "5f3c6a0e-1b2d-4c3e-9f4a-0b1c2d3e4f50";

/// A loopback server answering each connection with `answer(request head, stream)` on its own
/// thread; stopped (and its accept loop woken) when dropped.
struct Server {
    url: String,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(answer: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let (answer, stopped) = (Arc::new(answer), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let (answer, stopped) = (answer.clone(), stopped.clone());
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    if !stopped.load(Ordering::SeqCst) {
                        answer(&String::from_utf8_lossy(&head), &mut stream);
                    }
                });
            }
        });
        Self { url, stop }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn json_answer(stream: &mut TcpStream, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn a_trickling_storage_host_ends_at_the_timeout_with_exit_75_and_a_resumable_part() {
    // One byte every 200 ms, until the client goes away.
    let storage = Server::start(|_, stream| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
            VIDEO.len()
        );
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        for byte in VIDEO {
            std::thread::sleep(Duration::from_millis(200));
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
        }
    });
    let video_url = format!("{}/files/{ID}.mp4", storage.url);
    let api = Server::start(move |head, stream| {
        if head.contains("/status") {
            json_answer(
                stream,
                &format!(r#"{{"request_id":"{ID}","status":"completed"}}"#),
            );
        } else {
            json_answer(
                stream,
                &format!(
                    r#"{{"request_id":"{ID}","status":"succeeded","output":{{"video":"{video_url}"}}}}"#
                ),
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = happyhorse(dir.path())
        .env("RUNCOMFY_API_TOKEN", "test-token")
        .args(["--base-url", &api.url])
        .args(["wait", ID, "-o", "later.mp4", "--timeout", "3s"])
        .args(["--poll-interval", "50ms"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("did not finish within its time limit"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("wait {ID} -o later.mp4")),
        "{stderr}"
    );
    assert!(!dir.path().join("later.mp4").exists());
    let part = std::fs::read(dir.path().join(".later.mp4.part")).unwrap();
    assert!(!part.is_empty() && VIDEO.starts_with(&part));
    assert!(
        dir.path().join(".later.mp4.part.json").exists(),
        "the partial file can be resumed"
    );
}
