use super::sample;
use super::*;
use crate::error::ErrorCode;

fn limits() -> Limits {
    Limits::default()
}

fn refused(bytes: Vec<u8>) -> String {
    let err = extract(bytes, &limits()).expect_err("refused");
    assert_eq!(err.code(), ErrorCode::UnsupportedDocument, "{err}");
    err.to_string()
}

fn pages_of(doc: &Document) -> Vec<usize> {
    doc.markers
        .iter()
        .filter_map(|m| match m.kind {
            MarkerKind::Page { number } => Some(number),
            _ => None,
        })
        .collect()
}

#[test]
fn pdf_text_comes_out_page_by_page_with_markers() {
    let bytes = sample::pdf(&[
        vec!["The first page talks about apples.".into()],
        vec![
            "The second page talks about pears".into(),
            "and continues on a second line.".into(),
        ],
        vec!["Page three: plums, 42 of them, in the café.".into()],
    ]);
    let doc = extract(bytes, &limits()).expect("pdf");
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(doc.pages, Some(3));
    assert_eq!(pages_of(&doc), vec![1, 2, 3]);
    let second = doc.text.find("The second page").expect("page 2 text");
    assert_eq!(doc.pages_in(second, second + 10), Some((2, 2)));
    assert!(doc.text.contains("apples"));
    assert!(
        doc.text.contains("pears and continues on a second line."),
        "{}",
        doc.text
    );
    assert!(
        doc.text.contains("plums, 42 of them, in the café."),
        "{}",
        doc.text
    );
    assert_eq!(doc.pages_in(0, doc.text.len()), Some((1, 3)));
}

#[test]
fn docx_paragraphs_headings_and_entities_are_kept() {
    let bytes = sample::docx(&[
        (Some("Title"), "Quarterly notes"),
        (None, "Sales grew by 12 % & costs fell."),
        (Some("Heading1"), "Outlook"),
        (None, "We expect <steady> demand."),
    ]);
    let doc = extract(bytes, &limits()).expect("docx");
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(
        doc.text,
        "Quarterly notes\n\nSales grew by 12 % & costs fell.\n\nOutlook\n\nWe expect <steady> demand."
    );
    let titles: Vec<&str> = doc
        .markers
        .iter()
        .filter_map(|m| match &m.kind {
            MarkerKind::Section { title } => Some(title.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(titles, ["Quarterly notes", "Outlook"]);
}

#[test]
fn html_keeps_the_readable_text_and_drops_scripts_and_styles() {
    let html = "<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style>\
                <script>var secret = 'hidden';</script></head><body>\
                <h1>Garden   report</h1><p>Tomatoes &amp; beans<br>grew well.</p>\
                <ul><li>Water daily</li><li>Weed weekly</li></ul>\
                <noscript>enable js</noscript></body></html>";
    let doc = extract(html.as_bytes().to_vec(), &limits()).expect("html");
    assert_eq!(doc.format, Format::Html);
    assert_eq!(
        doc.text,
        "Garden report\n\nTomatoes & beans\ngrew well.\n\n- Water daily\n\n- Weed weekly"
    );
    assert!(!doc.text.contains("secret") && !doc.text.contains("color"));
    assert_eq!(doc.sections(), 1);
}

#[test]
fn a_web_page_is_reduced_to_its_main_content() {
    let page = "<!DOCTYPE html><html><body>\
        <header class=\"site-header\"><a href=\"/\">Daily Garden</a>\
          <nav><ul><li>Home</li><li>About</li><li>Contact</li></ul></nav></header>\
        <div id=\"cookie-banner\">We use cookies. Accept all cookies?</div>\
        <div class=\"layout\">\
          <aside class=\"sidebar\"><h3>Popular</h3><p>Ten tips for roses</p></aside>\
          <main><article><h1>Growing beans</h1>\
            <p>Beans like warm soil and full sun; sow them after the last frost.</p>\
            <div class=\"share-buttons\">Share on social media</div>\
            <p>Water them at the root, twice a week in dry weather.</p></article></main>\
        </div>\
        <footer><p>© 2026 Daily Garden. All rights reserved.</p></footer></body></html>";
    let doc = extract(page.as_bytes().to_vec(), &limits()).expect("html");
    assert_eq!(
        doc.text,
        "Growing beans\n\nBeans like warm soil and full sun; sow them after the last frost.\n\n\
         Water them at the root, twice a week in dry weather."
    );

    // No marked content: everything but the furniture.
    let plain = "<html><body><div class=\"menu\">Home | Shop | Blog</div>\
        <div class=\"main-content\"><p>Our shop opens at nine.</p></div>\
        <div role=\"contentinfo\">Imprint</div>\
        <p>Closed on Sundays.</p></body></html>";
    let doc = extract(plain.as_bytes().to_vec(), &limits()).expect("html");
    assert_eq!(doc.text, "Our shop opens at nine.\n\nClosed on Sundays.");

    // A small <article> teaser is not the page.
    let teaser =
        "<html><body><p>The long story of the harbour, told over many paragraphs of text.</p>\
        <p>More of the story, with its people and its ships and its storms.</p>\
        <article><p>Teaser</p></article></body></html>";
    let doc = extract(teaser.as_bytes().to_vec(), &limits()).expect("html");
    assert!(
        doc.text.starts_with("The long story") && doc.text.ends_with("Teaser"),
        "{}",
        doc.text
    );
}

#[test]
fn latin1_and_utf16_texts_are_converted_to_utf8() {
    let text = "Crème brûlée à la française: déjà vu, naïve façade. Übergröße!";
    let (latin1, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    let doc = extract(latin1.into_owned(), &limits()).expect("latin-1");
    assert_eq!(doc.text, text);
    assert_eq!(doc.encoding.as_deref(), Some("windows-1252"));

    let mut utf16le: Vec<u8> = vec![0xff, 0xfe];
    utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let doc = extract(utf16le, &limits()).expect("utf-16 with BOM");
    assert_eq!(doc.text, text);
    assert_eq!(doc.encoding.as_deref(), Some("UTF-16LE"));

    let plain = "Plain ASCII in UTF-16 big endian, without a byte order mark.";
    let utf16be: Vec<u8> = plain.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let doc = extract(utf16be, &limits()).expect("utf-16 without BOM");
    assert_eq!(doc.text, plain);
}

#[test]
fn markdown_headings_become_sections_and_form_feeds_pages() {
    let md = "# Intro\r\nHello.\r\n\r\n```\r\n# not a heading\r\n```\r\n## Details\r\nMore.\r\n";
    let doc = extract(md.as_bytes().to_vec(), &limits()).expect("md");
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(doc.sections(), 2);
    assert!(!doc.text.contains('\r'));

    let paged = extract(b"one\x0ctwo\x0cthree".to_vec(), &limits()).expect("paged text");
    assert_eq!(paged.pages, Some(3));
    let three = paged.text.find("three").expect("third page");
    assert_eq!(paged.pages_in(three, three + 5), Some((3, 3)));
}

#[test]
fn format_comes_from_the_content_not_the_name() {
    // A PNG, whatever it is called, is an image.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    assert!(refused(png).contains("PNG image"));
    assert_eq!(sniff(b"  %PDF-1.7 rest").expect("pdf"), Format::Pdf);
    assert_eq!(
        sniff(&sample::docx(&[(None, "x")])).expect("docx"),
        Format::Docx
    );
    let odt = sample::zip_of(&[("content.xml", b"<office/>")]);
    assert!(refused(odt).contains("OpenDocument"));
    let zip = sample::zip_of(&[("notes.txt", b"hello")]);
    assert!(refused(zip).contains("ZIP archive"));
}

#[test]
fn bad_inputs_get_clear_errors() {
    assert!(refused(Vec::new()).contains("empty"));
    assert!(refused(b"   \n\n  ".to_vec()).contains("no text"));
    // Binary garbage: NUL bytes in no UTF-16 pattern.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(refused(garbage).contains("binary"));
    // A PDF cut short after its header.
    let mut corrupt = sample::pdf(&[vec!["Some text".into()]]);
    corrupt.truncate(60);
    assert!(refused(corrupt).contains("PDF"));
    // A truncated DOCX.
    let mut docx = sample::docx(&[(None, "Some text")]);
    docx.truncate(docx.len() / 2);
    let why = refused(docx);
    assert!(why.contains("damaged") || why.contains("ZIP"), "{why}");
}

#[test]
fn a_pdf_without_a_text_layer_is_called_scanned() {
    let blank = sample::pdf(&[vec![], vec![]]);
    let why = refused(blank);
    assert!(
        why.contains("no text layer") && why.contains("2 page"),
        "{why}"
    );
}

#[test]
fn a_password_protected_pdf_is_refused_by_name() {
    let plain = sample::pdf(&[vec!["Secret plans for the garden.".into()]]);
    let mut doc = lopdf::Document::load_mem(&plain).expect("load");
    let id = lopdf::Object::string_literal("0123456789abcdef");
    doc.trailer.set("ID", vec![id.clone(), id]);
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "user",
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("save");
    let why = refused(bytes);
    assert!(why.contains("password"), "{why}");
}

#[test]
fn a_zip_bomb_docx_stops_at_the_decompression_bound() {
    // 64 MiB of one repeated paragraph deflates to about 64 KiB.
    let paragraph = "<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>";
    let body = paragraph.repeat(64 * 1024 * 1024 / paragraph.len());
    let xml = format!("<w:document xmlns:w=\"w\"><w:body>{body}</w:body></w:document>");
    let bomb = sample::zip_of(&[("word/document.xml", xml.as_bytes())]);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let small = Limits {
        max_unzipped_bytes: 8 * 1024 * 1024,
        ..Limits::default()
    };
    let err = extract(bomb, &small).expect_err("bomb");
    assert!(err.to_string().contains("zip bomb"), "{err}");
}

#[test]
fn oversized_files_and_texts_are_refused_before_work_is_wasted() {
    let small = Limits {
        max_file_bytes: 1000,
        max_chars: 100,
        ..Limits::default()
    };
    let err = extract(vec![b'a'; 1001], &small).expect_err("too big");
    assert!(err.to_string().contains("over the"), "{err}");
    let err = extract("word ".repeat(50).into_bytes(), &small).expect_err("too long");
    assert!(
        err.to_string().contains("more than 100 characters"),
        "{err}"
    );
    // A 200 MB text file is refused from its size, without being read.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("huge.txt");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(200 * 1024 * 1024).expect("sparse file");
    let err = extract_file(&path, &Limits::default()).expect_err("200 MB");
    assert!(err.to_string().contains("over the 50 MB"), "{err}");
    let err = extract_file(dir.path(), &Limits::default()).expect_err("folder");
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn short_lines_of_cjk_text_are_read_in_linear_time() {
    // Before: the character count was taken over the whole text on every
    // line once its bytes passed the character limit, which multi-byte
    // text does early: 1.8 MB of short CJK lines took 27.6 s. Here 2.5 MB
    // must be read within a 2 s deadline (it takes a fraction of that).
    let line: String = "\u{8a9e}\u{6587}\u{5b57}\u{6f22}\u{5b57}\u{3002}".into();
    let text = format!("{line}\n").repeat(130_000);
    assert!(text.len() > 2_300_000);
    let limits = Limits {
        time_limit: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let doc = extract(text.into_bytes(), &limits).expect("read in time");
    assert_eq!(
        doc.text.chars().filter(|c| *c == '\u{3002}').count(),
        130_000
    );
}

#[test]
fn a_parser_that_runs_past_the_time_limit_is_abandoned() {
    let instant = Limits {
        time_limit: std::time::Duration::ZERO,
        ..Limits::default()
    };
    let pages: Vec<Vec<String>> = (0..40).map(|i| vec![format!("Page {i}")]).collect();
    let err = extract(sample::pdf(&pages), &instant).expect_err("deadline");
    assert!(err.to_string().contains("took longer"), "{err}");
}

#[test]
fn the_sample_report_has_the_pages_and_facts_asked_for() {
    let report = sample::report(20, 250);
    assert_eq!(report.len(), 20);
    assert!(report.iter().all(|p| p.split_whitespace().count() >= 250));
    assert!(report[2].starts_with("March 2021."));
    let pdf = sample::pdf(
        &report
            .iter()
            .map(|p| sample::wrap(p, 90))
            .collect::<Vec<_>>(),
    );
    let doc = extract(pdf, &limits()).expect("report pdf");
    assert_eq!(doc.pages, Some(20));
    assert!(doc.text.contains("Riverside community library lent"));
}
