use super::*;
use pith_core::engine::{Engine, ScriptStep, ScriptedEngine, SingleModel};
use pith_core::routing::Remote;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use tiny_http::Response;

const TOKEN: &str = "test-token-123";

fn candidates() -> Vec<Candidate> {
    vec![Candidate {
        id: "small".into(),
        parameters: 135_000_000,
        fits: true,
    }]
}

fn serve(engine: ScriptedEngine, options: ServerOptions) -> Server {
    let worker = Worker::spawn(move || {
        Ok(SingleModel {
            id: "small".into(),
            engine,
        })
    })
    .expect("worker");
    Server::start(Arc::new(worker), options).expect("server")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post(server: &Server, token: Option<&str>, body: &str) -> (u16, String) {
    let mut req = agent()
        .post(format!("{}/chat/completions", server.base_url()))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send(body.to_string()).expect("sent");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().expect("body"))
}

const HELLO: &str = r#"{"messages":[{"role":"user","content":"Say hello"}]}"#;

#[test]
fn a_completion_is_answered_with_the_model_and_the_route() {
    let server = serve(
        ScriptedEngine::new(4096).reply("Hello there."),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let (status, body) = post(&server, Some(TOKEN), HELLO);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello there.");
    assert_eq!(v["model"], "small");
    assert_eq!(v["pith"]["remote"], false);
    assert!(v["pith"]["route"]
        .as_str()
        .expect("route")
        .contains("simple message"));
}

#[test]
fn a_streamed_completion_arrives_as_server_sent_events() {
    let mut engine = ScriptedEngine::new(4096);
    engine.push_script(vec![
        ScriptStep::Piece("Hel".into()),
        ScriptStep::Piece("lo, ".into()),
        ScriptStep::Piece("world.".into()),
    ]);
    let server = serve(engine, ServerOptions::new(TOKEN.into(), candidates()));
    let mut resp = agent()
        .post(format!("{}/chat/completions", server.base_url()))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send(r#"{"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "text/event-stream");
    let reader = BufReader::new(resp.body_mut().as_reader());
    let mut text = String::new();
    let mut events = Vec::new();
    for line in reader.lines() {
        let line = line.expect("line");
        if let Some(data) = line.strip_prefix("data: ") {
            events.push(data.to_string());
            if data != "[DONE]" {
                let v: Value = serde_json::from_str(data).expect("event json");
                text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
            }
        }
    }
    assert_eq!(text, "Hello, world.");
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    // role chunk, three pieces, the finish chunk, [DONE]
    assert_eq!(events.len(), 6, "{events:?}");
    let first: Value = serde_json::from_str(&events[0]).expect("json");
    assert_eq!(first["pith"]["model"], "small");
    let finish: Value = serde_json::from_str(&events[4]).expect("json");
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
}

#[test]
fn requests_without_the_right_token_are_refused_with_401() {
    let server = serve(
        ScriptedEngine::new(4096),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    for token in [None, Some("wrong"), Some("test-token-12")] {
        let (status, body) = post(&server, token, HELLO);
        assert_eq!(status, 401, "{token:?}");
        assert!(body.contains("authentication_error"), "{body}");
    }
    let resp = agent()
        .get(format!("{}/models", server.base_url()))
        .call()
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 401);
}

#[test]
fn malformed_requests_are_refused_with_400_and_a_message() {
    let server = serve(
        ScriptedEngine::new(4096),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    for (body, why) in [
        ("{\"messages\": [", "not valid JSON"),
        ("{\"messages\": []}", "empty"),
        (
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":99999}",
            "max_tokens",
        ),
    ] {
        let (status, text) = post(&server, Some(TOKEN), body);
        assert_eq!(status, 400, "{body}: {text}");
        let v: Value = serde_json::from_str(&text).expect("json error");
        assert!(
            v["error"]["message"]
                .as_str()
                .expect("message")
                .contains(why),
            "{text}"
        );
    }
    let mut small = ServerOptions::new(TOKEN.into(), candidates());
    small.max_body_bytes = 100;
    let server = serve(ScriptedEngine::new(4096), small);
    let (status, _) = post(
        &server,
        Some(TOKEN),
        &format!("{{\"x\":\"{}\"}}", "a".repeat(200)),
    );
    assert_eq!(status, 413);
}

#[test]
fn unknown_paths_and_methods_are_named() {
    let server = serve(
        ScriptedEngine::new(4096),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let auth = format!("Bearer {TOKEN}");
    let resp = agent()
        .get(format!("{}/completions", server.base_url()))
        .header("Authorization", &auth)
        .call()
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 404);
    let resp = agent()
        .get(format!("{}/chat/completions", server.base_url()))
        .header("Authorization", &auth)
        .call()
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 405);
    let mut resp = agent()
        .get(format!("{}/models", server.base_url()))
        .header("Authorization", &auth)
        .call()
        .expect("sent");
    let v: Value =
        serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("json");
    assert_eq!(v["data"][0]["id"], "small");
}

#[test]
fn concurrent_requests_are_all_answered_through_the_one_worker() {
    let mut engine = ScriptedEngine::new(4096);
    for i in 0..10 {
        engine.push_reply(&format!("Answer {i}."));
    }
    let server = serve(engine, ServerOptions::new(TOKEN.into(), candidates()));
    let url = server.base_url();
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut resp = agent()
                    .post(format!("{url}/chat/completions"))
                    .header("Authorization", &format!("Bearer {TOKEN}"))
                    .send(HELLO)
                    .expect("sent");
                let status = resp.status().as_u16();
                let body = resp.body_mut().read_to_string().expect("body");
                (status, body)
            })
        })
        .collect();
    let mut answers: Vec<String> = handles
        .into_iter()
        .map(|h| {
            let (status, body) = h.join().expect("thread");
            assert_eq!(status, 200, "{body}");
            let v: Value = serde_json::from_str(&body).expect("json");
            v["choices"][0]["message"]["content"]
                .as_str()
                .expect("content")
                .to_string()
        })
        .collect();
    answers.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("Answer {i}.")).collect();
    expected.sort();
    assert_eq!(answers, expected, "each request got its own answer");
}

/// A fake OpenAI-compatible endpoint on loopback: answers every chat
/// completion with `answer`, and reports each request's Authorization
/// header and body.
fn fake_remote(answer: &'static str) -> (String, mpsc::Receiver<(String, Value)>) {
    let http = tiny_http::Server::http("127.0.0.1:0").expect("fake server");
    let addr = http.server_addr().to_ip().expect("ip");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for mut request in http.incoming_requests() {
            let auth = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.to_string())
                .unwrap_or_default();
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let _ = tx.send((auth, serde_json::from_str(&body).unwrap_or_default()));
            let reply = json!({
                "id": "x", "object": "chat.completion", "model": "big",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
            });
            let _ = request.respond(Response::from_string(reply.to_string()));
        }
    });
    (format!("http://{addr}/v1"), rx)
}

#[test]
fn a_hard_question_goes_to_the_remote_endpoint_only_when_it_is_on_and_is_marked() {
    let (base_url, seen) = fake_remote("x = 5");
    let hard = r#"{"messages":[{"role":"user","content":"Solve 3x + 7 = 22 for x."}]}"#;
    // Off (the default): the local model answers; the endpoint hears nothing.
    let server = serve(
        ScriptedEngine::new(4096).reply("Local answer."),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let (status, body) = post(&server, Some(TOKEN), hard);
    assert_eq!(status, 200);
    assert!(body.contains("Local answer."));
    assert!(
        seen.try_recv().is_err(),
        "nothing was sent while remote is off"
    );
    // On: the hard question is answered remotely, marked, with the key.
    let mut options = ServerOptions::new(TOKEN.into(), candidates());
    options.settings.remote = Some(Remote {
        base_url,
        model: "big".into(),
    });
    options.remote_api_key = Some("sk-test".into());
    let server = serve(ScriptedEngine::new(4096), options);
    let (status, body) = post(&server, Some(TOKEN), hard);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "x = 5");
    assert_eq!(v["pith"]["remote"], true);
    assert_eq!(v["model"], "remote:big");
    let (auth, sent) = seen
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("sent");
    assert_eq!(auth, "Bearer sk-test");
    assert_eq!(sent["model"], "big");
    assert_eq!(sent["messages"][0]["content"], "Solve 3x + 7 = 22 for x.");
}

#[test]
fn tokens_are_random_and_long() {
    let a = generate_token().expect("token");
    let b = generate_token().expect("token");
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

/// Two scripted models; loading one "unloads" the other, as a pool does
/// when both do not fit.
struct Swapping {
    engines: Vec<(String, ScriptedEngine)>,
    loaded: String,
}

impl Backend for Swapping {
    fn engine(&mut self, id: &str) -> pith_core::Result<(&mut dyn Engine, Option<String>)> {
        let note =
            (self.loaded != id).then(|| format!("unloaded {} to load {id} (0.10 s)", self.loaded));
        self.loaded = id.to_string();
        let (_, e) = self
            .engines
            .iter_mut()
            .find(|(name, _)| name == id)
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        Ok((e, note))
    }
}

#[test]
fn a_hard_question_goes_to_the_larger_model_and_a_swap_is_reported() {
    let worker = Worker::spawn(|| {
        Ok(Swapping {
            engines: vec![
                ("small".into(), ScriptedEngine::new(4096).reply("Hi!")),
                ("large".into(), ScriptedEngine::new(4096).reply("391")),
            ],
            loaded: "small".into(),
        })
    })
    .expect("worker");
    let mut cands = candidates();
    cands.push(Candidate {
        id: "large".into(),
        parameters: 1_500_000_000,
        fits: true,
    });
    let server =
        Server::start(Arc::new(worker), ServerOptions::new(TOKEN.into(), cands)).expect("server");
    let (_, body) = post(&server, Some(TOKEN), HELLO);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["model"], "small");
    assert!(v["pith"].get("swap").is_none(), "{v}");
    let (_, body) = post(
        &server,
        Some(TOKEN),
        r#"{"messages":[{"role":"user","content":"What is 17 * 23?"}]}"#,
    );
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["model"], "large");
    assert_eq!(v["choices"][0]["message"]["content"], "391");
    assert_eq!(v["pith"]["swap"], "unloaded small to load large (0.10 s)");
    assert!(v["pith"]["route"]
        .as_str()
        .expect("route")
        .contains("asks for math"));
}

fn two_models(small: ScriptedEngine, large: ScriptedEngine) -> Worker<Swapping> {
    Worker::spawn(|| {
        Ok(Swapping {
            engines: vec![("small".into(), small), ("large".into(), large)],
            loaded: "small".into(),
        })
    })
    .expect("worker")
}

fn small_and_large() -> Vec<Candidate> {
    let mut c = candidates();
    c.push(Candidate {
        id: "large".into(),
        parameters: 1_500_000_000,
        fits: true,
    });
    c
}

fn rephrase(server: &Server, body: &str) -> (u16, Value) {
    pith_post(server, "rephrase", body)
}

/// A request to one of Pith's own endpoints, `/v1/pith/{path}`.
fn pith_post(server: &Server, path: &str, body: &str) -> (u16, Value) {
    let mut resp = agent()
        .post(format!("{}/pith/{path}", server.base_url()))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send(body.to_string())
        .expect("sent");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).expect("json"))
}

#[test]
fn the_rephrase_endpoint_routes_and_escalates_like_every_other_way_in() {
    const BAD: &str = "I'm sorry about that.";
    const ASK: &str = r#"{"text":"Send the invoice by Friday.","mode":"friendly"}"#;
    let failing = || ScriptedEngine::new(4096).reply(BAD).reply(BAD).reply(BAD);
    let good = "Hi! Could you send the invoice by Friday? Thanks!";
    // Without auto_escalate: refused with the offer of the larger model.
    let server = Server::start(
        Arc::new(two_models(failing(), ScriptedEngine::new(4096).reply(good))),
        ServerOptions::new(TOKEN.into(), small_and_large()),
    )
    .expect("server");
    let (status, v) = rephrase(&server, ASK);
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["type"], "result_rejected");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("\"larger\": true to use large"),
        "{message}"
    );
    // With it: the larger model's rewrite, marked as escalated.
    let mut options = ServerOptions::new(TOKEN.into(), small_and_large());
    options.settings.auto_escalate = true;
    let server = Server::start(
        Arc::new(two_models(failing(), ScriptedEngine::new(4096).reply(good))),
        options,
    )
    .expect("server");
    let (status, v) = rephrase(&server, ASK);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["text"], good);
    assert_eq!(v["model"], "large");
    assert_eq!(v["escalated"], true);
    // A body that is not a rephrase request says what one is.
    let (status, v) = rephrase(&server, r#"{"txt":"x"}"#);
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .expect("m")
        .contains("\"text\""));
}

/// Sends raw bytes on a new connection and returns what comes back before
/// the server closes it (or 5 s pass).
fn raw(server: &Server, request: &[u8]) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(server.addr()).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn an_unauthenticated_request_announcing_a_huge_body_is_refused_without_reading_it() {
    // Before: the HTTP library allocated the announced body and the
    // process aborted. Now the token is checked first and nothing is read.
    let server = serve(
        ScriptedEngine::new(4096).reply("Still here."),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let unauthorized = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nContent-Length: 100000000000\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    let reply = raw(&server, unauthorized.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    let authorized = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100000000000\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    assert!(raw(&server, authorized.as_bytes()).starts_with("HTTP/1.1 413"));
    let (status, body) = post(&server, Some(TOKEN), HELLO);
    assert_eq!(status, 200, "the server still answers: {body}");
}

#[test]
fn connections_past_the_limit_are_told_to_retry_and_idle_ones_time_out() {
    let mut options = ServerOptions::new(TOKEN.into(), candidates());
    options.max_connections = 2;
    options.header_timeout = std::time::Duration::from_millis(500);
    let server = serve(ScriptedEngine::new(4096).reply("Hello."), options);
    // Two clients connect and send nothing.
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(server.addr()).expect("connect"))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let reply = raw(&server, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("server_busy"), "{reply}");
    // The idle ones are closed when their time to send headers runs out,
    // and the server serves again.
    for mut s in idle {
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut s, &mut out);
    }
    let (status, _) = post(&server, Some(TOKEN), HELLO);
    assert_eq!(status, 200);
}

#[test]
fn headers_past_their_size_limit_are_refused() {
    let server = serve(
        ScriptedEngine::new(4096),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let big = format!(
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let reply = raw(&server, big.as_bytes());
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431") || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );
}

#[test]
fn a_web_page_or_another_host_name_is_refused_with_403() {
    // A page in the user's browser could otherwise post to the API (it
    // sends an Origin), or reach it under its own name by DNS rebinding.
    let server = serve(
        ScriptedEngine::new(4096).reply("Hello."),
        ServerOptions::new(TOKEN.into(), candidates()),
    );
    let from_page = format!(
        "GET /v1/models HTTP/1.1\r\nHost: {}\r\nOrigin: https://example.com\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    let reply = raw(&server, from_page.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(reply.contains("permission_error"), "{reply}");
    let rebound = format!(
        "GET /v1/models HTTP/1.1\r\nHost: attacker.example:{}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n",
        server.addr().port()
    );
    assert!(raw(&server, rebound.as_bytes()).starts_with("HTTP/1.1 403"));
    let local = format!(
        "GET /v1/models HTTP/1.1\r\nHost: localhost:{}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n",
        server.addr().port()
    );
    assert!(raw(&server, local.as_bytes()).starts_with("HTTP/1.1 200"));
}

/// A scripted engine that reports, as each generation ends, whether its
/// request was cancelled.
struct Reporting {
    inner: ScriptedEngine,
    ended: mpsc::Sender<bool>,
}

impl Engine for Reporting {
    fn info(&self) -> &pith_core::engine::ModelInfo {
        self.inner.info()
    }
    fn count_tokens(&self, text: &str) -> pith_core::Result<usize> {
        self.inner.count_tokens(text)
    }
    fn prompt_tokens(&self, prompt: &pith_core::engine::Prompt) -> pith_core::Result<usize> {
        self.inner.prompt_tokens(prompt)
    }
    fn generate(
        &mut self,
        request: &pith_core::engine::GenerateRequest,
        cancel: &pith_core::engine::CancelToken,
        on_piece: &mut dyn FnMut(&str),
    ) -> pith_core::Result<pith_core::engine::Generation> {
        let r = self.inner.generate(request, cancel, on_piece);
        let _ = self.ended.send(cancel.is_cancelled());
        r
    }
}

#[test]
fn a_client_that_leaves_a_request_cancels_it_and_the_next_one_is_answered() {
    // Before: a non-streaming request went on generating after its client
    // left, and the next request waited behind it.
    let mut inner = ScriptedEngine::new(4096);
    inner.push_script(vec![ScriptStep::WaitForCancel]);
    inner.push_reply("Next.");
    let (ended, endings) = mpsc::channel();
    let worker = Worker::spawn(move || {
        Ok(SingleModel {
            id: "small".into(),
            engine: Reporting { inner, ended },
        })
    })
    .expect("worker");
    let server = Server::start(
        Arc::new(worker),
        ServerOptions::new(TOKEN.into(), candidates()),
    )
    .expect("server");
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(server.addr()).expect("connect");
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{HELLO}",
            server.addr(),
            HELLO.len()
        );
        s.write_all(request.as_bytes()).expect("write");
        std::thread::sleep(std::time::Duration::from_millis(300));
    } // the client goes away mid-generation
    let first = endings
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the first generation ended");
    assert!(first, "the left request was cancelled, not run to its end");
    let (status, body) = post(&server, Some(TOKEN), HELLO);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Next."), "{body}");
}

#[test]
fn a_body_that_does_not_arrive_in_time_is_refused_with_408() {
    let mut options = ServerOptions::new(TOKEN.into(), candidates());
    options.body_timeout = std::time::Duration::from_millis(300);
    let server = serve(ScriptedEngine::new(4096).reply("Hello."), options);
    let trickle = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\n{{\"messages\"",
        server.addr()
    );
    let reply = raw(&server, trickle.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let (status, _) = post(&server, Some(TOKEN), HELLO);
    assert_eq!(status, 200, "the server answers the next request");
}

fn run(server: &Server, name: &str, body: &str) -> (u16, Value) {
    pith_post(server, &format!("run/{name}"), body)
}

#[test]
fn the_run_endpoint_runs_workflows_and_the_users_commands_and_flags_what_fails() {
    let event = "{\"title\": \"Launch plan\", \"date\": \"next Tuesday\", \"time\": \"at 3\", \"location\": \"none\"}";
    let mut engine = ScriptedEngine::new(4096).reply(event);
    for _ in 0..3 {
        engine.push_reply("");
    }
    let mut options = ServerOptions::new(TOKEN.into(), candidates());
    options.commands = vec![pith_core::commands::CustomCommand::new(
        "to-french",
        "Translate into French: {text}",
    )];
    let server = serve(engine, options);
    let (status, v) = run(
        &server,
        "event",
        r#"{"text": "Can we go over the launch plan next Tuesday at 3?", "today": "2026-12-03"}"#,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["event"]["date"], "2026-12-08");
    assert!(v["text"].as_str().expect("ics").contains("BEGIN:VEVENT"));
    // Every try empty: flagged, not a success.
    let (status, v) = run(&server, "to-french", r#"{"text": "Hello"}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0], "the model returned nothing");
    let (status, v) = run(&server, "nope", r#"{"text": "Hello"}"#);
    assert_eq!(status, 404, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .expect("m")
        .contains("to-french"));
    let (status, v) = run(&server, "reply", r#"{"text": "Hi", "tone": "rude"}"#);
    assert_eq!(status, 400, "{v}");
}
