//! Writers of sample documents with known content, for tests and
//! benchmarks: a PDF with one text page per entry, a DOCX with styled
//! paragraphs, and a long report whose every fact is checkable.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Object, Stream};
use std::io::Write;

/// A PDF whose page `i` shows the lines of `pages[i]` in Helvetica.
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids: Vec<Object> = Vec::new();
    for lines in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("Td", vec![50.into(), 790.into()]),
        ];
        for line in lines {
            ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
            // The font's encoding is WinAnsi: its bytes, not UTF-8's.
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(line);
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(
                    bytes.into_owned(),
                    lopdf::StringFormat::Literal,
                )],
            ));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(
            dictionary! {},
            content.encode().unwrap_or_default(),
        ));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = i64::try_from(kids.len()).unwrap_or(0);
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    let _ = doc.save_to(&mut out);
    out
}

/// Splits text into lines of at most `width` characters, for [`pdf`].
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines.push(String::new());
    }
    lines
}

/// A DOCX of `(style, text)` paragraphs; a style like `Heading1` makes a
/// heading, `None` a body paragraph.
pub fn docx(paragraphs: &[(Option<&str>, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (style, text) in paragraphs {
        body.push_str("<w:p>");
        if let Some(style) = style {
            body.push_str(&format!("<w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>"));
        }
        body.push_str(&format!(
            "<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            quick_xml::escape::escape(*text)
        ));
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}</w:body></w:document>"
    );
    zip_of(&[
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"
                .as_bytes(),
        ),
        ("word/document.xml", document.as_bytes()),
    ])
}

/// A ZIP archive of the given entries, deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            let _ = zip.start_file(*name, options);
            let _ = zip.write_all(data);
        }
        let _ = zip.finish();
    }
    out.into_inner()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const PEOPLE: [&str; 6] = [
    "Maria Lopez",
    "Tom Becker",
    "Aisha Khan",
    "Jonas Berg",
    "Emma Novak",
    "Ravi Patel",
];
const TOPICS: [&str; 6] = [
    "a reading club for teenagers",
    "free computer lessons for older residents",
    "a repair café for bicycles and small appliances",
    "a series of talks on local history",
    "story hours for young children",
    "a seed library for home gardeners",
];

/// A report of the Riverside community library in `pages` pages of about
/// `words_per_page` words, as page texts. Each page is one month's report
/// with its own figures, people and events, so a summary can be checked
/// against it.
pub fn report(pages: usize, words_per_page: usize) -> Vec<String> {
    (0..pages)
        .map(|p| {
            let month = MONTHS[p % 12];
            let year = 2021 + p / 12;
            let person = PEOPLE[p % PEOPLE.len()];
            let topic = TOPICS[(p * 5 + 1) % TOPICS.len()];
            let loans = 900 + (p * 137) % 800;
            let visitors = 2000 + (p * 311) % 1500;
            let events = 6 + p % 9;
            let mut page = format!(
                "{month} {year}. In {month} the Riverside community library lent {loans} books \
                 and welcomed {visitors} visitors. The staff organised {events} events. \
                 {person} led {topic}, which met every week in the reading room.\n\n"
            );
            let filler = [
                "Volunteers helped to sort the donated books and to repair damaged covers. \
                 The opening hours stayed the same as in the previous month. "
                    .to_string(),
                "Many visitors asked for more places to study, and the team moved two shelves \
                 to make room for a quiet table near the windows. "
                    .to_string(),
                format!(
                    "{person} reported that the sessions on {topic} were well attended and that \
                     several participants came back with friends. "
                ),
                "The library also received new newspapers and magazines, and the children's \
                 corner got new cushions and a small carpet. "
                    .to_string(),
            ];
            let mut i = 0;
            while page.split_whitespace().count() < words_per_page {
                page.push_str(&filler[i % filler.len()]);
                if i % 3 == 2 {
                    page.push_str("\n\n");
                }
                i += 1;
            }
            page.trim().to_string()
        })
        .collect()
}
