//! A storage host that answers the odd way: a raw TCP server on 127.0.0.1 (an OS-chosen port)
//! whose every answer the test scripts byte by byte, recording each request's head. Bodies
//! without a length, early closes, trickles, redirect loops: what a real host (or a proxy in
//! front of one) may do, and what the emulator never does.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the host saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the host answers one request.
pub enum Answer {
    /// These bytes, then the connection closes.
    Raw(Vec<u8>),
    /// The head at once, then the body `chunk` bytes per `every` (on tokio's clock).
    Trickle {
        head: Vec<u8>,
        body: Vec<u8>,
        chunk: usize,
        every: Duration,
    },
    /// Nothing at all, with the connection held open until the test ends.
    Silence,
}

impl Answer {
    /// A head (status line and headers, `Connection: close` added) and a body.
    pub fn new(status: &str, headers: &[(&str, String)], body: &[u8]) -> Self {
        Self::Raw([head(status, headers), body.to_vec()].concat())
    }
}

/// `HTTP/1.1 <status>` and the headers, with `Connection: close`, ending in a blank line.
pub fn head(status: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

pub struct Stranger {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Stranger {
    /// Serves until dropped; `answer(request, n)` scripts the answer to the `n`-th request
    /// (counting from 0).
    pub async fn start(answer: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let recorded = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (recorded, answer) = (recorded.clone(), answer.clone());
                tokio::spawn(async move {
                    let Some(request) = read_head(&mut stream).await else {
                        return;
                    };
                    let n = {
                        let mut seen = recorded.lock().unwrap();
                        seen.push(request.clone());
                        seen.len() - 1
                    };
                    match answer(&request, n) {
                        Answer::Raw(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                        }
                        Answer::Trickle {
                            head,
                            body,
                            chunk,
                            every,
                        } => {
                            if stream.write_all(&head).await.is_err() {
                                return;
                            }
                            for piece in body.chunks(chunk.max(1)) {
                                tokio::time::sleep(every).await;
                                if stream.write_all(piece).await.is_err() {
                                    return;
                                }
                            }
                        }
                        Answer::Silence => {
                            std::future::pending::<()>().await;
                        }
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { url, seen, task }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split_whitespace().nth(1)?.to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Seen { path, headers })
}
