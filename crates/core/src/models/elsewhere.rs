//! GGUF files that other tools keep, found where they keep them and used
//! read-only (never moved, changed or deleted): the Hugging Face cache,
//! LM Studio's models folder, Ollama's blobs through its manifests, and
//! llama.cpp's download cache. Where the layout names a file by its
//! sha256 (a Hugging Face blob, an Ollama digest) it is matched to the
//! catalog by that checksum, without reading the file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The tool a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    HuggingFace,
    LmStudio,
    Ollama,
    LlamaCpp,
}

impl Tool {
    pub fn label(self) -> &'static str {
        match self {
            Tool::HuggingFace => "the Hugging Face cache",
            Tool::LmStudio => "LM Studio",
            Tool::Ollama => "Ollama",
            Tool::LlamaCpp => "llama.cpp's cache",
        }
    }
}

/// One file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file to load (for a Hugging Face snapshot, the blob it links to).
    pub path: PathBuf,
    pub tool: Tool,
    /// What the tool calls it: `org/repo/file.gguf`, `llama3.2:1b`.
    pub name: String,
    /// The id Pith lists it under: the file's stem, or for an Ollama blob
    /// the model's name and tag.
    pub id: String,
    /// The sha256 the layout gives (a Hugging Face blob's name, an Ollama
    /// digest).
    pub sha256: Option<String>,
}

/// Where each tool keeps its models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    pub hugging_face: Vec<PathBuf>,
    pub lm_studio: Vec<PathBuf>,
    pub ollama: Vec<PathBuf>,
    pub llama_cpp: Vec<PathBuf>,
}

impl Places {
    /// The folders under `home`, or where the tools' own variables point
    /// (`HF_HUB_CACHE`, `HF_HOME`, `OLLAMA_MODELS`, `LLAMA_CACHE`).
    pub fn new(home: &Path, var: impl Fn(&str) -> Option<OsString>) -> Self {
        let from = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let hugging_face = from("HF_HUB_CACHE")
            .or_else(|| from("HF_HOME").map(|h| h.join("hub")))
            .unwrap_or_else(|| home.join(".cache/huggingface/hub"));
        let ollama = match from("OLLAMA_MODELS") {
            Some(d) => vec![d],
            // The per-user install, and the Linux service's.
            None => vec![
                home.join(".ollama/models"),
                PathBuf::from("/usr/share/ollama/.ollama/models"),
            ],
        };
        Self {
            hugging_face: vec![hugging_face],
            lm_studio: vec![
                home.join(".lmstudio/models"),
                home.join(".cache/lm-studio/models"),
            ],
            ollama,
            llama_cpp: vec![from("LLAMA_CACHE").unwrap_or_else(|| home.join(".cache/llama.cpp"))],
        }
    }

    /// This user's. None when `PITH_MODELS_DIR` is set (it replaces every
    /// other place, so tests and scripts see exactly what they put there).
    pub fn system() -> Self {
        if std::env::var_os("PITH_MODELS_DIR").is_some() {
            return Self::default();
        }
        match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => Self::new(Path::new(&home), |v| std::env::var_os(v)),
            None => Self::default(),
        }
    }
}

/// Most files looked at in one folder tree: a cache can hold anything.
const MAX_ENTRIES: usize = 2000;

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `.gguf` files under `dir`, at most `depth` folders down, in order.
fn gguf_files(dir: &Path, depth: usize, budget: &mut usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        if p.is_dir() && depth > 0 {
            out.extend(gguf_files(&p, depth - 1, budget));
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
            && p.is_file()
        {
            out.push(p);
        }
    }
    out
}

fn hugging_face(hub: &Path, out: &mut Vec<Found>) {
    let Ok(repos) = std::fs::read_dir(hub) else {
        return;
    };
    let mut repos: Vec<PathBuf> = repos.filter_map(|e| e.ok().map(|e| e.path())).collect();
    repos.sort();
    let mut budget = MAX_ENTRIES;
    for repo in repos {
        let Some(dir) = repo.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(name) = dir.strip_prefix("models--") else {
            continue;
        };
        let repo_name = name.replacen("--", "/", 1);
        for file in gguf_files(&repo.join("snapshots"), 3, &mut budget) {
            // A snapshot's file is a link to its blob, named by its sha256.
            let blob = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            let sha = blob
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| is_hex64(n));
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(Found {
                id: stem(&file),
                name: format!("{repo_name}/{file_name}"),
                path: blob,
                tool: Tool::HuggingFace,
                sha256: sha,
            });
        }
    }
}

fn in_folders(dirs: &[PathBuf], depth: usize, tool: Tool, out: &mut Vec<Found>) {
    for dir in dirs {
        let mut budget = MAX_ENTRIES;
        for file in gguf_files(dir, depth, &mut budget) {
            let name = file
                .strip_prefix(dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            out.push(Found {
                id: stem(&file),
                name,
                path: file,
                tool,
                sha256: None,
            });
        }
    }
}

/// The model blob an Ollama manifest names, with its digest.
fn ollama_model_layer(manifest: &Path) -> Option<String> {
    if std::fs::metadata(manifest).ok()?.len() > 1 << 20 {
        return None;
    }
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["layers"]
        .as_array()?
        .iter()
        .find(|l| l["mediaType"] == "application/vnd.ollama.image.model")
        .and_then(|l| l["digest"].as_str())
        .and_then(|d| d.strip_prefix("sha256:"))
        .filter(|d| is_hex64(d))
        .map(str::to_string)
}

fn ollama(root: &Path, out: &mut Vec<Found>) {
    let manifests = root.join("manifests");
    let mut budget = MAX_ENTRIES;
    // manifests/REGISTRY/NAMESPACE/MODEL/TAG
    let mut stack = vec![(manifests.clone(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        paths.reverse();
        for p in paths {
            if budget == 0 {
                return;
            }
            budget -= 1;
            if p.is_dir() && depth < 3 {
                stack.push((p, depth + 1));
            } else if p.is_file() && depth == 3 {
                let Some(digest) = ollama_model_layer(&p) else {
                    continue;
                };
                let blob = root.join("blobs").join(format!("sha256-{digest}"));
                if !blob.is_file() {
                    continue;
                }
                let rel: Vec<String> = p
                    .strip_prefix(&manifests)
                    .unwrap_or(&p)
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                let [registry, namespace, model, tag] = rel.as_slice() else {
                    continue;
                };
                let name = match (registry.as_str(), namespace.as_str()) {
                    ("registry.ollama.ai", "library") => format!("{model}:{tag}"),
                    ("registry.ollama.ai", ns) => format!("{ns}/{model}:{tag}"),
                    (reg, ns) => format!("{reg}/{ns}/{model}:{tag}"),
                };
                let id = format!("ollama-{model}-{tag}")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect();
                out.push(Found {
                    path: blob,
                    tool: Tool::Ollama,
                    name,
                    id,
                    sha256: Some(digest),
                });
            }
        }
    }
}

/// Every model file the other tools keep in `places`, each once.
pub fn find(places: &Places) -> Vec<Found> {
    let mut out = Vec::new();
    for hub in &places.hugging_face {
        hugging_face(hub, &mut out);
    }
    in_folders(&places.lm_studio, 3, Tool::LmStudio, &mut out);
    for root in &places.ollama {
        ollama(root, &mut out);
    }
    in_folders(&places.llama_cpp, 0, Tool::LlamaCpp, &mut out);
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert(f.path.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::gguf::tests::tiny_gguf;

    const SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

    /// A home with each tool's layout, as the tools write them.
    fn home() -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("tmp");
        let h = home.path();
        let write = |p: &Path| {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, tiny_gguf()).expect("write");
        };
        // Hugging Face: snapshots link to blobs named by their sha256.
        let repo =
            h.join(".cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF");
        write(&repo.join("blobs").join(SHA));
        let snap = repo.join("snapshots/0123abcd");
        std::fs::create_dir_all(&snap).expect("mkdir");
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            repo.join("blobs").join(SHA),
            snap.join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        )
        .expect("link");
        // LM Studio: publisher/repo/file.
        write(&h.join(".lmstudio/models/lmstudio-community/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf"));
        // Ollama: a manifest naming the model layer's blob.
        let ollama = h.join(".ollama/models");
        let digest = "a".repeat(64);
        write(&ollama.join("blobs").join(format!("sha256-{digest}")));
        let manifest = ollama.join("manifests/registry.ollama.ai/library/llama3.2/1b");
        std::fs::create_dir_all(manifest.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &manifest,
            format!(
                "{{\"schemaVersion\":2,\"layers\":[{{\"mediaType\":\"application/vnd.ollama.image.template\",\"digest\":\"sha256:{}\"}},\
                 {{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:{digest}\"}}]}}",
                "b".repeat(64)
            ),
        )
        .expect("manifest");
        // A manifest whose blob is gone is skipped.
        let orphan = ollama.join("manifests/registry.ollama.ai/library/gone/latest");
        std::fs::create_dir_all(orphan.parent().expect("parent")).expect("mkdir");
        std::fs::write(&orphan, format!("{{\"layers\":[{{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"sha256:{}\"}}]}}", "c".repeat(64))).expect("manifest");
        // llama.cpp's cache: files at the top.
        write(&h.join(".cache/llama.cpp/ggml-org_gemma-3-1b-it-GGUF_gemma-3-1b-it-Q4_K_M.gguf"));
        home
    }

    #[test]
    fn each_tools_layout_is_found_with_what_it_calls_the_model() {
        let home = home();
        let found = find(&Places::new(home.path(), |_| None));
        let got: Vec<(Tool, &str, &str, Option<&str>)> = found
            .iter()
            .map(|f| (f.tool, f.name.as_str(), f.id.as_str(), f.sha256.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Tool::HuggingFace,
                    "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf",
                    "SmolLM2-135M-Instruct.Q4_1",
                    Some(SHA)
                ),
                (
                    Tool::LmStudio,
                    "lmstudio-community/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf",
                    "Qwen3-0.6B-Q8_0",
                    None
                ),
                (
                    Tool::Ollama,
                    "llama3.2:1b",
                    "ollama-llama3.2-1b",
                    Some("a".repeat(64).as_str())
                ),
                (
                    Tool::LlamaCpp,
                    "ggml-org_gemma-3-1b-it-GGUF_gemma-3-1b-it-Q4_K_M.gguf",
                    "ggml-org_gemma-3-1b-it-GGUF_gemma-3-1b-it-Q4_K_M",
                    None
                ),
            ]
        );
        assert!(found[0].path.ends_with(SHA), "the blob itself is loaded");
    }

    #[test]
    fn the_tools_own_variables_move_their_folders() {
        let home = home();
        let elsewhere = tempfile::tempdir().expect("tmp");
        let places = Places::new(home.path(), |v| match v {
            "HF_HOME" => Some(elsewhere.path().join("hf").into_os_string()),
            "OLLAMA_MODELS" => Some(elsewhere.path().join("ollama").into_os_string()),
            _ => None,
        });
        assert_eq!(places.hugging_face, [elsewhere.path().join("hf/hub")]);
        let tools: Vec<Tool> = find(&places).iter().map(|f| f.tool).collect();
        assert_eq!(tools, [Tool::LmStudio, Tool::LlamaCpp]);
        assert!(find(&Places::default()).is_empty());
    }
}
