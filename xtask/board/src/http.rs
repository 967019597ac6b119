//! HTTP/1.1, as little as the board needs: one request per connection,
//! headers and body bounded, every answer closes the connection.

use std::io::{Read, Write};
use std::net::TcpStream;

/// The most header bytes read.
const HEAD_MAX: usize = 16 * 1024;
/// The largest request body taken.
pub const BODY_MAX: usize = 64 * 1024;

pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

pub enum Bad {
    /// Answer with this status and reason.
    Status(u16, &'static str),
    /// The other side went away or was too slow: just close.
    Gone,
}

pub fn read_request(stream: &mut TcpStream) -> Result<Request, Bad> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > HEAD_MAX {
            return Err(Bad::Status(431, "the request's headers are too large"));
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(Bad::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Err(Bad::Status(400, "not an HTTP request"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Bad::Status(505, "HTTP/1.x only"));
    }
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .trim()
                .parse()
                .map_err(|_| Bad::Status(400, "a bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Bad::Status(411, "send a Content-Length"));
        }
    }
    if length > BODY_MAX {
        return Err(Bad::Status(413, "the body is larger than 64 KiB"));
    }
    let mut body = buf[head_end + 4..].to_vec();
    if body.len() > length {
        body.truncate(length);
    }
    while body.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(Bad::Gone),
            Ok(n) => {
                let take = n.min(length - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
        }
    }
    let path = target.split('?').next().unwrap_or("/").to_string();
    Ok(Request {
        method: method.to_string(),
        path,
        body,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "",
    }
}

/// Writes a whole answer and lets the connection close.
pub fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    respond_with(stream, status, content_type, &[], body);
}

pub fn respond_with(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .and_then(|()| stream.flush());
}

/// A small JSON answer: `{"ok": …, "said": …}`.
pub fn respond_json(stream: &mut TcpStream, status: u16, said: &str) {
    let body = serde_json::json!({ "ok": (200..300).contains(&status), "said": said });
    respond(
        stream,
        status,
        "application/json",
        body.to_string().as_bytes(),
    );
}
