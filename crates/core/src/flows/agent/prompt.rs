//! The planner's prompt: the tools on offer, two worked runs, the task,
//! and the steps so far with their results.
//!
//! Small models copy the shape of an example far better than they follow
//! a description, so the examples show whole runs — read before changing,
//! refer to an earlier step's result by its number, end with `finish` —
//! on other files than the person's.

use crate::engine::{ChatMessage, Prompt};
use serde_json::Value;
use std::path::Path;

/// The pseudo-tool that ends a run with the model's answer.
pub const FINISH: &str = "finish";
/// The pseudo-tool that leaves a file read for a per-file change alone.
pub const SKIP: &str = "skip_file";

/// How much of a step's result the planner sees again.
const RESULT_CHARS: usize = 900;
/// How much of an older step's result it sees.
const OLD_RESULT_CHARS: usize = 60;

/// Worked runs, each shown when the tools it uses are on offer.
const EXAMPLES: &[(&[&str], &str)] = &[
    (
        &["rename_file"],
        r#"Example task: rename the notes after their first line
Step 1: {"tool": "list_folder", "arguments": {}}
Result: n1.txt
n2.txt
Step 2: {"tool": "read_document", "arguments": {"path": "n1.txt"}}
Result: Garden plan
Seeds go in next week.
Step 3: {"tool": "rename_file", "arguments": {"path": "n1.txt", "new_name": "Garden plan.txt"}}
Result: renamed n1.txt to Garden plan.txt
Step 4: {"tool": "read_document", "arguments": {"path": "n2.txt"}}
Result: Car repairs
The brakes are due.
Step 5: {"tool": "rename_file", "arguments": {"path": "n2.txt", "new_name": "Car repairs.txt"}}
Result: renamed n2.txt to Car repairs.txt
Step 6: {"tool": "finish", "arguments": {"answer": "I renamed n1.txt to Garden plan.txt and n2.txt to Car repairs.txt."}}"#,
    ),
    (
        &["make_todo", "write_file"],
        r#"Example task: make a to-do list from the two memos and save it in the folder
Step 1: {"tool": "list_folder", "arguments": {}}
Result: minutes.md
call.txt
Step 2: {"tool": "make_todo", "arguments": {"paths": ["minutes.md", "call.txt"]}}
Result: - [ ] Order the chairs (Ana)
- [ ] Call the caterer (Ben)
Step 3: {"tool": "write_file", "arguments": {"name": "todo.md", "from_step": 2}}
Result: wrote todo.md
Step 4: {"tool": "finish", "arguments": {"answer": "The to-do list is in todo.md."}}"#,
    ),
    (
        &["search_history", "draft_email"],
        r#"Example task: tell the team by email what we said about the printer
Step 1: {"tool": "search_history", "arguments": {"query": "printer"}}
Result: In "Office": The printer on floor 2 is fixed.
Step 2: {"tool": "draft_email", "arguments": {"about": "the printer", "from_step": 1}}
Result: Hi, the printer on floor 2 is fixed. Best regards
Step 3: {"tool": "finish", "arguments": {"answer": "Hi, the printer on floor 2 is fixed. Best regards"}}"#,
    ),
];

/// The examples whose tools are all among `names` (the first when none).
fn examples(names: &[&str]) -> String {
    let fitting: Vec<&str> = EXAMPLES
        .iter()
        .filter(|(tools, _)| tools.iter().all(|t| names.contains(t)))
        .map(|(_, text)| *text)
        .collect();
    if fitting.is_empty() {
        EXAMPLES[0].1.to_string()
    } else {
        fitting.join("\n\n")
    }
}

/// The prompt for step `n`.
pub fn build(
    task: &str,
    folder: &Path,
    offered: &[(&'static str, &'static str, Value)],
    calls: &[(Value, String)],
    n: usize,
) -> Prompt {
    let tools: Vec<String> = offered
        .iter()
        .map(|(name, description, _)| format!("- {name}: {description}"))
        .collect();
    let names: Vec<&str> = offered.iter().map(|(n, _, _)| *n).collect();
    let examples = examples(&names);
    let system = format!(
        "You finish a task on the person's files by calling tools, one call per answer, \
         written as JSON. Read before you change anything. Give an earlier step's result \
         to a tool by its step number. When the task is done, call finish.\n\n\
         Tools:\n{}\n\n{examples}",
        tools.join("\n")
    );
    let folder_name = folder.file_name().map_or_else(
        || folder.display().to_string(),
        |f| f.to_string_lossy().to_string(),
    );
    let mut user = format!("Task: {task}\nFolder: {folder_name}\n");
    // The last two results in full; older ones cut short: a small model
    // copies from whatever text is nearest, so what it no longer needs is
    // kept out of its way.
    let recent = calls.len().saturating_sub(2);
    for (i, (call, result)) in calls.iter().enumerate() {
        let max = if i >= recent {
            RESULT_CHARS
        } else {
            OLD_RESULT_CHARS
        };
        user.push_str(&format!(
            "Step {}: {call}\nResult: {}\n",
            i + 1,
            crate::tools::bounded(result, max)
        ));
    }
    user.push_str(&format!("Step {n}:"));
    Prompt::Chat(vec![ChatMessage::system(system), ChatMessage::user(user)])
}
