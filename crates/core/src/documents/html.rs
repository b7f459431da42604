//! Web pages: the readable text, through html5ever's spec-compliant
//! tokenizer. Scripts, styles and other invisible parts are dropped; block
//! elements become paragraphs, list items bullets, headings section markers.

use super::{Document, Format, Limits, MarkerKind, TextBuilder};
use crate::error::Result;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use markup5ever::interface::TokenizerResult;
use std::cell::RefCell;
use std::time::Instant;

pub fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(1024)
        .collect::<String>()
        .to_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.starts_with("<?xml") && head.contains("<html"))
        || (head.starts_with('<')
            && ["<body", "<head", "<p>", "<div", "<h1"]
                .iter()
                .any(|t| head.contains(t)))
}

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "header",
    "footer",
    "main",
    "aside",
    "figure",
    "figcaption",
    "hr",
    "form",
    "address",
];

const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "object", "iframe",
];

struct State<'a> {
    out: TextBuilder<'a>,
    error: Option<crate::Error>,
    /// Depth inside invisible elements.
    hidden: usize,
    pre: usize,
    /// Where the open heading starts, and its text so far.
    heading: Option<(usize, String)>,
}

struct Sink<'a>(RefCell<State<'a>>);

impl State<'_> {
    fn text(&mut self, s: &str) {
        if self.hidden > 0 || self.error.is_some() {
            return;
        }
        let text = if self.pre > 0 {
            s.to_string()
        } else {
            let mut collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if s.starts_with(char::is_whitespace) && !collapsed.is_empty() {
                collapsed.insert(0, ' ');
            }
            if s.ends_with(char::is_whitespace) && !collapsed.is_empty() {
                collapsed.push(' ');
            }
            if collapsed.is_empty() && !s.is_empty() {
                " ".to_string()
            } else {
                collapsed
            }
        };
        let at_line_start = self.out.text.is_empty() || self.out.text.ends_with('\n');
        let text = if at_line_start {
            text.trim_start()
        } else {
            &text
        };
        if text.is_empty() || (text == " " && self.out.text.ends_with(' ')) {
            return;
        }
        if let Some((_, title)) = &mut self.heading {
            title.push_str(text);
        }
        if let Err(e) = self.out.push(text) {
            self.error = Some(e);
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if HIDDEN.contains(&name) {
            if start && !tag.self_closing {
                self.hidden += 1;
                match name {
                    "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "noscript" | "iframe" => {
                        return TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    _ => {}
                }
            } else if !start {
                self.hidden = self.hidden.saturating_sub(1);
            }
            return TokenSinkResult::Continue;
        }
        if self.hidden > 0 {
            return TokenSinkResult::Continue;
        }
        let is_heading = matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
        if is_heading {
            self.out.paragraph();
            if start {
                self.heading = Some((self.out.text.len(), String::new()));
            } else if let Some((offset, title)) = self.heading.take() {
                let title = title.trim().to_string();
                if !title.is_empty() {
                    self.out.markers.push(super::Marker {
                        offset,
                        kind: MarkerKind::Section { title },
                    });
                }
            }
        } else if BLOCKS.contains(&name) {
            if name == "br" {
                self.out
                    .text
                    .truncate(self.out.text.trim_end_matches(' ').len());
                let _ = self.out.push("\n");
            } else {
                self.out.paragraph();
            }
            if name == "pre" {
                if start {
                    self.pre += 1;
                } else {
                    self.pre = self.pre.saturating_sub(1);
                }
            }
            if name == "li" && start {
                self.text("- ");
            }
        } else if matches!(name, "td" | "th") && start {
            self.text(" ");
        }
        TokenSinkResult::Continue
    }
}

impl TokenSink for Sink<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.0.borrow_mut();
        match token {
            Token::CharacterTokens(t) => {
                state.text(&t);
                TokenSinkResult::Continue
            }
            Token::TagToken(tag) => state.tag(&tag),
            _ => TokenSinkResult::Continue,
        }
    }
}

pub fn extract(text: &str, limits: &Limits) -> Result<Document> {
    let sink = Sink(RefCell::new(State {
        out: TextBuilder::new(limits, Instant::now() + limits.time_limit),
        error: None,
        hidden: 0,
        pre: 0,
        heading: None,
    }));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(text));
    while let TokenizerResult::Script(()) = tokenizer.feed(&input) {}
    tokenizer.end();
    let state = tokenizer.sink.0.into_inner();
    if let Some(e) = state.error {
        return Err(e);
    }
    state.out.check_time()?;
    Ok(state.out.finish(Format::Html, None))
}
