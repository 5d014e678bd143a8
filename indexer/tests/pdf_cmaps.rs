//! PDFs whose Chinese text is in an unembedded Adobe font encoded with a
//! predefined CMap and no ToUnicode map, as Chinese typesetting systems
//! and OFD→PDF converters write them: read through the public `extract`,
//! with the exact text each page says, vertical pages column by column.

mod fixtures;

use encoding_rs::{Encoding, BIG5, GB18030, GBK};
use indexer::extract::{extract, ExtractError, Limits};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// The text of a PDF, which must be read without warnings.
fn text(pdf: &[u8]) -> String {
    let records = extract("通知.pdf", pdf, &Limits::default()).expect("the PDF is read");
    assert_eq!(records[0].warnings, Vec::<String>::new());
    records[0].text.clone()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn encoded(encoding: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text} is all in {}", encoding.name());
    bytes.into_owned()
}

/// A page showing each string on a line of its own, 20 pt apart.
fn lines(strings: &[&[u8]]) -> Vec<u8> {
    let mut content = Content::new();
    content.begin_text().set_font(Name(b"F1"), 12.0).set_leading(20.0).next_line(72.0, 760.0);
    for string in strings {
        content.show(Str(string)).next_line_using_leading();
    }
    content.end_text();
    content.finish().to_vec()
}

#[test]
fn unigb_ucs2_codes_read_as_unicode() {
    let page = lines(&[&utf16("关于2016年防汛工作的通知"), &utf16("各乡镇人民政府：")]);
    assert_eq!(text(&fixtures::pdf_in_cmap("UniGB-UCS2-H", &[], &[], &[&page])), "关于2016年防汛工作的通知\n各乡镇人民政府：");
}

#[test]
fn gbk_codes_read_with_the_one_byte_ascii_between_them() {
    let page = lines(&[&encoded(GBK, "第1条 Article 1：依据《防汛条例》"), b"No. 12"]);
    assert_eq!(text(&fixtures::pdf_in_cmap("GBK-EUC-H", &[], &[], &[&page])), "第1条 Article 1：依据《防汛条例》\nNo. 12");
}

#[test]
fn big5_pages_read_as_the_page_says_in_traditional_characters() {
    for cmap in ["B5pc-H", "ETen-B5-H"] {
        let page = lines(&[&encoded(BIG5, "臺灣省政府公報（第12期）"), &encoded(BIG5, "中華民國八十五年")]);
        assert_eq!(text(&fixtures::pdf_in_cmap(cmap, &[], &[], &[&page])), "臺灣省政府公報（第12期）\n中華民國八十五年", "{cmap}");
    }
}

#[test]
fn each_charset_cmap_reads_its_own_codes() {
    let cases: [(&str, Vec<u8>, &str); 6] = [
        // A surrogate pair: a character beyond the BMP, as in a name.
        ("UniGB-UTF16-H", utf16("姓名：王𠮷"), "姓名：王𠮷"),
        ("UniCNS-UCS2-H", utf16("行政院公報"), "行政院公報"),
        ("GB-EUC-H", encoded(GBK, "2016年第3号"), "2016年第3号"),
        ("GBKp-EUC-H", encoded(GBK, "内蒙古自治区"), "内蒙古自治区"),
        // Four-byte GB 18030 codes (CJK Extension A) among two-byte ones.
        ("GBK2K-H", encoded(GB18030, "㐀丂中"), "㐀丂中"),
        ("UniGB-UTF8-H", "巴彦淖尔市".as_bytes().to_vec(), "巴彦淖尔市"),
    ];
    for (cmap, codes, expected) in cases {
        assert_eq!(text(&fixtures::pdf_in_cmap(cmap, &[], &[], &[&lines(&[&codes])])), expected, "{cmap}");
    }
}

#[test]
fn text_repeated_over_many_pages_reads_on_every_page() {
    let pages: Vec<Vec<u8>> = (1..=3).map(|n| lines(&[&encoded(GBK, &format!("第{n}页：临河区"))])).collect();
    let pages: Vec<&[u8]> = pages.iter().map(Vec::as_slice).collect();
    assert_eq!(text(&fixtures::pdf_in_cmap("GBK-EUC-H", &[], &[], &pages)), "第1页：临河区\n第2页：临河区\n第3页：临河区");
}

#[test]
fn a_letterhead_form_drawn_on_every_page_reads_on_every_page() {
    let mut letterhead = Content::new();
    letterhead.begin_text().set_font(Name(b"F1"), 22.0).next_line(120.0, 780.0).show(Str(&encoded(GBK, "临河区人民政府文件"))).end_text();
    let page = |body: &str, letterhead_first: bool| {
        let mut content = Content::new();
        if letterhead_first {
            content.x_object(Name(b"Fm0"));
        }
        content.begin_text().set_font(Name(b"F1"), 12.0).next_line(72.0, 700.0).show(Str(&encoded(GBK, body))).end_text();
        if !letterhead_first {
            content.x_object(Name(b"Fm0"));
        }
        content.finish().to_vec()
    };
    // The second page draws the letterhead after its body, so its
    // characters come in another order than on the first page.
    let pages = [page("关于防汛的通知", true), page("人民政府办公室 2016年", false)];
    let pdf = fixtures::pdf_in_cmap("GBK-EUC-H", &[], &letterhead.finish(), &[&pages[0], &pages[1]]);
    assert_eq!(text(&pdf), "临河区人民政府文件\n关于防汛的通知\n人民政府办公室 2016年\n临河区人民政府文件");
}

/// A vertical page with three columns, written in the order typesetting
/// programs use and readers must not: the middle column character by
/// character (a `Tm` each), then the right one as one string, then the
/// left one as a `TJ` whose two parts are kerned apart.
fn three_columns(codes: impl Fn(&str) -> Vec<u8>) -> Vec<u8> {
    let mut content = Content::new();
    content.begin_text().set_font(Name(b"F1"), 12.0);
    for (i, c) in "各乡镇人民政府".chars().enumerate() {
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, 370.0, 760.0 - 12.0 * i as f32]).show(Str(&codes(&c.to_string())));
    }
    content.set_text_matrix([1.0, 0.0, 0.0, 1.0, 400.0, 760.0]).show(Str(&codes("关于印发防汛预案的通知")));
    content.set_text_matrix([1.0, 0.0, 0.0, 1.0, 340.0, 760.0]);
    content.show_positioned().items().show(Str(&codes("现将预案"))).adjust(-120.0).show(Str(&codes("印发给你们")));
    content.end_text();
    content.finish().to_vec()
}

#[test]
fn a_vertical_page_reads_column_by_column_from_the_right() {
    let expected = "关于印发防汛预案的通知\n各乡镇人民政府\n现将预案印发给你们";
    assert_eq!(text(&fixtures::pdf_in_cmap("UniGB-UCS2-V", &[], &[], &[&three_columns(utf16)])), expected);
    assert_eq!(text(&fixtures::pdf_in_cmap("GBK-EUC-V", &[], &[], &[&three_columns(|s| encoded(GBK, s))])), expected);
}

#[test]
fn an_identity_v_font_with_its_own_map_reads_in_columns_too() {
    let characters: Vec<char> = "关于印发防汛预案的通知各乡镇人民政府现将给你们".chars().collect();
    let to_unicode: Vec<(u16, char)> = characters.iter().enumerate().map(|(i, &c)| (i as u16 + 1, c)).collect();
    let glyphs = |s: &str| -> Vec<u8> {
        s.chars().flat_map(|c| (characters.iter().position(|&x| x == c).unwrap() as u16 + 1).to_be_bytes()).collect()
    };
    let pdf = fixtures::pdf_in_cmap("Identity-V", &to_unicode, &[], &[&three_columns(glyphs)]);
    assert_eq!(text(&pdf), "关于印发防汛预案的通知\n各乡镇人民政府\n现将预案印发给你们");
}

#[test]
fn a_cmap_this_reader_does_not_know_is_named_not_called_damage() {
    let page = lines(&[b"\xa4\xa4\xb0\xea"]);
    let pdf = fixtures::pdf_in_cmap("CNS-EUC-H", &[], &[], &[&page, &page]);
    assert_eq!(
        extract("公報.pdf", &pdf, &Limits::default()).unwrap_err(),
        ExtractError::Unsupported(
            "no page of this PDF could be read (page 1 skipped: its text is in the font STSong-Light, \
             whose CMap CNS-EUC-H this reader cannot map to Unicode)"
                .into()
        )
    );
}

#[test]
fn a_page_the_text_reader_gives_up_on_is_not_called_damage() {
    // Filling with an Indexed colour space is valid PDF (PDF 32000-1
    // § 8.6.6.3), which pdf-extract does not take.
    let mut pdf = Pdf::new();
    pdf.catalog(Ref::new(1)).pages(Ref::new(2));
    pdf.pages(Ref::new(2)).kids([Ref::new(3)]).count(1);
    let mut page = pdf.page(Ref::new(3));
    page.parent(Ref::new(2)).media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).contents(Ref::new(4));
    let mut resources = page.resources();
    resources.fonts().pair(Name(b"F1"), Ref::new(5));
    resources.color_spaces().insert(Name(b"CS0")).start::<pdf_writer::writers::ColorSpace>().indexed(
        Name(b"DeviceRGB"),
        1,
        &[0, 0, 0, 255, 255, 255],
    );
    resources.finish();
    page.finish();
    pdf.stream(Ref::new(4), b"/CS0 cs 1 sc 72 690 200 30 re f BT /F1 12 Tf 72 700 Td (Indexed colour) Tj ET");
    pdf.type1_font(Ref::new(5)).base_font(Name(b"Helvetica"));
    let error = extract("colour.pdf", &pdf.finish(), &Limits::default()).unwrap_err();
    let ExtractError::Unsupported(reason) = &error else { panic!("{error:?} should say the file is not understood") };
    let expected = "no page of this PDF could be read (page 1 skipped: the text reader does not understand it (color_space";
    assert!(reason.starts_with(expected), "{reason}");
}
