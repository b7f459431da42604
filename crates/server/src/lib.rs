//! The local OpenAI-compatible API: `/v1/chat/completions` (with streaming
//! as server-sent events), `/v1/models`, and Pith's own
//! `/v1/pith/rephrase` (the same routed rephrase, with escalation, as the
//! window, the hotkey and the command line) and `/v1/pith/run/{name}` (a
//! built-in workflow or one of the user's commands), so other programs on
//! this computer can use Pith's models.
//!
//! Off by default. It binds 127.0.0.1 only and refuses any request without
//! the token it was started with, before reading its body. Every request
//! is routed (`pith_core::routing`) and runs as a job on the one inference
//! worker, so API requests queue with the app's own work instead of
//! competing for the CPU; a remote endpoint is called only when the user
//! switched it on, and its answers are marked `"remote": true`.
//!
//! The HTTP stack is axum on hyper, driven by our own accept loop so that
//! every connection has bounds before anything else happens: a count of
//! connections served at once (the rest get a 503 and are closed), a time
//! limit on receiving the request's headers, a cap on their size, and a
//! body limit; the server shuts down gracefully when dropped.

pub mod openai;
pub mod remote;

mod routes;

use pith_core::engine::{Backend, Worker};
use pith_core::error::{Error, Result};
use pith_core::routing::{self, Candidate};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
    /// The user's commands, run by `/v1/pith/run/{name}` beside the
    /// built-in workflows.
    pub commands: Vec<pith_core::commands::CustomCommand>,
    /// Connections served at once (the rest are told to retry: 503).
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// The most bytes of headers a request may send.
    pub max_header_bytes: usize,
    /// Time a client has to send a request's body once its headers are in
    /// (a body sent a byte at a time would hold its connection for ever).
    pub body_timeout: Duration,
    /// The history whose accepted rewrites join rephrase prompts as
    /// examples (`None`: no examples).
    pub history: Option<std::path::PathBuf>,
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
            commands: Vec::new(),
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(30),
            history: None,
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

/// What every request handler shares.
struct Shared<B> {
    worker: Arc<Worker<B>>,
    options: ServerOptions,
    /// The port actually bound (the options may say 0).
    port: u16,
    next_id: AtomicU64,
}

pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on 127.0.0.1 and answers on a background thread until
    /// stopped or dropped.
    pub fn start<B: Backend + 'static>(
        worker: Arc<Worker<B>>,
        options: ServerOptions,
    ) -> Result<Server> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port)).map_err(|e| {
            Error::InvalidInput(format!(
                "could not listen on 127.0.0.1:{}: {e}",
                options.port
            ))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("could not set up the listening socket", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("the server has no address", e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pith-api")
            .enable_all()
            .build()
            .map_err(|e| Error::io("could not start the API's runtime", e))?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            worker,
            options,
            port: addr.port(),
            next_id: AtomicU64::new(1),
        });
        let thread = std::thread::Builder::new()
            .name("pith-api".into())
            .spawn(move || runtime.block_on(routes::serve(listener, shared, stopped)))
            .map_err(|e| Error::io("could not start the API thread", e))?;
        Ok(Server {
            addr,
            stop: Some(stop),
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

    /// Blocks until the server stops (for `pith serve`, which runs until
    /// the process is ended).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    /// Stops accepting, lets the requests in flight finish (a few seconds
    /// at most), and joins the server's thread.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests;
