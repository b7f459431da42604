//! Tools on files: list, read, write a new file, rename, move to the trash.

use super::journal::{sha256, sha256_file, Change};
use super::paths::check_name;
use super::{
    arg_str, arg_u64, bounded, one_of, trash, Context, Effect, Known, Outcome, Preview, Tool,
};
use crate::documents::{extract_file, Limits};
use crate::error::{Error, Result};
use crate::tasks::check::words;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// How much of a document the model is shown.
pub const READ_CHARS: usize = 1500;
/// At most this many names in a listing.
const LIST_MAX: usize = 200;

pub struct ListFolder;

impl Tool for ListFolder {
    fn name(&self) -> &'static str {
        "list_folder"
    }
    fn description(&self) -> &'static str {
        "the files in the folder"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, _known: &Known) -> Option<Value> {
        Some(json!({"type": "object", "properties": {}, "additionalProperties": false}))
    }
    fn run(&self, _args: &Value, cx: &mut Context) -> Result<Outcome> {
        let root = &cx.grants.root;
        let entries = std::fs::read_dir(root)
            .map_err(|e| Error::io(format!("could not list {}", root.display()), e))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names.truncate(LIST_MAX);
        let text = if names.is_empty() {
            "the folder holds no files".to_string()
        } else {
            names.join("\n")
        };
        Ok(Outcome {
            text,
            files: names,
            ..Outcome::default()
        })
    }
}

pub struct ReadDocument;

impl Tool for ReadDocument {
    fn name(&self) -> &'static str {
        "read_document"
    }
    fn description(&self) -> &'static str {
        "the text of a file (pdf, docx, html, md, txt)"
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let unread: Vec<String> = known
            .files
            .iter()
            .filter(|f| !known.read.contains(f))
            .cloned()
            .collect();
        (!unread.is_empty()).then(|| {
            json!({"type": "object", "properties": {"path": one_of(&unread)}, "required": ["path"], "additionalProperties": false})
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let text = read_text(cx, arg_str(args, "path")?)?;
        Ok(Outcome::text(bounded(&text, READ_CHARS)))
    }
}

/// The text of a granted file, extracted with the document limits.
pub fn read_text(cx: &Context, path: &str) -> Result<String> {
    let real = cx.grants.existing(path)?;
    if !real.is_file() {
        return Err(Error::InvalidInput(format!("{path} is not a file")));
    }
    Ok(extract_file(&real, &Limits::default())?.text)
}

pub struct WriteFile;

impl WriteFile {
    fn target(args: &Value, cx: &Context) -> Result<(PathBuf, String)> {
        let name = arg_str(args, "name")?;
        check_name(name)?;
        let name = if Path::new(name).extension().is_some() {
            name.to_string()
        } else {
            format!("{name}.md")
        };
        let content =
            match (
                arg_u64(args, "from_step"),
                args.get("content").and_then(Value::as_str),
            ) {
                (Some(n), _) => cx.step_text(n)?.to_string(),
                (None, Some(c)) if !c.trim().is_empty() => c.to_string(),
                _ => return Err(Error::InvalidInput(
                    "write_file needs the content, or from_step: the step whose result to write"
                        .into(),
                )),
            };
        let content = if content.ends_with('\n') {
            content
        } else {
            format!("{content}\n")
        };
        Ok((cx.grants.new_file(&name)?, content))
    }
}

impl Tool for WriteFile {
    fn keywords(&self) -> &'static [&'static str] {
        &["save", "write", "create", "store"]
    }
    fn name(&self) -> &'static str {
        "write_file"
    }
    fn description(&self) -> &'static str {
        "write a new file in the folder (never over one): its name, and the content or from_step, the step whose to-do list, summary or draft to write"
    }
    fn effect(&self) -> Effect {
        Effect::Change
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        let mut properties = json!({"name": {"type": "string", "maxLength": 80}});
        let unwritten = known.unwritten();
        if known.products.is_empty() {
            properties["content"] = json!({"type": "string", "maxLength": 4000});
        } else if unwritten.is_empty() {
            // The latest product is out already.
            return None;
        } else {
            properties["from_step"] = json!({"type": "integer", "enum": unwritten});
        }
        let required: Vec<&str> = properties
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        Some(
            json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}),
        )
    }
    fn preview(&self, args: &Value, cx: &Context) -> Result<Preview> {
        let (path, content) = Self::target(args, cx)?;
        let shown = cx.grants.shown(&path);
        Ok(Preview {
            summary: format!("Write a new file, {shown}"),
            before: None,
            after: Some(shown),
            content: Some(content),
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let (path, content) = Self::target(args, cx)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(format!("could not create {}", path.display()), e))?;
        use std::io::Write;
        f.write_all(content.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(format!("could not write {}", path.display()), e))?;
        let shown = cx.grants.shown(&path);
        Ok(Outcome {
            text: format!("wrote {shown}"),
            files: Vec::new(),
            gone: Vec::new(),
            changes: vec![Change::Created {
                path,
                sha256: sha256(content.as_bytes()),
            }],
        })
    }
}

pub struct RenameFile;

impl RenameFile {
    /// The file, its new path, and the new name as given with the old
    /// extension kept.
    fn target(args: &Value, cx: &Context) -> Result<(PathBuf, PathBuf)> {
        let path = arg_str(args, "path")?;
        let from = cx.grants.existing(path)?;
        if !from.is_file() {
            return Err(Error::InvalidInput(format!("{path} is not a file")));
        }
        let mut name = arg_str(args, "new_name")?.to_string();
        check_name(&name)?;
        if let Some(ext) = from.extension().map(|e| e.to_string_lossy().to_string()) {
            let suffix = format!(".{ext}");
            if !name.to_lowercase().ends_with(&suffix.to_lowercase()) {
                name.push_str(&suffix);
            }
        }
        check_name(&name)?;
        if from
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == name)
        {
            return Err(Error::InvalidInput(format!("{path} already has that name")));
        }
        // A small model's name must come from the file or its old name,
        // never be made up.
        let stem = Path::new(&name)
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().to_string());
        let source = format!("{path} {}", read_text(cx, path).unwrap_or_default());
        let seen = words(&source);
        let invented: Vec<String> = words(&stem)
            .into_iter()
            .filter(|w| w.chars().any(char::is_alphanumeric) && !seen.contains(w))
            .collect();
        if !invented.is_empty() {
            return Err(Error::InvalidInput(format!(
                "the new name {name:?} has words the file does not hold ({}); a name is taken from the file",
                invented.join(", ")
            )));
        }
        let folder = from.parent().unwrap_or(&cx.grants.root);
        let shown_new = cx.grants.shown(&folder.join(&name));
        let to = cx.grants.new_file(&shown_new)?;
        Ok((from, to))
    }
}

impl Tool for RenameFile {
    fn keywords(&self) -> &'static [&'static str] {
        &["renam", "name"]
    }
    fn name(&self) -> &'static str {
        "rename_file"
    }
    fn description(&self) -> &'static str {
        "give a file a new name (its extension is kept)"
    }
    fn effect(&self) -> Effect {
        Effect::Change
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        (!known.files.is_empty()).then(|| {
            json!({"type": "object", "properties": {
                "path": one_of(&known.files),
                "new_name": {"type": "string", "minLength": 1, "maxLength": 80}
            }, "required": ["path", "new_name"], "additionalProperties": false})
        })
    }
    fn preview(&self, args: &Value, cx: &Context) -> Result<Preview> {
        let (from, to) = Self::target(args, cx)?;
        let (before, after) = (cx.grants.shown(&from), cx.grants.shown(&to));
        Ok(Preview {
            summary: format!("Rename {before} to {after}"),
            before: Some(before),
            after: Some(after),
            content: None,
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let (from, to) = Self::target(args, cx)?;
        let sha = sha256_file(&from)?;
        trash::move_file(&from, &to)?;
        let (before, after) = (cx.grants.shown(&from), cx.grants.shown(&to));
        Ok(Outcome {
            text: format!("renamed {before} to {after}"),
            files: Vec::new(),
            gone: vec![before],
            changes: vec![Change::Renamed {
                from,
                to,
                sha256: sha,
            }],
        })
    }
}

pub struct TrashFile;

impl Tool for TrashFile {
    fn keywords(&self) -> &'static [&'static str] {
        &["trash", "delet", "remov", "clean", "duplicat"]
    }
    fn name(&self) -> &'static str {
        "trash_file"
    }
    fn description(&self) -> &'static str {
        "move a file to the trash (it can be restored; nothing is deleted)"
    }
    fn effect(&self) -> Effect {
        Effect::Change
    }
    fn parameters(&self, known: &Known) -> Option<Value> {
        (!known.files.is_empty()).then(|| {
            json!({"type": "object", "properties": {"path": one_of(&known.files)}, "required": ["path"], "additionalProperties": false})
        })
    }
    fn preview(&self, args: &Value, cx: &Context) -> Result<Preview> {
        let real = cx.grants.existing(arg_str(args, "path")?)?;
        let shown = cx.grants.shown(&real);
        Ok(Preview {
            summary: format!("Move {shown} to the trash"),
            before: Some(shown),
            after: None,
            content: None,
        })
    }
    fn run(&self, args: &Value, cx: &mut Context) -> Result<Outcome> {
        let real = cx.grants.existing(arg_str(args, "path")?)?;
        if !real.is_file() {
            return Err(Error::InvalidInput(format!(
                "{} is not a file",
                cx.grants.shown(&real)
            )));
        }
        let sha = sha256_file(&real)?;
        let t = trash::put(cx.trash, &real)?;
        let shown = cx.grants.shown(&real);
        Ok(Outcome {
            text: format!("moved {shown} to the trash"),
            files: Vec::new(),
            gone: vec![shown],
            changes: vec![Change::Trashed {
                path: real,
                file: t.file,
                info: t.info,
                sha256: sha,
            }],
        })
    }
}
