//! Request bodies of the write API read within a bound, so that a client sending too much gets
//! the `413` it needs to see instead of a broken pipe.
//!
//! A server that answers `413` and closes while the client is still sending leaves unread bytes
//! in its socket; the kernel then resets the connection, and the client sees its write fail
//! (or the answer discarded) rather than the answer. So a body over the endpoint's limit is read
//! on and thrown away — up to [`DRAIN_BYTES_MAX`] and for at most [`DRAIN_TIME_MAX`] — before
//! the `413` goes out with `Connection: close`. Beyond those bounds (a body announced larger
//! than the drain bound, or one that takes too long), the answer goes out at once; a client that
//! announced `Expect: 100-continue` is answered at once too, so it never sends the body at all.
//! Nothing of a refused body is kept.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt as _;

use crate::http::error;

/// The most bytes of a too-large body read and discarded so that its client receives the `413`.
pub const DRAIN_BYTES_MAX: u64 = 32 * 1024 * 1024;
/// The longest a too-large body is read on before the `413` goes out anyway.
pub const DRAIN_TIME_MAX: Duration = Duration::from_secs(10);

/// Why a body was not handed on.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// Larger than the limit; `drained` when all of it was read (the connection closes cleanly).
    TooLarge { drained: bool },
    /// The client broke off or sent a broken body.
    Unreadable,
}

/// Reads `body` whole if it holds at most `max` bytes; otherwise reads on and discards up to
/// [`DRAIN_BYTES_MAX`] in all, within [`DRAIN_TIME_MAX`].
async fn read_within(body: Body, max: usize) -> Result<Bytes, Refused> {
    let mut body = body;
    let mut kept = Vec::new();
    let mut total: u64 = 0;
    let mut drain_deadline = None;
    loop {
        let frame = match drain_deadline {
            None => body.frame().await,
            Some(deadline) => match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => return Err(Refused::TooLarge { drained: false }),
            },
        };
        let Some(frame) = frame else { break };
        let Ok(frame) = frame else {
            return Err(Refused::Unreadable);
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len() as u64;
        if total <= max as u64 {
            kept.extend_from_slice(&data);
        } else {
            kept = Vec::new();
            if total > DRAIN_BYTES_MAX {
                return Err(Refused::TooLarge { drained: false });
            }
            drain_deadline.get_or_insert_with(|| tokio::time::Instant::now() + DRAIN_TIME_MAX);
        }
    }
    if total > max as u64 {
        Err(Refused::TooLarge { drained: true })
    } else {
        Ok(Bytes::from(kept))
    }
}

/// `413 body_too_large`, closing the connection.
pub(crate) fn too_large(max: usize) -> Response {
    let mut r = error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &format!("The request body is larger than {max} bytes."),
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Middleware: hands the request on with its body read whole when it holds at most `max`
/// bytes; answers `413 body_too_large` (drained as the module says) or `400 bad_body`.
pub async fn within(max: usize, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if let Some(n) = announced
        && n > max as u64
        && (expects_continue || n > DRAIN_BYTES_MAX)
    {
        return too_large(max);
    }
    match read_within(body, max).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(Refused::TooLarge { .. }) => too_large(max),
        Err(Refused::Unreadable) => error(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "The request body could not be read.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    use axum::Router;
    use axum::routing::post;

    use super::*;

    /// A server on 127.0.0.1 with one route `/echo` behind the bound; returns its address.
    async fn serve(max: usize) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let app = Router::new().route(
            "/echo",
            post(|b: Bytes| async move { format!("{} bytes", b.len()) })
                .layer(axum::middleware::from_fn(move |r, n| within(max, r, n))),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (addr, task)
    }

    /// Sends `len` bytes the way a plain client on a real link does (the whole body, in pieces
    /// a little apart, then reads) and returns the answer, or the transport error. The pauses
    /// let the server answer while the client is still sending, as over a network: loopback's
    /// socket buffers would otherwise swallow 3 MB at once and hide a reset connection.
    fn send(addr: std::net::SocketAddr, len: usize, extra: &str) -> std::io::Result<String> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            s,
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n{extra}\r\n"
        )?;
        let chunk = vec![b'x'; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len());
            s.write_all(&chunk[..n])?;
            left -= n;
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        Ok(answer)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_over_the_limit_gets_its_413_not_a_broken_pipe() {
        let (addr, task) = serve(64 * 1024).await;
        let answer = tokio::task::spawn_blocking(move || send(addr, 3_000_000, ""))
            .await
            .unwrap()
            .expect("the client finishes sending and reads the answer");
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("body_too_large"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        // Within the limit the handler gets the whole body.
        let answer =
            tokio::task::spawn_blocking(move || send(addr, 64 * 1024, "Connection: close\r\n"))
                .await
                .unwrap()
                .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("65536 bytes"), "{answer}");
        task.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn expect_continue_is_answered_before_the_body() {
        let (addr, task) = serve(1024).await;
        let answer = tokio::task::spawn_blocking(move || {
            let mut s = TcpStream::connect(addr)?;
            s.set_read_timeout(Some(Duration::from_secs(20)))?;
            write!(
                s,
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"
            )?;
            let mut answer = String::new();
            s.read_to_string(&mut answer)?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .unwrap()
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        task.abort();
    }

    #[tokio::test]
    async fn read_within_keeps_small_bodies_and_drains_large_ones() {
        let ok = read_within(Body::from(vec![7u8; 100]), 100).await.unwrap();
        assert_eq!(ok.len(), 100);
        assert_eq!(
            read_within(Body::from(vec![7u8; 101]), 100).await,
            Err(Refused::TooLarge { drained: true })
        );
        let huge = vec![0u8; DRAIN_BYTES_MAX as usize + 1];
        assert_eq!(
            read_within(Body::from(huge), 100).await,
            Err(Refused::TooLarge { drained: false })
        );
    }
}
