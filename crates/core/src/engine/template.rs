//! A model's own chat template, rendered here when llama.cpp's built-in
//! list would get it wrong: llama.cpp recognises a template by its look and
//! renders its own copy, which knows nothing of switches such as Qwen3's
//! `enable_thinking`. Pith asks for direct answers, so a template with that
//! switch is rendered with it off.

use super::{ChatMessage, ChatTemplate};
use crate::error::{Error, Result};

/// The template has a thinking switch (Qwen3, SmolLM3 and others):
/// rendered here, with thinking off.
pub fn has_thinking_switch(source: &str) -> bool {
    source.contains("enable_thinking")
}

/// A template environment with the functions chat templates use, bounded
/// in the work it may do (a template is data from a model file).
pub(crate) fn environment(template: &ChatTemplate) -> Result<minijinja::Environment<'_>> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(2_000_000));
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |message: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                message,
            ))
        },
    );
    env.add_template("chat", &template.source)
        .map_err(|e| Error::Inference(format!("the model's chat template does not parse: {e}")))?;
    Ok(env)
}

/// The conversation in the model's own format, ready for its answer, with
/// thinking off.
pub fn render_chat(template: &ChatTemplate, messages: &[ChatMessage]) -> Result<String> {
    let env = environment(template)?;
    let messages: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    env.get_template("chat")
        .and_then(|t| {
            t.render(minijinja::context! {
                messages => minijinja::Value::from(minijinja::value::Serde(&messages)),
                add_generation_prompt => true,
                enable_thinking => false,
                bos_token => template.bos_token.as_str(),
                eos_token => template.eos_token.as_str(),
            })
        })
        .map_err(|e| {
            Error::Inference(format!(
                "the model's chat template could not be rendered, so Pith cannot talk to \
                 this model in its format: {e}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of Qwen3's template (its generation prompt and switch), with
    /// the message loop it uses.
    const QWEN3: &str = "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";

    fn template(source: &str) -> ChatTemplate {
        ChatTemplate {
            source: source.into(),
            bos_token: String::new(),
            eos_token: "<|im_end|>".into(),
        }
    }

    #[test]
    fn a_thinking_switch_is_rendered_off() {
        assert!(has_thinking_switch(QWEN3));
        let text = render_chat(
            &template(QWEN3),
            &[ChatMessage::system("Be brief."), ChatMessage::user("Hi")],
        )
        .expect("renders");
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
             <|im_start|>assistant\n<think>\n\n</think>\n\n"
        );
    }

    #[test]
    fn a_template_that_cannot_be_rendered_is_refused_with_the_reason() {
        let broken = render_chat(
            &template("{% for m in messages %}"),
            &[ChatMessage::user("x")],
        );
        assert!(broken
            .expect_err("does not parse")
            .to_string()
            .contains("does not parse"));
        let raising = "{{ raise_exception('Only user and assistant roles are supported') }}";
        let err = render_chat(&template(raising), &[ChatMessage::user("x")]).expect_err("raises");
        let msg = err.to_string();
        assert!(
            msg.contains("could not be rendered") && msg.contains("roles"),
            "{msg}"
        );
        assert!(!has_thinking_switch(raising));
    }
}
