//! The board's server: one thread per connection (a bounded number), the
//! page and its live stream for anyone on the LAN, posts only with the room
//! code.

use std::collections::HashMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http::{self, Bad, Request};
use crate::room::{self, Room};
use crate::store::Store;

const PAGE: &str = include_str!("page.html");
/// Connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 512;
/// How long a client may take to send its request.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);
/// A comment on every live stream this often, so that a closed page is
/// noticed and its thread ends.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Updates waiting for one slow page before it is dropped (it reconnects
/// and gets the whole state again).
const STREAM_BACKLOG: usize = 1024;
/// Each attendee may post in bursts of this many…
const BURST: f64 = 20.0;
/// …and this many per second after that.
const PER_SECOND: f64 = 4.0;

pub struct Board {
    pub code: String,
    pub store: Mutex<Store>,
    pub room: Mutex<Room>,
    streams: Mutex<Vec<SyncSender<Arc<str>>>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    connections: AtomicUsize,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Board {
    pub fn new(code: String, store: Store, room: Room) -> Board {
        Board {
            code,
            store: Mutex::new(store),
            room: Mutex::new(room),
            streams: Mutex::new(Vec::new()),
            buckets: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
        }
    }

    pub fn serve(self: Arc<Self>, listener: TcpListener) {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else {
                continue;
            };
            if self.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                self.connections.fetch_sub(1, Ordering::SeqCst);
                http::respond_json(&mut stream, 503, "too many connections; try again");
                continue;
            }
            let board = Arc::clone(&self);
            let spawned = std::thread::Builder::new()
                .name("connection".into())
                .spawn(move || {
                    board.handle(stream);
                    board.connections.fetch_sub(1, Ordering::SeqCst);
                });
            if spawned.is_err() {
                self.connections.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    fn handle(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(REQUEST_LIMIT));
        let _ = stream.set_write_timeout(Some(REQUEST_LIMIT));
        let request = match http::read_request(&mut stream) {
            Ok(r) => r,
            Err(Bad::Status(status, said)) => return http::respond_json(&mut stream, status, said),
            Err(Bad::Gone) => return,
        };
        let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        match (request.method.as_str(), parts.as_slice()) {
            ("GET", [""]) => http::respond_with(
                &mut stream,
                200,
                "text/html; charset=utf-8",
                &[(
                    "Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                     connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
                )],
                PAGE.as_bytes(),
            ),
            ("GET", ["state.json"]) => {
                let state = self.room.lock().unwrap().state_json(now_ms());
                http::respond(
                    &mut stream,
                    200,
                    "application/json",
                    state.to_string().as_bytes(),
                )
            }
            ("GET", ["events"]) => self.stream_events(stream),
            ("GET", ["favicon.ico"]) => http::respond(&mut stream, 204, "text/plain", b""),
            ("GET", ["api", "room", code]) if self.is_code(code) => {
                let title = self.room.lock().unwrap().course.course.title.clone();
                let body = serde_json::json!({ "ok": true, "title": title });
                http::respond(
                    &mut stream,
                    200,
                    "application/json",
                    body.to_string().as_bytes(),
                )
            }
            ("POST", ["api", "room", code, "posts"]) if self.is_code(code) => {
                let (status, said) = self.take_post(&request);
                http::respond_json(&mut stream, status, &said)
            }
            (method, _) if method != "GET" && method != "POST" => {
                http::respond_json(&mut stream, 405, "the page is read-only")
            }
            (_, ["api", "room", ..]) => http::respond_json(&mut stream, 404, "no such room here"),
            ("GET", _) => http::respond_json(&mut stream, 404, "not found"),
            _ => http::respond_json(&mut stream, 405, "the page is read-only"),
        }
    }

    fn is_code(&self, code: &str) -> bool {
        code.eq_ignore_ascii_case(&self.code)
    }

    /// Checks, stores, applies and announces one post; the answer's status
    /// and words.
    fn take_post(&self, request: &Request) -> (u16, String) {
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return (400, "the body is not UTF-8".into());
        };
        let post = match room::parse(body) {
            Ok(post) => post,
            Err(why) => return (400, why),
        };
        if !self.room.lock().unwrap().has_room_for(&post.attendee) {
            return (507, "the room is full".into());
        }
        if !self.allow(&post.attendee) {
            return (429, "too many posts; the next check sends them".into());
        }
        let received = now_ms();
        let id = post.id.clone();
        let attendee = post.attendee.clone();
        // One lock over storing and applying: the order in the file is the
        // order the state saw, which is what a reopened room replays.
        let mut room = self.room.lock().unwrap();
        let added = match self
            .store
            .lock()
            .unwrap()
            .insert(&id, &attendee, received, body)
        {
            Ok(added) => added,
            Err(e) => return (500, format!("cannot store the post: {e}")),
        };
        if !added {
            return (200, "already stored".into());
        }
        let key = match room.apply(post, received) {
            Ok(key) => key,
            Err(_) => return (507, "the room is full".into()),
        };
        if let Some(view) = room.attendee_json(&key) {
            let event = serde_json::json!({ "now_ms": received, "post": id, "attendee": view });
            self.announce(&format!("event: attendee\ndata: {event}\n\n"));
        }
        (201, "stored".into())
    }

    /// A token bucket per attendee.
    fn allow(&self, attendee: &str) -> bool {
        let mut buckets = self.buckets.lock().unwrap();
        let now = Instant::now();
        let bucket = buckets.entry(attendee.to_string()).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * PER_SECOND;
        bucket.tokens = (bucket.tokens + refill).min(BURST);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn announce(&self, event: &str) {
        let event: Arc<str> = Arc::from(event);
        self.streams
            .lock()
            .unwrap()
            .retain(|tx| match tx.try_send(Arc::clone(&event)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            });
    }

    /// A live stream: the whole state, then each change as it happens.
    fn stream_events(&self, mut stream: TcpStream) {
        let (tx, rx): (SyncSender<Arc<str>>, Receiver<Arc<str>>) =
            mpsc::sync_channel(STREAM_BACKLOG);
        let first = {
            // Subscribed under the room's lock: no change falls between the
            // state sent and the first update.
            let room = self.room.lock().unwrap();
            self.streams.lock().unwrap().push(tx);
            room.state_json(now_ms())
        };
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
                    X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 1000\n\n";
        let _ = stream.set_write_timeout(Some(KEEPALIVE));
        if stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(format!("event: state\ndata: {first}\n\n").as_bytes()))
            .is_err()
        {
            return;
        }
        loop {
            let sent = match rx.recv_timeout(KEEPALIVE) {
                Ok(event) => stream.write_all(event.as_bytes()),
                Err(RecvTimeoutError::Timeout) => stream.write_all(b": keepalive\n\n"),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            if sent.is_err() {
                return;
            }
        }
    }
}
