//! The local OpenAI-compatible API: `/v1/chat/completions` (with streaming
//! as server-sent events) and `/v1/models`, so other programs on this
//! computer can use Pith's models.
//!
//! Off by default. It binds 127.0.0.1 only and refuses any request without
//! the token it was started with. Every request is routed ([`crate::routing`])
//! and runs as a job on the one inference worker, so API requests queue
//! with the app's own work instead of competing for the CPU; a remote
//! endpoint is called only when the user switched it on, and its answers
//! are marked `"remote": true`.

pub mod openai;
pub mod remote;

use crate::engine::{CancelToken, Priority, Worker};
use crate::engine::{Prompt, Role};
use crate::error::{Error, Result};
use crate::models::plan::Task;
use crate::routing::{self, Candidate, Target};
use openai::ApiError;
use serde_json::json;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};
use tiny_http::{Header, Method, Response, StatusCode};

pub use crate::engine::{Backend, SingleModel};

#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// 0 picks a free port.
    pub port: u16,
    pub token: String,
    /// The installed models, as the router sees them.
    pub candidates: Vec<Candidate>,
    pub settings: routing::Settings,
    /// Sent to the remote endpoint, when one is on.
    pub remote_api_key: Option<String>,
    pub max_body_bytes: usize,
    /// Requests handled at once (the rest are told to retry: 503).
    pub max_connections: usize,
}

impl ServerOptions {
    pub fn new(token: String, candidates: Vec<Candidate>) -> Self {
        Self {
            port: 0,
            token,
            candidates,
            settings: routing::Settings::default(),
            remote_api_key: None,
            max_body_bytes: 1024 * 1024,
            max_connections: 64,
        }
    }
}

/// A fresh random token: 32 hex characters from the system's RNG.
pub fn generate_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Inference(format!("no random numbers for a token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

struct Shared<B> {
    worker: Arc<Worker<B>>,
    options: ServerOptions,
    active: AtomicUsize,
    next_id: AtomicU64,
}

impl Server {
    /// Listens on 127.0.0.1 and answers on background threads until
    /// stopped or dropped.
    pub fn start<B: Backend + 'static>(
        worker: Arc<Worker<B>>,
        options: ServerOptions,
    ) -> Result<Server> {
        let http = tiny_http::Server::http(("127.0.0.1", options.port)).map_err(|e| {
            Error::InvalidInput(format!(
                "could not listen on 127.0.0.1:{}: {e}",
                options.port
            ))
        })?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::Inference("the server has no IP address".into()))?;
        let http = Arc::new(http);
        let shared = Arc::new(Shared {
            worker,
            options,
            active: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
        });
        let accept = Arc::clone(&http);
        let thread = std::thread::Builder::new()
            .name("pith-api".into())
            .spawn(move || {
                for request in accept.incoming_requests() {
                    let shared = Arc::clone(&shared);
                    if shared.active.fetch_add(1, Ordering::SeqCst)
                        >= shared.options.max_connections
                    {
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                        let busy = ApiError {
                            status: 503,
                            kind: "server_busy",
                            message: "too many requests at once; retry shortly".into(),
                        };
                        let _ = request.respond(error_response(&busy));
                        continue;
                    }
                    let spawned = std::thread::Builder::new()
                        .name("pith-api-request".into())
                        .spawn(move || {
                            handle(request, &shared);
                            shared.active.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::io("could not start the API thread", e))?;
        Ok(Server {
            http,
            addr,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Blocks until the server stops (for `pith serve`).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn json_response(status: u16, value: &serde_json::Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let response =
        Response::from_data(value.to_string().into_bytes()).with_status_code(StatusCode(status));
    match Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]) {
        Ok(h) => response.with_header(h),
        Err(()) => response,
    }
}

fn error_response(e: &ApiError) -> Response<std::io::Cursor<Vec<u8>>> {
    json_response(e.status, &e.body())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Compares in constant time, so the token cannot be guessed byte by byte
/// from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(request: &tiny_http::Request, token: &str) -> bool {
    request.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && h.value
                .as_str()
                .strip_prefix("Bearer ")
                .is_some_and(|t| same(t.trim().as_bytes(), token.as_bytes()))
    })
}

fn handle<B: Backend + 'static>(mut request: tiny_http::Request, shared: &Shared<B>) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    if !authorized(&request, &shared.options.token) {
        let _ = request.respond(error_response(&ApiError::unauthorized()));
        return;
    }
    match (request.method(), path.as_str()) {
        (Method::Get, "/v1/models") => {
            let ids: Vec<String> = shared
                .options
                .candidates
                .iter()
                .filter(|c| c.fits)
                .map(|c| c.id.clone())
                .collect();
            let _ = request.respond(json_response(200, &openai::models(&ids, now())));
        }
        (Method::Post, "/v1/chat/completions") => {
            let mut body = Vec::new();
            let limit = shared.options.max_body_bytes;
            let read = request
                .as_reader()
                .take(limit as u64 + 1)
                .read_to_end(&mut body);
            let problem = match read {
                Err(e) => Some(ApiError::bad_request(format!(
                    "could not read the body: {e}"
                ))),
                Ok(_) if body.len() > limit => Some(ApiError {
                    status: 413,
                    kind: "invalid_request_error",
                    message: format!("the body is over the {limit}-byte limit"),
                }),
                Ok(_) => None,
            };
            match problem {
                Some(e) => {
                    let _ = request.respond(error_response(&e));
                }
                None => chat(request, &body, shared),
            }
        }
        (method, "/v1/models" | "/v1/chat/completions") => {
            let e = ApiError {
                status: 405,
                kind: "invalid_request_error",
                message: format!("{method} is not allowed on {path}"),
            };
            let _ = request.respond(error_response(&e));
        }
        _ => {
            let e = ApiError {
                status: 404,
                kind: "not_found_error",
                message: format!(
                    "no such endpoint: {path} (try /v1/chat/completions or /v1/models)"
                ),
            };
            let _ = request.respond(error_response(&e));
        }
    }
}

/// What a completion job tells the request thread.
enum Event {
    /// The request is valid and generation starts (or why not); says
    /// which model was unloaded to load this one, if one was.
    Ready(std::result::Result<Option<String>, ApiError>),
    Piece(String),
}

fn chat<B: Backend + 'static>(request: tiny_http::Request, body: &[u8], shared: &Shared<B>) {
    let parsed = openai::parse(body).and_then(|r| r.chat_messages().map(|m| (r, m)));
    let (req, messages) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = request.respond(error_response(&e));
            return;
        }
    };
    // The client's `model` when it names an installed model; else the router.
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str());
    let options = &shared.options;
    let asked = req
        .model
        .as_deref()
        .filter(|m| options.candidates.iter().any(|c| c.fits && c.id == *m));
    let route = match asked {
        Some(m) => Ok(routing::Route {
            target: Target::Local { id: m.to_string() },
            reason: format!("the request named {m}"),
            signals: Vec::new(),
            larger_available: None,
        }),
        None => routing::route(
            &routing::Request::new(Task::Chat, last_user),
            &options.candidates,
            &options.settings,
        ),
    };
    let route = match route {
        Ok(r) => r,
        Err(e) => {
            let _ = request.respond(error_response(&ApiError::from_core(&e)));
            return;
        }
    };
    let id = format!("chatcmpl-{}", shared.next_id.fetch_add(1, Ordering::SeqCst));
    let created = now();
    match route.target {
        Target::Remote { base_url, model } => {
            let remote = routing::Remote { base_url, model };
            let answer = remote::complete(
                &remote,
                options.remote_api_key.as_deref(),
                &messages,
                req.max_tokens.or(req.max_completion_tokens),
                req.temperature,
            );
            let label = format!("remote:{}", remote.model);
            let note = openai::pith_note(&label, true, &route.reason);
            match answer {
                Err(e) => {
                    let _ = request.respond(error_response(&e));
                }
                Ok(g) if req.stream => {
                    let mut w = start_stream(request);
                    let events = [
                        openai::chunk(
                            &id,
                            created,
                            &label,
                            json!({"role": "assistant", "content": ""}),
                            None,
                            Some(&note),
                        ),
                        openai::chunk(&id, created, &label, json!({"content": g.text}), None, None),
                        openai::chunk(
                            &id,
                            created,
                            &label,
                            json!({}),
                            Some(openai::finish_reason(g.stop_reason)),
                            None,
                        ),
                        "data: [DONE]\n\n".to_string(),
                    ];
                    for e in events {
                        if write_chunk(&mut w, e.as_bytes()).is_err() {
                            return;
                        }
                    }
                    let _ = write_chunk(&mut w, b"");
                }
                Ok(g) => {
                    let _ = request.respond(json_response(
                        200,
                        &openai::completion(&id, created, &label, &g, note),
                    ));
                }
            }
        }
        Target::Local { id: model_id } => local_chat(
            request,
            req,
            messages,
            model_id,
            &route.reason,
            shared,
            (id, created),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn local_chat<B: Backend + 'static>(
    request: tiny_http::Request,
    req: openai::ChatRequest,
    messages: Vec<crate::engine::ChatMessage>,
    model_id: String,
    reason: &str,
    shared: &Shared<B>,
    (id, created): (String, u64),
) {
    let (tx, rx) = mpsc::channel::<Event>();
    let stream = req.stream;
    let job_model = model_id.clone();
    let ticket = shared.worker.submit(
        Priority::Normal,
        move |backend: &mut B, cancel: &CancelToken| {
            let prepared = backend
                .engine(&job_model)
                .map_err(|e| ApiError::from_core(&e))
                .and_then(|(engine, swap)| {
                    let tokens = engine
                        .prompt_tokens(&Prompt::Chat(messages))
                        .map_err(|e| ApiError::from_core(&e))?;
                    let g = req.to_generate(tokens, engine.info().context as usize)?;
                    Ok((engine, g, swap))
                });
            let (engine, g, swap) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Event::Ready(Err(e.clone())));
                    return Err(e);
                }
            };
            let _ = tx.send(Event::Ready(Ok(swap)));
            engine
                .generate(&g, cancel, &mut |piece| {
                    if stream {
                        let _ = tx.send(Event::Piece(piece.to_string()));
                    }
                })
                .map_err(|e| ApiError::from_core(&e))
        },
    );
    let cancel = ticket.cancel_token();
    let mut note = openai::pith_note(&model_id, false, reason);
    match rx.recv() {
        Ok(Event::Ready(Ok(swap))) => {
            if let (Some(swap), Some(obj)) = (swap, note.as_object_mut()) {
                obj.insert("swap".into(), swap.into());
            }
        }
        Ok(Event::Ready(Err(e))) => {
            let _ = request.respond(error_response(&e));
            return;
        }
        Ok(Event::Piece(_)) | Err(_) => {
            let e = ApiError::from_core(&Error::Inference("the inference worker stopped".into()));
            let _ = request.respond(error_response(&e));
            return;
        }
    }
    if !stream {
        let reply = match ticket.wait() {
            Ok(Ok(g)) => json_response(200, &openai::completion(&id, created, &model_id, &g, note)),
            Ok(Err(e)) => error_response(&e),
            Err(e) => error_response(&ApiError::from_core(&e)),
        };
        let _ = request.respond(reply);
        return;
    }
    let mut w = start_stream(request);
    let first = openai::chunk(
        &id,
        created,
        &model_id,
        json!({"role": "assistant", "content": ""}),
        None,
        Some(&note),
    );
    let mut gone = write_chunk(&mut w, first.as_bytes()).is_err();
    for event in rx.iter() {
        if let Event::Piece(p) = event {
            let chunk = openai::chunk(&id, created, &model_id, json!({ "content": p }), None, None);
            if !gone && write_chunk(&mut w, chunk.as_bytes()).is_err() {
                // The client went away: stop generating for it.
                gone = true;
                cancel.cancel();
            }
        }
    }
    if gone {
        let _ = ticket.wait();
        return;
    }
    let last = match ticket.wait() {
        Ok(Ok(g)) => openai::chunk(
            &id,
            created,
            &model_id,
            json!({}),
            Some(openai::finish_reason(g.stop_reason)),
            None,
        ),
        Ok(Err(e)) => format!("data: {}\n\n", e.body()),
        Err(e) => format!("data: {}\n\n", ApiError::from_core(&e).body()),
    };
    let _ = write_chunk(&mut w, last.as_bytes());
    let _ = write_chunk(&mut w, b"data: [DONE]\n\n");
    let _ = write_chunk(&mut w, b"");
}

/// Takes over the connection for server-sent events: the status line and
/// headers now, then one HTTP chunk per event, each flushed as it is
/// written (tiny_http's own chunked writer buffers 8 KB, which would hold
/// the tokens back).
fn start_stream(request: tiny_http::Request) -> Box<dyn Write + Send> {
    let mut w = request.into_writer();
    let _ = w.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let _ = w.flush();
    w
}

/// One HTTP chunk; an empty one ends the body.
fn write_chunk(w: &mut dyn Write, data: &[u8]) -> std::io::Result<()> {
    write!(w, "{:x}\r\n", data.len())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")?;
    w.flush()
}

#[cfg(test)]
mod tests;
