//! Any body sent to the local API's chat completions: parsed, turned into
//! messages, tools, a JSON Schema check and a prompt (the generic tool
//! format's and a Jinja template's), and into an engine request, or
//! refused with a 400.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_core::engine::ChatTemplate;
use pith_server::openai;

const TEMPLATE: &str = "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}\
{%- for c in m.tool_calls or [] %}<tool_call>{{ c.function | tojson }}</tool_call>{%- endfor %}<|im_end|>\n\
{%- endfor %}{%- if tools %}<tools>{{ tools | tojson }}</tools>{%- endif %}<|im_start|>assistant\n";

fuzz_target!(|data: &[u8]| {
    let Ok(request) = openai::parse(data) else {
        return;
    };
    if request.chat_messages().is_err() {
        return;
    }
    if let Ok(structured) = request.structured() {
        let template = ChatTemplate {
            source: TEMPLATE.into(),
            bos_token: String::new(),
            eos_token: String::new(),
        };
        for t in [None, Some(&template)] {
            if let Ok((prompt, _, _)) = request.prompt(&structured, t) {
                let _ = request.to_generate(prompt, data.len() % 5000, 4096);
            }
        }
    }
});
