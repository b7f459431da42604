//! Web pages: the readable text, through html5ever's spec-compliant
//! tokenizer. Scripts, styles and other invisible parts are dropped; block
//! elements become paragraphs, list items bullets, headings section markers.
//!
//! Reduced to the main content first, as Readability does, so that menus,
//! cookie banners and footers do not end up in a summary: navigation,
//! footers, sidebars, forms and elements whose role, class or id name them
//! as such (`nav`, `menu`, `cookie`, `share`, `related`, …) are skipped,
//! and when the page marks its content (`<main>`, `<article>`,
//! `role="main"`) and that holds most of what is left, only it is kept.

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

/// Elements with no end tag: never on the open-element stack.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Elements that are page furniture, not content.
const BOILERPLATE_TAGS: &[&str] = &["nav", "footer", "aside", "form", "menu", "dialog"];

/// Roles of page furniture.
const BOILERPLATE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alertdialog",
];

/// Class and id words of page furniture, and of content (which wins).
const BOILERPLATE_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "menu",
    "footer",
    "sidebar",
    "cookie",
    "cookies",
    "consent",
    "banner",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "social",
    "related",
    "advert",
    "ad",
    "ads",
    "promo",
    "newsletter",
    "subscribe",
    "comments",
    "masthead",
    "skip",
];
const CONTENT_WORDS: &[&str] = &[
    "article", "content", "main", "post", "entry", "story", "body",
];

/// What to keep of the page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Everything but page furniture.
    Page,
    /// Only what is inside the marked main content.
    Main,
}

fn attr<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| &*a.value)
}

/// The words of a class or id (`site-nav__item` is `site`, `nav`, `item`).
fn words(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

fn is_boilerplate(tag: &Tag) -> bool {
    let name: &str = &tag.name;
    if BOILERPLATE_TAGS.contains(&name) {
        return true;
    }
    if attr(tag, "role").is_some_and(|r| BOILERPLATE_ROLES.contains(&r.trim())) {
        return true;
    }
    if attr(tag, "aria-hidden") == Some("true") || attr(tag, "hidden").is_some() {
        return true;
    }
    let named: Vec<String> = ["class", "id"]
        .iter()
        .filter_map(|a| attr(tag, a))
        .flat_map(words)
        .collect();
    named
        .iter()
        .any(|w| BOILERPLATE_WORDS.contains(&w.as_str()))
        && !named.iter().any(|w| CONTENT_WORDS.contains(&w.as_str()))
}

fn is_main(tag: &Tag) -> bool {
    let name: &str = &tag.name;
    name == "main" || name == "article" || attr(tag, "role") == Some("main")
}

/// An open element: its name, and whether it is furniture or main content.
struct Open {
    name: String,
    skip: bool,
    main: bool,
}

struct State<'a> {
    out: TextBuilder<'a>,
    error: Option<crate::Error>,
    keep: Keep,
    /// The open elements, for what the text inside them is.
    open: Vec<Open>,
    /// Characters of text seen inside the main content.
    main_chars: usize,
    /// Depth inside invisible elements.
    hidden: usize,
    pre: usize,
    /// Where the open heading starts, and its text so far.
    heading: Option<(usize, String)>,
}

struct Sink<'a>(RefCell<State<'a>>);

impl State<'_> {
    /// Text here is skipped: page furniture, or outside the main content
    /// when only that is kept.
    fn skipping(&self) -> bool {
        let top = self.open.last();
        top.is_some_and(|o| o.skip) || (self.keep == Keep::Main && !top.is_some_and(|o| o.main))
    }

    /// Keeps the open-element stack: a start tag opens (inheriting its
    /// parent's flags), an end tag closes up to its match (HTML in the wild
    /// leaves elements open).
    fn track(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if VOID.contains(&name) || tag.self_closing {
            return;
        }
        if tag.kind == TagKind::StartTag {
            let parent = self.open.last();
            let skip = parent.is_some_and(|p| p.skip) || is_boilerplate(tag);
            let main = parent.is_some_and(|p| p.main) || is_main(tag);
            // Deeply nested pages: past this depth nothing is pushed.
            if self.open.len() < 512 {
                self.open.push(Open {
                    name: name.to_string(),
                    skip,
                    main,
                });
            }
        } else if let Some(at) = self.open.iter().rposition(|o| o.name == name) {
            self.open.truncate(at);
        }
    }

    fn text(&mut self, s: &str) {
        if self.hidden > 0 || self.error.is_some() {
            return;
        }
        if self.open.last().is_some_and(|o| o.main && !o.skip) {
            self.main_chars += s.trim().len();
        }
        if self.skipping() {
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
        // A tag opened or closed inside skipped content is skipped as a
        // whole, so what it counts (pre, headings) stays balanced.
        let was_skipping = self.skipping();
        self.track(tag);
        if (start && self.skipping()) || (!start && was_skipping) {
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

/// The page's readable text: its main content when it marks one that
/// holds most of the text, otherwise everything but its furniture.
pub fn extract(text: &str, limits: &Limits) -> Result<Document> {
    let deadline = Instant::now() + limits.time_limit;
    let page = read(text, limits, deadline, Keep::Page)?;
    // The marked content must hold most of what is left: a blog's <article>
    // teaser in a sidebar is not the page.
    if page.main_chars * 2 >= page.out.chars.max(1) && page.main_chars > 0 {
        let main = read(text, limits, deadline, Keep::Main)?;
        return finish(main);
    }
    finish(page)
}

fn read<'a>(text: &str, limits: &'a Limits, deadline: Instant, keep: Keep) -> Result<State<'a>> {
    let sink = Sink(RefCell::new(State {
        out: TextBuilder::new(limits, deadline),
        error: None,
        keep,
        open: Vec::new(),
        main_chars: 0,
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
    match state.error {
        Some(e) => Err(e),
        None => Ok(state),
    }
}

fn finish(state: State<'_>) -> Result<Document> {
    state.out.check_time()?;
    Ok(state.out.finish(Format::Html, None))
}
