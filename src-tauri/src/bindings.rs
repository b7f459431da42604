//! The TypeScript declarations of everything the window receives or sends,
//! generated from the Rust types (ts-rs) into `ui/src/api/types.ts`. The
//! test fails when the committed file is stale; run it with
//! `PITH_UPDATE_BINDINGS=1` to write the file anew.

#[cfg(test)]
mod tests {
    use ts_rs::{Config, TS};

    macro_rules! declare {
        ($cfg:expr, $($t:ty),* $(,)?) => {{
            let mut out = String::new();
            $(
                if let Some(docs) = <$t as TS>::docs() {
                    out.push_str(&docs);
                }
                out.push_str("export ");
                out.push_str(&<$t as TS>::decl($cfg));
                out.push_str("\n\n");
            )*
            out
        }};
    }

    fn render() -> String {
        // JSON numbers reach JavaScript as numbers; every integer Pith sends
        // (bytes, ids, milliseconds) is far below 2^53.
        let cfg = Config::default().with_large_int("number");
        use crate::{commands, documents, hotkey, models, settings, state};
        use pith_core::{error, flows, hardware, history, models as m, tasks};
        let body = declare!(
            &cfg,
            error::ErrorCode,
            error::ErrorPayload,
            pith_core::engine::ModelInfo,
            state::EngineStatus,
            commands::AppStatus,
            pith_core::engine::Role,
            history::ConversationId,
            history::MessageId,
            history::MessageStatus,
            history::Conversation,
            history::MessageStats,
            history::Message,
            history::SearchHit,
            commands::ChatEvent,
            commands::ChatSent,
            hardware::GpuVendor,
            hardware::Gpu,
            hardware::Cpu,
            hardware::Memory,
            hardware::Disk,
            hardware::HardwareProfile,
            tasks::Task,
            m::estimate::Estimate,
            m::plan::Choice,
            m::plan::Rejected,
            m::plan::Budget,
            m::plan::Plan,
            m::gguf::GgufSummary,
            m::store::InstalledModel,
            flows::machine::MachineFit,
            documents::ChosenFile,
            documents::DropEvent,
            tasks::document::Stage,
            tasks::summarize::SummaryLength,
            documents::SummaryEvent,
            documents::SummaryDone,
            pith_core::settings::Theme,
            tasks::rephrase::RephraseMode,
            pith_core::settings::AppSettings,
            settings::SettingsView,
            models::DownloadProgress,
            flows::session::Pending,
            hotkey::rewrite::RephraseEvent,
            hotkey::rewrite::RephraseDone,
            hotkey::shortcut::HotkeyStatus,
            history::Rewrite,
            pith_core::commands::Input,
            pith_core::commands::Output,
            pith_core::commands::CustomCommand,
            pith_core::commands::Imported,
            pith_core::commands::ics::EventDraft,
            flows::commands::Tone,
            flows::commands::CommandResult,
            crate::workflows::BuiltinCommand,
            crate::workflows::CommandsView,
            crate::workflows::CommandRun,
            hotkey::commands::CommandDone,
            pith_core::tools::Effect,
            pith_core::tools::Preview,
            history::RunStatus,
            history::StepStatus,
            history::AgentStep,
            history::AgentRun,
            flows::agent::Proposal,
            flows::agent::AgentEvent,
            crate::agent::AgentView,
            crate::agent::AgentUpdate,
            crate::agent::AgentDecision,
            crate::tune::Learned,
            pith_core::tune::eval::Score,
            pith_core::tune::eval::Gain,
            flows::tune::TuneEvent,
            flows::tune::TuneReport,
        );
        format!(
            "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
             // After changing a type, run: PITH_UPDATE_BINDINGS=1 cargo test --workspace bindings\n\n{}",
            body.trim_end().to_string() + "\n"
        )
    }

    #[test]
    fn the_ui_types_are_generated_from_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/api/types.ts");
        let fresh = render();
        if std::env::var_os("PITH_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).expect("types.ts is writable");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/api/types.ts is stale: run PITH_UPDATE_BINDINGS=1 cargo test --workspace bindings"
        );
    }
}
