//! The desktop clipboard from the command line, for `pith rephrase
//! --clipboard` (bound to a key in the desktop's own settings where the
//! app's global shortcut cannot be registered, as on Wayland). Which
//! program to run is decided in `pith_core::clipboard`.

use pith_core::clipboard::{self, Content, Tool};
use pith_core::{Error, Result};
use std::io::Write;
use std::process::{Command, Stdio};

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn tool() -> Result<&'static Tool> {
    let session = clipboard::current_session()?;
    clipboard::tools(session)
        .iter()
        .find(|t| installed(t.program) && installed(t.write[0]))
        .ok_or_else(|| clipboard::missing_tool(session))
}

fn run(argv: &[&str]) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The clipboard's text; a clear error when it is empty or holds an image.
pub fn read() -> Result<String> {
    let tool = tool()?;
    let types = if tool.types.is_empty() {
        String::new()
    } else {
        run(tool.types).unwrap_or_default()
    };
    let list: Vec<&str> = types.lines().map(str::trim).collect();
    let text = run(tool.read);
    match clipboard::classify(&list, text.as_deref()) {
        Content::Text(t) => Ok(t),
        other => Err(clipboard::nothing_to_rewrite(&other).unwrap_or(Error::EmptyInput)),
    }
}

/// Puts `text` on the clipboard. The program keeps serving it after this
/// process exits, so its output is not waited on.
pub fn write(text: &str) -> Result<()> {
    let tool = tool()?;
    let (program, args) = tool
        .write
        .split_first()
        .ok_or_else(|| Error::InvalidInput("no clipboard program".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::io(format!("could not run {program}"), e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("could not write to {program}"), e))?;
    }
    let status = child
        .wait()
        .map_err(|e| Error::io(format!("{program} failed"), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{program} could not set the clipboard ({status})"
        )))
    }
}
