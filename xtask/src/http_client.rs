//! The least HTTP the grader needs to talk to a workshop board on the LAN:
//! one request per connection, `http://` only, with a limit on connecting,
//! writing and reading so that a board that never answers is given up on.
//! No dependency: `std::net` is enough, and the grader's first build stays as
//! it was.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A board's address: `http://host:port` and the path under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// The path without its leading `/` (the room code, for a join URL).
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let text = text.trim();
        let rest = match text.strip_prefix("http://") {
            Some(rest) => rest,
            None if text.starts_with("https://") => {
                return Err("the board speaks plain http:// on the LAN, not https://".into())
            }
            None => return Err("a board's address starts with http://".into()),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| format!("{port:?} is not a port number"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err("the address has no host".into());
        }
        Ok(Url {
            host: host.to_string(),
            port,
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `http://host:port`, without the path.
    pub fn base(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }
}

/// What came back: the status code and the body (at most 64 KiB of it).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends one request and reads the answer, all within `limit`.
pub fn request(
    url: &Url,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    limit: Duration,
) -> Result<Response, String> {
    let deadline = Instant::now() + limit;
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot find {}: {e}", url.host))?
        .collect();
    let mut last = format!("{} has no address", url.host);
    let mut stream = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let body = body.unwrap_or_default();
    let head = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: course-xtask\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.host,
        url.port,
        body.len()
    );
    let timed = |what: &str, e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            format!("the board did not answer within {} s", limit.as_secs_f64())
        } else {
            format!("{what}: {e}")
        }
    };
    let left = |deadline: Instant| {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream
        .set_write_timeout(Some(left(deadline)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .map_err(|e| timed("cannot send", e))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        stream
            .set_read_timeout(Some(left(deadline)))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.len() > 64 * 1024 {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(timed("cannot read the answer", e)),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the board did not answer within {} s",
                limit.as_secs_f64()
            ));
        }
    }
    parse_response(&got)
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("the answer is not HTTP (no end of headers)")?;
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(format!("the answer is not HTTP: {status_line:?}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("the answer is not HTTP/1: {status_line:?}"));
    }
    let status = code
        .parse()
        .map_err(|_| format!("the answer is not HTTP: {status_line:?}"))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_urls_are_read() {
        let url = Url::parse("http://192.168.1.5:7878/KQ7P2M").unwrap();
        assert_eq!(url.host, "192.168.1.5");
        assert_eq!(url.port, 7878);
        assert_eq!(url.path, "KQ7P2M");
        assert_eq!(url.base(), "http://192.168.1.5:7878");
        let url = Url::parse(" http://board.local/AB12CD/ ").unwrap();
        assert_eq!((url.port, url.path.as_str()), (80, "AB12CD"));
        let url = Url::parse("http://[::1]:9000/X").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 9000));
        assert_eq!(url.base(), "http://[::1]:9000");
        assert!(Url::parse("https://x/").unwrap_err().contains("http://"));
        assert!(Url::parse("192.168.1.5:7878").is_err());
        assert!(Url::parse("http://:80/").is_err());
        assert!(Url::parse("http://h:port/").is_err());
    }

    #[test]
    fn answers_are_read() {
        let r = parse_response(b"HTTP/1.1 201 Created\r\nX: y\r\n\r\n{\"ok\":true}").unwrap();
        assert_eq!((r.status, r.body.as_str()), (201, "{\"ok\":true}"));
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
    }
}
