//! Commands: the built-in workflows and the user's own.
//!
//! A custom command is a name, an instruction with `{text}` where the text
//! goes, where the text comes from, where the result goes, which model,
//! an optional output schema and an optional global shortcut. They are
//! kept in `settings.toml` as `[[commands]]` and can be exported to and
//! imported from a TOML file of the same shape. Every check that protects
//! what is saved lives here, so the window, the command line and an import
//! refuse the same things with the same words; running a command is
//! `flows::commands`.
//!
//! - [`dates`]: dates and times found in a text and resolved from today;
//! - [`ics`]: a calendar event written as iCalendar and read back.

pub mod dates;
pub mod ics;

use crate::error::{Error, Result};
use crate::settings::normalize_hotkey;
use crate::tasks::rephrase::RephraseMode;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The built-in workflows, each a command of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Workflow {
    /// A note, an email or a document as a checklist.
    ActionItems,
    /// A meeting described in a text as an `.ics` event.
    Event,
    /// A reply to a message, in a chosen tone.
    Reply,
}

impl Workflow {
    pub const ALL: [Workflow; 3] = [Workflow::ActionItems, Workflow::Event, Workflow::Reply];

    pub fn name(self) -> &'static str {
        match self {
            Workflow::ActionItems => "action-items",
            Workflow::Event => "event",
            Workflow::Reply => "reply",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Workflow::ActionItems => {
                "A checklist of the text's tasks, with who does each and by when (Markdown and todo.txt)"
            }
            Workflow::Event => "The meeting the text describes, as a calendar event (.ics)",
            Workflow::Reply => "A reply to the message, friendly or professional, saved as a conversation",
        }
    }

    pub fn from_name(name: &str) -> Option<Workflow> {
        Workflow::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// Where a command's text comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    #[default]
    Clipboard,
    /// A file the user picks (on the command line: FILE or standard input).
    File,
    /// The conversation open in the window (on the command line: the latest).
    Conversation,
}

/// Where a command's result goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// The hotkey's popup, with the changes marked; Accept copies it.
    #[default]
    Popup,
    /// Straight onto the clipboard (the text it replaced can be put back).
    Clipboard,
    /// A new file in `folder`.
    Folder,
    /// A new conversation, to go on with in the chat.
    Conversation,
}

/// One of the user's commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct CustomCommand {
    /// Lowercase letters, digits and dashes: `pith run NAME`.
    pub name: String,
    /// What to do, with `{text}` where the text goes.
    pub instruction: String,
    #[serde(default)]
    pub input: Input,
    #[serde(default)]
    pub output: Output,
    /// The folder new files go to, when `output` is `folder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub folder: Option<String>,
    /// An installed model's id; none: the router's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub model: Option<String>,
    /// A JSON Schema the result must follow (the result is then JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub schema: Option<String>,
    /// A global shortcut of its own, such as `Ctrl+Alt+T`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hotkey: Option<String>,
}

/// The placeholder every instruction must hold.
pub const PLACEHOLDER: &str = "{text}";

/// The most commands one settings file keeps.
pub const MAX_COMMANDS: usize = 100;

impl CustomCommand {
    /// A command with its name and instruction, and every option at its
    /// default: the clipboard in, the popup out, the router's model.
    pub fn new(name: &str, instruction: &str) -> Self {
        Self {
            name: name.into(),
            instruction: instruction.into(),
            input: Input::default(),
            output: Output::default(),
            folder: None,
            model: None,
            schema: None,
            hotkey: None,
        }
    }

    /// The instruction with the text in place of every `{text}`.
    pub fn render(&self, text: &str) -> String {
        self.instruction.replace(PLACEHOLDER, text)
    }

    /// The schema, parsed and checked.
    pub fn schema_value(&self) -> Result<Option<serde_json::Value>> {
        let Some(text) = self.schema.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::InvalidInput(format!(
                "the schema of the command \"{}\" is not JSON ({e}); write a JSON Schema object",
                self.name
            ))
        })?;
        crate::structured::schema::check(&value).map_err(|e| {
            Error::InvalidInput(format!("the schema of the command \"{}\": {e}", self.name))
        })?;
        Ok(Some(value))
    }
}

/// Names a custom command may not take: the built-in workflows, the six
/// rephrase modes, and the command line's own words.
fn reserved(name: &str) -> bool {
    Workflow::from_name(name).is_some()
        || RephraseMode::ALL.iter().any(|m| m.name() == name)
        || ["list", "help"].contains(&name)
}

fn check_name(name: &str) -> Result<()> {
    let bad = |why: &str| Error::InvalidInput(format!("the command name \"{name}\" {why}"));
    if name.is_empty() {
        return Err(Error::InvalidInput("a command needs a name".into()));
    }
    if name.len() > 40 {
        return Err(bad("is longer than 40 characters"));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok || name.starts_with('-') || name.ends_with('-') {
        return Err(bad(
            "may hold only lowercase letters, digits and dashes (such as \"to-french\")",
        ));
    }
    if reserved(name) {
        return Err(bad(
            "is taken by a built-in command or mode; choose another",
        ));
    }
    Ok(())
}

/// Checks one command and writes it the one way it is stored (trimmed,
/// its shortcut in normal form, empty options dropped). The output folder
/// is not looked at here: see [`check_folder`].
pub fn normalize(command: &CustomCommand) -> Result<CustomCommand> {
    let mut c = command.clone();
    c.name = c.name.trim().to_string();
    check_name(&c.name)?;
    let name = c.name.clone();
    if !c.instruction.contains(PLACEHOLDER) {
        return Err(Error::InvalidInput(format!(
            "the instruction of \"{name}\" has no {PLACEHOLDER}: write {PLACEHOLDER} where the text \
             goes, such as \"Translate into French: {PLACEHOLDER}\""
        )));
    }
    if c.instruction.len() > 4000 {
        return Err(Error::InvalidInput(format!(
            "the instruction of \"{name}\" is longer than 4000 characters"
        )));
    }
    let blank = |o: Option<String>| o.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    c.folder = blank(c.folder);
    c.model = blank(c.model);
    c.schema = blank(c.schema);
    c.hotkey = match blank(c.hotkey) {
        Some(h) => Some(
            normalize_hotkey(&h)
                .map_err(|e| Error::InvalidInput(format!("the shortcut of \"{name}\": {e}")))?,
        ),
        None => None,
    };
    if c.output == Output::Folder && c.folder.is_none() {
        return Err(Error::InvalidInput(format!(
            "\"{name}\" writes its results to a folder: choose the folder"
        )));
    }
    c.schema_value()?;
    Ok(c)
}

/// Checks a whole list as it is to be saved: each command, no name twice,
/// no shortcut twice or equal to the rephrase shortcut (`main_hotkey`).
pub fn validate(commands: &[CustomCommand], main_hotkey: &str) -> Result<Vec<CustomCommand>> {
    if commands.len() > MAX_COMMANDS {
        return Err(Error::InvalidInput(format!(
            "at most {MAX_COMMANDS} commands can be kept"
        )));
    }
    let main = normalize_hotkey(main_hotkey).unwrap_or_else(|_| main_hotkey.to_string());
    let mut out: Vec<CustomCommand> = Vec::with_capacity(commands.len());
    for c in commands {
        let c = normalize(c)?;
        if out.iter().any(|o| o.name == c.name) {
            return Err(Error::InvalidInput(format!(
                "two commands are named \"{}\"; give one another name",
                c.name
            )));
        }
        if let Some(h) = &c.hotkey {
            if *h == main {
                return Err(Error::InvalidInput(format!(
                    "the shortcut {h} of \"{}\" is the rephrase shortcut; choose another",
                    c.name
                )));
            }
            if let Some(o) = out.iter().find(|o| o.hotkey.as_ref() == Some(h)) {
                return Err(Error::InvalidInput(format!(
                    "the shortcut {h} is already \"{}\"'s; choose another for \"{}\"",
                    o.name, c.name
                )));
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// Refuses an output folder that is missing or cannot be written, by
/// trying: a file is created in it and removed.
pub fn check_folder(folder: &Path) -> Result<()> {
    let bad = |why: String| {
        Error::InvalidInput(format!(
            "the folder {} {why}; choose a folder you can write to",
            folder.display()
        ))
    };
    if !folder.is_dir() {
        return Err(bad("does not exist".into()));
    }
    let probe = folder.join(format!(".pith-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(bad(format!("cannot be written ({e})"))),
    }
}

/// The file commands are exported to and imported from.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandFile {
    #[serde(default)]
    commands: Vec<CustomCommand>,
}

/// The commands as a TOML file (`[[commands]]` tables).
pub fn export_toml(commands: &[CustomCommand]) -> Result<String> {
    let file = CommandFile {
        commands: commands.to_vec(),
    };
    let body = toml::to_string_pretty(&file)
        .map_err(|e| Error::InvalidInput(format!("the commands cannot be written: {e}")))?;
    Ok(format!(
        "# Pith commands: pith commands import FILE, or Import on the Commands page.\n\n{body}"
    ))
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Imported {
    /// The whole list to save: the existing commands with the imported
    /// ones added or, by name, replaced.
    pub commands: Vec<CustomCommand>,
    pub added: Vec<String>,
    pub replaced: Vec<String>,
}

/// Reads an exported file and merges it into `existing`. Nothing is
/// merged unless all of it is valid: an unknown key, a wrong type, a bad
/// command or a clash is an error naming it, and `existing` stays as it was.
pub fn import_toml(text: &str, existing: &[CustomCommand], main_hotkey: &str) -> Result<Imported> {
    let file: CommandFile = toml::from_str(text).map_err(|e| {
        Error::InvalidInput(format!(
            "the file is not a Pith commands file: {}",
            e.to_string().trim()
        ))
    })?;
    if file.commands.is_empty() {
        return Err(Error::InvalidInput(
            "the file holds no [[commands]]; nothing was imported".into(),
        ));
    }
    let mut merged = existing.to_vec();
    let (mut added, mut replaced) = (Vec::new(), Vec::new());
    for c in file.commands {
        let c = normalize(&c)?;
        match merged.iter_mut().find(|o| o.name == c.name) {
            Some(slot) => {
                replaced.push(c.name.clone());
                *slot = c;
            }
            None => {
                added.push(c.name.clone());
                merged.push(c);
            }
        }
    }
    let commands = validate(&merged, main_hotkey)?;
    Ok(Imported {
        commands,
        added,
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn command(name: &str) -> CustomCommand {
        CustomCommand {
            output: Output::Clipboard,
            ..CustomCommand::new(name, "Translate into French: {text}")
        }
    }

    #[test]
    fn an_instruction_needs_its_placeholder_and_a_name_its_form() {
        let mut c = command("to-french");
        assert_eq!(c.render("bonjour"), "Translate into French: bonjour");
        c.instruction = "Translate into French".into();
        let e = normalize(&c).expect_err("no placeholder").to_string();
        assert!(e.contains("has no {text}"), "{e}");
        for (name, why) in [
            ("To French", "lowercase letters"),
            ("", "needs a name"),
            ("reply", "taken by a built-in"),
            ("proofread", "taken by a built-in"),
            ("-x", "lowercase letters"),
        ] {
            let e = normalize(&command(name)).expect_err(name).to_string();
            assert!(e.contains(why), "{name}: {e}");
        }
    }

    #[test]
    fn options_are_trimmed_and_a_folder_output_needs_its_folder() {
        let mut c = command("notes");
        c.hotkey = Some(" ctrl+alt+t ".into());
        c.model = Some("  ".into());
        let n = normalize(&c).expect("valid");
        assert_eq!(n.hotkey.as_deref(), Some("Ctrl+Alt+T"));
        assert_eq!(n.model, None);
        c.output = Output::Folder;
        let e = normalize(&c).expect_err("no folder").to_string();
        assert!(e.contains("choose the folder"), "{e}");
        c.schema = Some("{\"type\": ".into());
        c.folder = Some("/tmp".into());
        let e = normalize(&c).expect_err("bad schema").to_string();
        assert!(e.contains("is not JSON"), "{e}");
        c.schema = Some("{\"not\": {}}".into());
        let e = normalize(&c).expect_err("unsupported").to_string();
        assert!(e.contains("not"), "{e}");
    }

    #[test]
    fn shortcuts_clash_with_each_other_and_with_the_rephrase_shortcut() {
        let mut a = command("a");
        a.hotkey = Some("Ctrl+Alt+T".into());
        let mut b = command("b");
        b.hotkey = Some("ctrl+alt+t".into());
        let e = validate(&[a.clone(), b], "Ctrl+Alt+R")
            .expect_err("clash")
            .to_string();
        assert!(e.contains("already \"a\"'s"), "{e}");
        let e = validate(&[a.clone()], "ctrl+alt+t")
            .expect_err("clash")
            .to_string();
        assert!(e.contains("rephrase shortcut"), "{e}");
        let e = validate(&[a.clone(), a], "Ctrl+Alt+R")
            .expect_err("twice")
            .to_string();
        assert!(e.contains("two commands are named"), "{e}");
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        check_folder(dir.path()).expect("writable");
        let e = check_folder(&dir.path().join("missing"))
            .expect_err("missing")
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let ro = dir.path().join("ro");
            std::fs::create_dir(&ro).expect("mkdir");
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).expect("chmod");
            // Root writes anywhere: the check is then the same as for a
            // writable folder.
            let root = std::fs::write(ro.join("probe"), "x").is_ok();
            let got = check_folder(&ro);
            assert_eq!(got.is_ok(), root, "{got:?}");
        }
    }

    #[test]
    fn commands_round_trip_through_toml_and_a_bad_import_changes_nothing() {
        let mut a = command("to-french");
        a.hotkey = Some("Ctrl+Alt+T".into());
        a.schema =
            Some("{\"type\": \"object\", \"properties\": {\"fr\": {\"type\": \"string\"}}}".into());
        let mut b = command("notes");
        b.output = Output::Folder;
        b.folder = Some("/home/me/Notes".into());
        b.instruction = "Make notes of {text}\nwith \"quotes\" and {text} twice".into();
        let text = export_toml(&[a.clone(), b.clone()]).expect("writes");
        let got = import_toml(&text, &[], "Ctrl+Alt+R").expect("reads");
        assert_eq!(got.commands, vec![a.clone(), b.clone()]);
        assert_eq!(got.added, ["to-french", "notes"]);

        // The same names again replace; a new one is added.
        let mut c = command("summary-fr");
        c.hotkey = Some("Ctrl+Alt+Y".into());
        let more = export_toml(&[b.clone(), c]).expect("writes");
        let got = import_toml(&more, &[a.clone(), b.clone()], "Ctrl+Alt+R").expect("reads");
        assert_eq!(
            (got.added, got.replaced),
            (vec!["summary-fr".to_string()], vec!["notes".to_string()])
        );
        assert_eq!(got.commands.len(), 3);

        for (bad, why) in [
            (
                "[[commands]]\nname = \"x\"\ninstruction = \"{text}\"\ncolour = 3\n",
                "unknown field `colour`",
            ),
            (
                "[[commands]]\nname = \"x\"\ninstruction = 5\n",
                "invalid type",
            ),
            (
                "[[commands]]\nname = \"x\"\ninstruction = \"no placeholder\"\n",
                "has no {text}",
            ),
            (
                "[[commands]]\nname = \"x\"\ninstruction = \"{text}\"\nhotkey = \"ctrl+alt+t\"\n",
                "already \"to-french\"'s",
            ),
            ("title = \"mine\"\n", "unknown field `title`"),
            ("", "holds no [[commands]]"),
            ("[[commands]\n", "not a Pith commands file"),
        ] {
            let e = import_toml(bad, &[a.clone()], "Ctrl+Alt+R")
                .expect_err(bad)
                .to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
