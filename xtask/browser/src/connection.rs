//! The one websocket to Chromium's DevTools endpoint.
//!
//! A command is a JSON object with an `id`, a `method`, `params` and, for a
//! page, the `sessionId` of that page. Chromium answers it with the same
//! `id` (a `result` or an `error`); everything else it sends is an event (a
//! `method` and `params`, with the `sessionId` it is about).
//!
//! One thread reads: it hands each answer to the caller waiting for that
//! `id`, and each event to the listeners of its session, in the order
//! Chromium sent them. Callers write: the socket is cloned, and the writing
//! half is behind a mutex, so a command goes out whole while the reader
//! keeps reading.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{json, Value};
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use crate::TIMEOUT;

/// What an event listener gets: the event's method (`Runtime.exceptionThrown`)
/// and its params. It runs on the reader thread, so it must not send a
/// command itself (the answer could never be read): collect, then look.
pub type Listener = Box<dyn Fn(&str, &Value) + Send>;

/// An error Chromium answered a command with.
#[derive(Debug, Clone)]
pub struct CdpError {
    pub method: String,
    pub message: String,
}

impl std::fmt::Display for CdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.method, self.message)
    }
}

impl std::error::Error for CdpError {}

type Answer = Result<Value, String>;

struct Shared {
    /// The callers waiting for an answer, by the `id` of their command.
    /// `None` once the connection is closed: nothing will be answered.
    waiting: Mutex<Option<HashMap<u64, mpsc::Sender<Answer>>>>,
    /// Listeners by the session whose events they get.
    listeners: Mutex<Vec<(String, Listener)>>,
}

/// Why a command got no answer: the reader stopped.
const CLOSED: &str =
    "the connection to Chromium closed (Chromium exited, or an event listener panicked: see above)";

impl Shared {
    /// The waiting callers, also after a thread panicked holding the lock:
    /// each change to the map is one insert or remove, never half done.
    fn waiting(&self) -> MutexGuard<'_, Option<HashMap<u64, mpsc::Sender<Answer>>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops waiting for the answer to `id` (its caller gave up).
    fn forget(&self, id: u64) {
        if let Some(waiting) = self.waiting().as_mut() {
            waiting.remove(&id);
        }
    }
}

pub struct Connection {
    writer: Mutex<WebSocket<TcpStream>>,
    /// The socket itself, to shut it down (which ends the reader).
    socket: TcpStream,
    next_id: AtomicU64,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

/// The reading half: reads from the socket, and never writes to it (the
/// writing half owns that). Chromium does not ping, so nothing needs an
/// answer from this side; a close frame's echo is dropped here, as the
/// browser is going away then anyway.
struct ReadHalf(TcpStream);

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for ReadHalf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Connection {
    /// Connects to `ws://127.0.0.1:{port}{path}` (what `DevToolsActivePort`
    /// says) and starts the reader.
    pub fn open(port: u16, path: &str) -> std::io::Result<Connection> {
        let socket = TcpStream::connect(("127.0.0.1", port))?;
        // Commands and answers are small and each waits for the other.
        socket.set_nodelay(true)?;
        let url = format!("ws://127.0.0.1:{port}{path}");
        // Chromium sends nothing before the first command, so no frame is
        // left in the handshake's buffer when its socket is split below.
        let (handshaken, _) = tungstenite::client(url.as_str(), socket.try_clone()?)
            .map_err(|e| std::io::Error::other(format!("websocket handshake with {url}: {e}")))?;
        drop(handshaken);
        let reading = WebSocket::from_raw_socket(ReadHalf(socket.try_clone()?), Role::Client, None);
        let writer = WebSocket::from_raw_socket(socket.try_clone()?, Role::Client, None);
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Some(HashMap::new())),
            listeners: Mutex::new(Vec::new()),
        });
        let reader = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("chromium devtools reader".into())
                .spawn(move || read_until_closed(reading, &shared))?
        };
        Ok(Connection {
            writer: Mutex::new(writer),
            socket,
            next_id: AtomicU64::new(1),
            shared,
            reader: Some(reader),
        })
    }

    /// Sends `method` (to the page of `session`, or to the browser) and
    /// waits for its answer. A hang past [`TIMEOUT`] or a closed browser
    /// panics; an error Chromium answered with is returned.
    pub fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, CdpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, answer) = mpsc::channel();
        match self.shared.waiting().as_mut() {
            Some(waiting) => waiting.insert(id, tx),
            None => panic!("{CLOSED}, before {method} was sent"),
        };
        if let Err(e) = self.write(id, session, method, params) {
            self.shared.forget(id);
            panic!("sending {method} to Chromium: {e}");
        }
        match answer.recv_timeout(TIMEOUT) {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(message)) => Err(CdpError {
                method: method.to_string(),
                message,
            }),
            Err(RecvTimeoutError::Timeout) => {
                self.shared.forget(id);
                panic!("Chromium did not answer {method} within {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("{CLOSED}, before {method} was answered"),
        }
    }

    /// Sends `method` to the browser and does not wait for an answer: for
    /// closing it (the answer may never come), from `Drop`, which must not
    /// panic. Sent even when the reader has stopped.
    pub fn send_and_forget(&self, method: &str) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let _ = self.write(id, None, method, json!({}));
    }

    /// Writes one command, whole.
    fn write(
        &self,
        id: u64,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> tungstenite::Result<()> {
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = session.into();
        }
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(Message::text(command.to_string()))
    }

    /// Calls `listener` with every event of `session` from now on.
    pub fn listen(&self, session: &str, listener: Listener) {
        self.shared
            .listeners
            .lock()
            .unwrap()
            .push((session.to_string(), listener));
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Ends the reader's read at once, whether Chromium is still there
        // or not.
        let _ = self.socket.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The reader thread: until the socket closes, routes each message.
fn read_until_closed(mut socket: WebSocket<ReadHalf>, shared: &Shared) {
    // However the loop ends (a closed socket, a listener that panicked),
    // every waiting caller is told at once instead of waiting out TIMEOUT.
    struct CloseOnExit<'a>(&'a Shared);
    impl Drop for CloseOnExit<'_> {
        fn drop(&mut self) {
            *self.0.waiting() = None;
        }
    }
    let _closing = CloseOnExit(shared);
    loop {
        let text = match socket.read() {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue, // Chromium sends text only
        };
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        route(message, shared);
    }
}

fn route(message: Value, shared: &Shared) {
    if let Some(id) = message.get("id").and_then(Value::as_u64) {
        let answer = match message.get("error") {
            Some(error) => Err(error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_string)),
            None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
        };
        let caller = shared
            .waiting()
            .as_mut()
            .and_then(|waiting| waiting.remove(&id));
        if let Some(caller) = caller {
            let _ = caller.send(answer); // gone if it timed out
        }
    } else if let Some(method) = message.get("method").and_then(Value::as_str) {
        let session = message.get("sessionId").and_then(Value::as_str);
        let params = message.get("params").unwrap_or(&Value::Null);
        for (of, listener) in shared.listeners.lock().unwrap().iter() {
            if session == Some(of.as_str()) {
                listener(method, params);
            }
        }
    }
}
