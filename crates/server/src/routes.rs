//! The accept loop and the routes. Handlers are async; model work runs as
//! jobs on the inference worker and reports back through a channel, so no
//! request thread blocks on the model. A request whose client goes away is
//! cancelled: the job's token is cancelled when its handler or its event
//! stream is dropped before the job is done.

use crate::openai::{self, ApiError};
use crate::{remote, Shared};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use pith_core::engine::{Backend, CancelToken, Generation, Priority, Role};
use pith_core::error::ErrorCode;
use pith_core::flows::commands::{self, Tone};
use pith_core::flows::rephrase::{examples_for, rephrase_routed, RephraseRequest, Start};
use pith_core::routing::{self, Target};
use pith_core::structured::toolcall::{self, Answer};
use pith_core::tasks::rephrase::RephraseMode;
use pith_core::tasks::Task;
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch, Semaphore};

type SharedState<B> = Arc<Shared<B>>;

/// Accepts connections until `stopped` turns true, each within the bounds
/// of the server's options; then lets the ones in flight finish.
pub(crate) async fn serve<B: Backend + 'static>(
    listener: std::net::TcpListener,
    shared: SharedState<B>,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("pith serve: cannot listen ({e})");
            return;
        }
    };
    let options = shared.options.clone();
    let app = router(shared);
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match Arc::clone(&slots).try_acquire_owned() {
                    Ok(permit) => {
                        let connection = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(options.header_timeout)
                            // hyper's floor for its read buffer is 8 KiB.
                            .max_buf_size(options.max_header_bytes.max(8192))
                            .serve_connection(
                                TokioIo::new(stream),
                                TowerToHyperService::new(app.clone()),
                            );
                        let connection = graceful.watch(connection);
                        tokio::spawn(async move {
                            let _ = connection.await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tokio::spawn(busy(stream));
                    }
                },
                // Out of file descriptors, say: the connections already
                // open go on, and accepting is tried again shortly.
                Err(e) => {
                    tracing::warn!("pith serve: cannot accept a connection now ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// Tells a connection over the limit to retry, and closes it.
async fn busy(mut stream: tokio::net::TcpStream) {
    let body = ApiError {
        status: 503,
        kind: "server_busy",
        message: "too many connections at once; retry shortly".into(),
    }
    .body()
    .to_string();
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(reply.as_bytes())).await;
    let _ = stream.shutdown().await;
}

fn router<B: Backend + 'static>(shared: SharedState<B>) -> Router {
    Router::new()
        .route("/v1/models", get(models::<B>))
        .route("/v1/chat/completions", post(chat::<B>))
        .route("/v1/pith/rephrase", post(rephrase::<B>))
        .route("/v1/pith/run/{name}", post(run_command::<B>))
        .fallback(not_found)
        .method_not_allowed_fallback(not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            authorize::<B>,
        ))
        .with_state(shared)
}

fn json_response(status: u16, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error(e: &ApiError) -> Response {
    json_response(e.status, &e.body())
}

/// The job ended without an answer: it panicked (the worker goes on with
/// the next request) or the worker is gone.
fn stopped() -> ApiError {
    ApiError::from_core(&pith_core::Error::Inference(
        "the engine could not finish this request".into(),
    ))
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

/// Only this machine's own programs may talk to the API: a request must
/// name the loopback host it was sent to, and a web page (which a browser
/// marks with `Origin`) is refused, so a site the user visits cannot reach
/// it even by guessing the port.
fn local_caller(request: &Request, port: u16) -> bool {
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| {
            [format!("127.0.0.1:{port}"), format!("localhost:{port}")]
                .iter()
                .any(|allowed| h.eq_ignore_ascii_case(allowed))
        });
    host_ok && !request.headers().contains_key(header::ORIGIN)
}

/// Every route, the unknown ones included, needs a local caller and the
/// token; a request without them is answered before its body is read.
async fn authorize<B: Backend + 'static>(
    State(s): State<SharedState<B>>,
    request: Request,
    next: Next,
) -> Response {
    if !local_caller(&request, s.port) {
        return error(&ApiError {
            status: 403,
            kind: "permission_error",
            message: "only programs on this computer may call Pith's API (a request from a web \
                      page, or naming another host, is refused)"
                .into(),
        });
    }
    let token = s.options.token.as_bytes();
    let ok = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim().as_bytes(), token));
    if !ok {
        return error(&ApiError::unauthorized());
    }
    next.run(request).await
}

async fn not_found(uri: Uri) -> Response {
    error(&ApiError {
        status: 404,
        kind: "not_found_error",
        message: format!(
            "no such endpoint: {} (try /v1/chat/completions or /v1/models)",
            uri.path()
        ),
    })
}

async fn not_allowed(method: Method, uri: Uri) -> Response {
    error(&ApiError {
        status: 405,
        kind: "invalid_request_error",
        message: format!("{method} is not allowed on {}", uri.path()),
    })
}

/// The body, refused with 413 past `limit` bytes: by its announced length
/// before a byte is read, or as it arrives.
async fn read_body(request: Request, limit: usize, within: Duration) -> Result<Bytes, Response> {
    let too_big = || {
        error(&ApiError {
            status: 413,
            kind: "invalid_request_error",
            message: format!("the body is over the {limit}-byte limit"),
        })
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    // A body sent a byte at a time would hold its connection for ever.
    let collected =
        tokio::time::timeout(within, Limited::new(request.into_body(), limit).collect());
    match collected.await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_big()),
        Ok(Err(e)) => Err(error(&ApiError::bad_request(format!(
            "could not read the body: {e}"
        )))),
        Err(_) => Err(error(&ApiError {
            status: 408,
            kind: "invalid_request_error",
            message: format!("the body did not arrive within {} s", within.as_secs_f64()),
        })),
    }
}

/// Cancels a job when dropped before it finished: the client went away.
struct CancelOnDrop(Option<CancelToken>);

impl CancelOnDrop {
    fn done(&mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

async fn models<B: Backend + 'static>(State(s): State<SharedState<B>>) -> Response {
    let ids: Vec<String> = s
        .options
        .candidates
        .iter()
        .filter(|c| c.fits)
        .map(|c| c.id.clone())
        .collect();
    json_response(200, &openai::models(&ids, now()))
}

/// What a completion job tells its handler.
enum Event {
    /// The request is valid and generation starts (or why not); says which
    /// model was unloaded to load this one, if one was.
    Ready(Result<Option<String>, ApiError>),
    Piece(String),
    /// The generation, and the answer read from it when tools were offered.
    Done(Result<(Generation, Option<Answer>), ApiError>),
}

async fn chat<B: Backend + 'static>(State(s): State<SharedState<B>>, request: Request) -> Response {
    let body = match read_body(request, s.options.max_body_bytes, s.options.body_timeout).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let parsed = openai::parse(&body)
        .and_then(|r| r.chat_messages().map(|m| (r, m)))
        .and_then(|(r, m)| r.structured().map(|st| (r, m, st)));
    let (req, messages, structured) = match parsed {
        Ok(p) => p,
        Err(e) => return error(&e),
    };
    // The client's `model` when it names an installed model; else the router.
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str());
    let options = &s.options;
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
        None if structured.is_plain() => routing::route(
            &routing::Request::new(Task::Chat, last_user),
            &options.candidates,
            &options.settings,
        ),
        // Tools and JSON shapes need a grammar: only a local model takes one.
        None => routing::route_locally(
            &routing::Request::new(Task::Chat, last_user),
            &options.candidates,
            &options.settings,
            "tools and JSON formats",
        ),
    };
    let route = match route {
        Ok(r) => r,
        Err(e) => return error(&ApiError::from_core(&e)),
    };
    let id = format!("chatcmpl-{}", s.next_id.fetch_add(1, Ordering::SeqCst));
    let created = now();
    match route.target {
        Target::Remote { base_url, model } => {
            let remote = routing::Remote { base_url, model };
            let key = options.remote_api_key.clone();
            let max_tokens = req.max_tokens.or(req.max_completion_tokens);
            let temperature = req.temperature;
            let label = format!("remote:{}", remote.model);
            let note = openai::pith_note(&label, true, &route.reason);
            let answer = tokio::task::spawn_blocking(move || {
                remote::complete(&remote, key.as_deref(), &messages, max_tokens, temperature)
            })
            .await
            .unwrap_or_else(|_| Err(stopped()));
            match answer {
                Err(e) => error(&e),
                Ok(g) if req.stream => {
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
                    event_stream(Body::from_stream(futures_util::stream::iter(
                        events.map(|e| Ok::<_, Infallible>(Bytes::from(e))),
                    )))
                }
                Ok(g) => json_response(
                    200,
                    &openai::completion(&id, created, &label, &g, None, note),
                ),
            }
        }
        Target::Local { id: model_id } => {
            local_chat(&s, req, structured, model_id, &route.reason, (id, created)).await
        }
    }
}

fn event_stream(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The streamed answer's state: the events still to come.
struct Streaming {
    events: mpsc::UnboundedReceiver<Event>,
    guard: CancelOnDrop,
    first: Option<String>,
    finished: bool,
    id: String,
    created: u64,
    model: String,
}

async fn local_chat<B: Backend + 'static>(
    s: &Shared<B>,
    req: openai::ChatRequest,
    structured: openai::Structured,
    model_id: String,
    reason: &str,
    (id, created): (String, u64),
) -> Response {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let stream = req.stream;
    let job_model = model_id.clone();
    let ticket = s
        .worker
        .submit(Priority::Normal, move |backend: &mut B, cancel| {
            let prepared = backend
                .engine(&job_model)
                .map_err(|e| ApiError::from_core(&e))
                .and_then(|(engine, swap)| {
                    // The template is read from the model only for tools.
                    let template = structured
                        .calls_tools()
                        .then(|| engine.chat_template())
                        .flatten();
                    let (prompt, constraint, format) =
                        req.prompt(&structured, template.as_ref())?;
                    let tokens = engine
                        .prompt_tokens(&prompt)
                        .map_err(|e| ApiError::from_core(&e))?;
                    let mut g = req.to_generate(prompt, tokens, engine.info().context as usize)?;
                    g.constraint = constraint;
                    Ok((engine, g, format, swap))
                });
            let (engine, g, format, swap) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Event::Ready(Err(e)));
                    return;
                }
            };
            let _ = tx.send(Event::Ready(Ok(swap)));
            // Tool calls are sent whole once read and checked.
            let stream_pieces = stream && format.is_none();
            let done = engine
                .generate(&g, cancel, &mut |piece| {
                    if stream_pieces {
                        let _ = tx.send(Event::Piece(piece.to_string()));
                    }
                })
                .and_then(|generation| {
                    let answer = format
                        .map(|f| toolcall::parse(f, &generation.text, &structured.tools))
                        .transpose()?;
                    Ok((generation, answer))
                })
                .map_err(|e| ApiError::from_core(&e));
            let _ = tx.send(Event::Done(done));
        });
    let mut guard = CancelOnDrop(Some(ticket.cancel_token()));
    let mut note = openai::pith_note(&model_id, false, reason);
    match rx.recv().await {
        Some(Event::Ready(Ok(swap))) => {
            if let (Some(swap), Some(obj)) = (swap, note.as_object_mut()) {
                obj.insert("swap".into(), swap.into());
            }
        }
        Some(Event::Ready(Err(e))) => {
            guard.done();
            return error(&e);
        }
        _ => return error(&stopped()),
    }
    if !stream {
        loop {
            match rx.recv().await {
                Some(Event::Done(done)) => {
                    guard.done();
                    return match done {
                        Ok((g, answer)) => json_response(
                            200,
                            &openai::completion(&id, created, &model_id, &g, answer.as_ref(), note),
                        ),
                        Err(e) => error(&e),
                    };
                }
                Some(_) => {}
                None => return error(&stopped()),
            }
        }
    }
    let first = openai::chunk(
        &id,
        created,
        &model_id,
        json!({"role": "assistant", "content": ""}),
        None,
        Some(&note),
    );
    let state = Streaming {
        events: rx,
        guard,
        first: Some(first),
        finished: false,
        id,
        created,
        model: model_id,
    };
    let body = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            return Some((Ok::<_, Infallible>(Bytes::from(first)), st));
        }
        if st.finished {
            return None;
        }
        let text = match st.events.recv().await {
            Some(Event::Piece(p)) => openai::chunk(
                &st.id,
                st.created,
                &st.model,
                json!({ "content": p }),
                None,
                None,
            ),
            Some(Event::Done(done)) => {
                st.guard.done();
                st.finished = true;
                let last = match done {
                    Ok((g, answer)) => {
                        let finish = openai::finish(&g, answer.as_ref());
                        let chunk =
                            |delta| openai::chunk(&st.id, st.created, &st.model, delta, None, None);
                        let mut out = String::new();
                        // What was held back: the answer's text and its calls.
                        if let Some(a) = &answer {
                            if !a.content.is_empty() {
                                out.push_str(&chunk(json!({ "content": a.content })));
                            }
                            if !a.calls.is_empty() {
                                let calls = openai::tool_calls(&st.id, &a.calls, true);
                                out.push_str(&chunk(json!({ "tool_calls": calls })));
                            }
                        }
                        out.push_str(&openai::chunk(
                            &st.id,
                            st.created,
                            &st.model,
                            json!({}),
                            Some(finish),
                            None,
                        ));
                        out
                    }
                    Err(e) => format!("data: {}\n\n", e.body()),
                };
                format!("{last}data: [DONE]\n\n")
            }
            Some(Event::Ready(_)) => String::new(),
            None => {
                st.finished = true;
                format!("data: {}\n\ndata: [DONE]\n\n", stopped().body())
            }
        };
        Some((Ok(Bytes::from(text)), st))
    });
    event_stream(Body::from_stream(body))
}

/// `POST /v1/pith/rephrase`: `{"text", "mode"?, "larger"?, "model"?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RephraseBody {
    text: String,
    #[serde(default)]
    mode: Option<RephraseMode>,
    #[serde(default)]
    larger: bool,
    #[serde(default)]
    model: Option<String>,
}

async fn rephrase<B: Backend + 'static>(
    State(s): State<SharedState<B>>,
    request: Request,
) -> Response {
    let body = match read_body(request, s.options.max_body_bytes, s.options.body_timeout).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let ask: RephraseBody = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return error(&ApiError::bad_request(format!(
                "not a rephrase request ({{\"text\", \"mode\", \"larger\", \"model\"}}): {e}"
            )))
        }
    };
    let options = &s.options;
    let start = match ask.model {
        Some(m) if options.candidates.iter().any(|c| c.fits && c.id == m) => Start::Only(m),
        Some(m) => {
            return error(&ApiError {
                status: 404,
                kind: "not_found_error",
                message: format!("no installed model {m:?} fits this machine"),
            })
        }
        None => Start::Routed,
    };
    let candidates = options.candidates.clone();
    let settings = options.settings.clone();
    let mode = ask.mode.unwrap_or(RephraseMode::Proofread);
    let history = options
        .history
        .as_deref()
        .and_then(|p| pith_core::history::History::open(p).ok())
        .map(|(h, _)| h);
    let examples = examples_for(history.as_ref(), true, mode.name(), &ask.text);
    drop(history);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ticket = s
        .worker
        .submit(Priority::Interactive, move |backend: &mut B, cancel| {
            let request = RephraseRequest {
                larger: ask.larger,
                examples: &examples,
                ..RephraseRequest::new(&ask.text, mode)
            };
            let routed = rephrase_routed(
                backend,
                &|| candidates.clone(),
                &settings,
                &start,
                &request,
                cancel,
                &mut |_, _| {},
            );
            let _ = tx.send(routed);
        });
    let mut guard = CancelOnDrop(Some(ticket.cancel_token()));
    let routed = rx.recv().await;
    guard.done();
    let routed = match routed {
        Some(Ok(r)) => r,
        Some(Err(e)) => return error(&ApiError::from_core(&e)),
        None => return error(&stopped()),
    };
    let offer = routed.offer().map(|t| t.label());
    match routed.result {
        Ok(r) => json_response(
            200,
            &json!({
                "text": r.text,
                "mode": r.mode,
                "unchanged": r.unchanged,
                "attempts": r.attempts,
                "model": routed.model,
                "route": routed.route.reason,
                "escalated": routed.escalated,
            }),
        ),
        Err(e) => {
            let mut body = ApiError::from_core(&e);
            if e.code() == ErrorCode::ResultRejected {
                if let Some(offer) = offer {
                    body.message = format!(
                        "{} ({}; send \"larger\": true to use {offer})",
                        body.message, routed.route.reason
                    );
                }
            }
            error(&body)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    text: String,
    /// The day relative dates count from (YYYY-MM-DD); default today.
    #[serde(default)]
    today: Option<chrono::NaiveDate>,
    #[serde(default)]
    tone: Option<Tone>,
}

/// `POST /v1/pith/run/{name}`: a built-in workflow (action-items, event,
/// reply) or one of the user's commands, routed and checked as everywhere
/// else. The answer is the result with `"ok"`: a result that failed the
/// checks comes back with `"ok": false` and its problems, never as a plain
/// success. Nothing is written anywhere: the result is only returned.
async fn run_command<B: Backend + 'static>(
    State(s): State<SharedState<B>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let body = match read_body(request, s.options.max_body_bytes, s.options.body_timeout).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let ask: RunBody = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return error(&ApiError::bad_request(format!(
                "not a run request ({{\"text\", \"today\", \"tone\"}}): {e}"
            )))
        }
    };
    let target = match commands::Target::find(&name, &s.options.commands) {
        Ok(t) => t,
        Err(e) => return error(&ApiError::from_core(&e)),
    };
    let order = target.order(&s.options.candidates, None);
    let now = commands::RunOptions::now();
    let options = commands::RunOptions {
        today: ask.today.unwrap_or(now.today),
        tone: ask.tone.unwrap_or_default(),
        ..now
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ticket = s
        .worker
        .submit(Priority::Normal, move |backend: &mut B, cancel| {
            let got = commands::run_routed(
                backend,
                &order,
                &target,
                &ask.text,
                &options,
                cancel,
                &mut |_, _| {},
            );
            let _ = tx.send(got);
        });
    let mut guard = CancelOnDrop(Some(ticket.cancel_token()));
    let got = rx.recv().await;
    guard.done();
    match got {
        Some(Ok(result)) => {
            let mut value = serde_json::to_value(&result).unwrap_or_default();
            value["ok"] = result.ok().into();
            json_response(200, &value)
        }
        Some(Err(e)) => error(&ApiError::from_core(&e)),
        None => error(&stopped()),
    }
}
