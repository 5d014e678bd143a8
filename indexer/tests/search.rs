//! Search behaviour a person sees, on a small archive built here: each
//! ranking rule stated at the top of `ranking.rs`, and the ways citizens
//! type (no spaces, quote marks inside terms, a 文号 said aloud, Taiwan
//! vocabulary, homophone slips), each with the exact documents expected.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use indexer::api::{SearchRequest, SearchResponse};
use indexer::ingest::{self, IngestOptions};
use indexer::Archive;

/// Filler that gives every body a similar length, so field weights and not
/// lengths decide the order.
const FILLER: &str = "本单位按照有关规定认真组织实施各项工作，做好宣传解释，及时回应群众关切。";

/// (path, text, sidecar JSON or "")
const DOCS: &[(&str, &str, &str)] = &[
    // title > catalog line > body
    ("rule/title.txt", "殡葬管理办法\n第一条 为了规范管理。", ""),
    ("rule/meta.txt", "年度工作安排\n第一条 为了规范管理。", r#"{"publisher": "临河区殡葬服务中心"}"#),
    ("rule/body.txt", "年度工作通知\n第一条 为了规范殡葬管理。", ""),
    // whole word above the same characters across two words
    ("word/whole.txt", "工作简报一\n压缩行政开支，工作稳步推进。", ""),
    ("word/split.txt", "工作简报二\n召开支部会议，工作稳步推进。", ""),
    // proximity
    ("near/together.txt", "情况说明甲\n本区推行垃圾分类。其他事项照常。", ""),
    ("near/apart.txt", "情况说明乙\n本区清运垃圾。其他事项照常。本年度完成分类统计。", ""),
    // title coverage
    ("cover/short.txt", "物业管理条例\n本条例规范物业管理活动。", ""),
    ("cover/long.txt", "关于转发物业管理条例实施中若干问题的通知\n物业管理条例实施中的问题，物业管理条例的解释。", ""),
    // versions newest first
    ("versions/养犬管理规定(2019-03-01).txt", "养犬管理规定\n养犬应当登记。", ""),
    ("versions/养犬管理规定(2023-06-01).txt", "养犬管理规定\n养犬应当登记并免疫。", ""),
    // 失效 lower
    ("validity/old.txt", "燃放烟花爆竹管理规定\n禁止在市区燃放烟花爆竹。", r#"{"validity": "失效"}"#),
    ("validity/new.txt", "燃放烟花爆竹安全规定\n禁止在市区燃放烟花爆竹。", r#"{"validity": "有效"}"#),
    // 文号
    ("numbers/7.txt", "临河区人民政府文件\n临政发〔2019〕7号\n关于加强河道管理的通知\n各乡镇：请做好河道管理。", ""),
    ("numbers/17.txt", "临河区人民政府文件\n临政发〔2019〕17号\n关于加强林地管理的通知\n各乡镇：请做好林地管理。", ""),
    ("numbers/70.txt", "临河区人民政府文件\n临政发〔2019〕70号\n关于加强耕地管理的通知\n各乡镇：请做好耕地管理。", ""),
    // everyday words, unspaced
    ("aid/dibao.txt", "城乡居民最低生活保障办理指南\n最低生活保障申请由申请人向户籍所在地乡镇人民政府提出，最低生活保障标准按年公布。", ""),
    ("aid/dibao-standard.txt", "关于调整最低生活保障标准的通知\n最低生活保障申请受理后，按新标准发放最低生活保障标准金。", ""),
    ("aid/violence.txt", "反家庭暴力工作指引\n遭受家庭暴力的，可以向公安机关报案，申请人身安全保护令。", ""),
    // quote marks inside a term
    ("money/sangong.txt", "部门预算公开说明\n本部门“三公”经费预算为12万元，较上年减少。", ""),
    ("money/other.txt", "部门预算说明\n本部门公用经费预算为三十万元。", ""),
    // exclusion
    ("fund/plain.txt", "公积金提取须知\n职工提取公积金需提供身份证明。", ""),
    ("fund/housing.txt", "公积金与住房保障\n公积金贷款和住房保障政策。", ""),
    // a title spelling out a shortened word
    ("law/security.txt", "治安管理处罚法\n违反治安管理的行为，依法给予处罚。", ""),
    // Taiwan vocabulary
    ("tw/open.txt", "政府信息公开指南\n公民可以申请获取政府信息。", ""),
];

/// The archive, built once for all tests.
fn archive() -> &'static Archive {
    static ARCHIVE: OnceLock<(tempfile::TempDir, Archive)> = OnceLock::new();
    &ARCHIVE
        .get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
            for (path, text, sidecar) in DOCS {
                write(&src, path, format!("{text}\n{FILLER}\n"));
                if !sidecar.is_empty() {
                    write(&src, &format!("{path}.meta.json"), sidecar);
                }
            }
            let summary = ingest::run(&IngestOptions::new(vec![src], data.clone())).unwrap();
            assert_eq!(summary.added, DOCS.len(), "{summary:?}");
            let archive = Archive::open(&data).unwrap();
            (tmp, archive)
        })
        .1
}

fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn search(q: &str) -> SearchResponse {
    archive().search(&SearchRequest { q: q.into(), limit: 100, ..SearchRequest::default() }).unwrap()
}

fn paths(q: &str) -> Vec<String> {
    search(q).hits.into_iter().map(|h| h.path).collect()
}

/// The paths of the hits that hold every word (not partial matches).
fn complete(q: &str) -> Vec<String> {
    search(q).hits.into_iter().filter(|h| !h.partial).map(|h| h.path).collect()
}

#[test]
fn title_ranks_above_catalog_line_above_body() {
    assert_eq!(paths("殡葬"), ["rule/title.txt", "rule/meta.txt", "rule/body.txt"]);
}

#[test]
fn a_whole_word_ranks_above_the_same_characters_across_two_words() {
    assert_eq!(paths("开支"), ["word/whole.txt", "word/split.txt"]);
}

#[test]
fn words_close_together_rank_above_words_apart() {
    assert_eq!(paths("垃圾 分类"), ["near/together.txt", "near/apart.txt"]);
    assert_eq!(paths("垃圾分类"), ["near/together.txt", "near/apart.txt"], "typed without a space");
}

#[test]
fn a_title_the_query_covers_ranks_first() {
    assert_eq!(paths("物业管理条例"), ["cover/short.txt", "cover/long.txt"]);
}

#[test]
fn versions_of_one_regulation_are_listed_newest_first() {
    assert_eq!(paths("养犬 登记"), ["versions/养犬管理规定(2023-06-01).txt", "versions/养犬管理规定(2019-03-01).txt"]);
}

#[test]
fn a_document_no_longer_in_force_ranks_below_one_in_force() {
    assert_eq!(paths("燃放烟花爆竹"), ["validity/new.txt", "validity/old.txt"]);
}

#[test]
fn a_doc_number_said_any_way_finds_its_document_first_and_never_a_longer_number() {
    for q in [
        "临政发〔2019〕7号",
        "临政发〔2019〕7号文",
        "临政发7号",
        "临政发2019年7号",
        "临政发(2019)7号",
        "临政发[2019]7号文件",
        "临政发 〔2019〕 7号",
        "临政发二零一九年七号",
        "临政发二〇一九年第七号",
    ] {
        let hits = search(q).hits;
        assert_eq!(hits.first().map(|h| h.path.as_str()), Some("numbers/7.txt"), "{q}: {hits:?}");
        assert!(!hits[0].partial && hits[1..].iter().all(|h| h.partial), "{q}: only 7号 holds every part: {hits:?}");
    }
}

#[test]
fn a_doc_number_highlight_marks_only_what_matched() {
    let hit = search("临政发7号").hits.into_iter().next().unwrap();
    assert!(hit.snippet.contains("<mark>7号</mark>"), "{}", hit.snippet);
    let seventeen = search("林地 7号");
    assert!(seventeen.hits.iter().all(|h| !h.snippet.contains("1<mark>7号")), "7号 marked inside 17号");
}

#[test]
fn unspaced_questions_find_the_official_terms() {
    let mut found = complete("怎么申请低保");
    found.sort();
    assert_eq!(found, ["aid/dibao-standard.txt", "aid/dibao.txt"]);
    assert_eq!(paths("低保申请"), paths("低保 申请"), "spaces change nothing");
    assert_eq!(paths("家暴怎么办"), ["aid/violence.txt"]);
}

#[test]
fn when_no_document_holds_every_word_partial_matches_fill_the_page() {
    let response = search("低保 殡葬 河道");
    assert!(response.relaxed);
    assert!(response.hits.iter().all(|h| h.partial));
    let found: Vec<&str> = response.hits.iter().map(|h| h.path.as_str()).collect();
    assert!(found.contains(&"aid/dibao.txt") && found.contains(&"numbers/7.txt"), "{found:?}");
}

#[test]
fn a_word_no_document_holds_finds_nothing_and_says_so() {
    // 垃圾场 is one dictionary word; no document has it, nor 垃圾 with 场.
    let response = search("垃圾场");
    assert_eq!((response.total, response.hits.len(), response.relaxed), (0, 0, false));
}

#[test]
fn quote_marks_inside_a_term_do_not_break_it() {
    for q in ["三公经费", "\"三公经费\"", "“三公”经费", "「三公經費」"] {
        assert_eq!(complete(q), ["money/sangong.txt"], "{q}");
    }
    let hit = search("三公经费").hits.into_iter().next().unwrap();
    assert!(hit.snippet.contains("“<mark>三公</mark>”<mark>经费</mark>"), "{}", hit.snippet);
    let hit = search("\"三公经费\"").hits.into_iter().next().unwrap();
    assert!(hit.snippet.contains("<mark>三公”经费</mark>"), "the phrase is marked across the quote mark: {}", hit.snippet);
}

#[test]
fn an_excluded_phrase_excludes() {
    assert_eq!(paths("公积金 -\"住房保障\""), ["fund/plain.txt"]);
    assert_eq!(paths("公积金 -住房保障"), ["fund/plain.txt"]);
    assert_eq!(paths("公积金").len(), 2);
}

#[test]
fn traditional_text_with_taiwan_vocabulary_finds_mainland_documents() {
    assert_eq!(complete("政府資訊公開"), ["tw/open.txt"]);
    assert_eq!(complete("政府信息公开"), ["tw/open.txt"]);
}

#[test]
fn a_homophone_slip_gets_a_correction_that_finds_documents() {
    let response = search("低宝");
    assert_eq!(response.did_you_mean.as_deref(), Some("低保"));
    assert_eq!(search("公基金提取").did_you_mean.as_deref(), Some("公积金提取"));
    assert_eq!(search("低保").did_you_mean, None, "a query that finds documents gets none");
}

#[test]
fn suggestions_apply_the_thesaurus_offer_phrases_and_open_titles() {
    let suggestions = archive().suggest("低保", 8).unwrap();
    let titles: Vec<&str> = suggestions.documents.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["城乡居民最低生活保障办理指南", "关于调整最低生活保障标准的通知"]);
    assert!(suggestions.documents.iter().all(|d| !d.id.is_empty()));
    assert_eq!(suggestions.suggestions[..2], ["低保 标准".to_string(), "低保 申请".to_string()]);
    let unspaced = archive().suggest("低保标准", 8).unwrap();
    assert_eq!(unspaced.documents.len(), 1, "{unspaced:?}");
}

#[test]
fn the_total_is_the_same_on_every_page_and_at_every_page_size() {
    let total = |limit: usize, offset: usize| {
        archive().search(&SearchRequest { q: "低保 申请".into(), limit, offset, ..SearchRequest::default() }).unwrap().total
    };
    let first = total(10, 0);
    assert!(first > 1);
    assert_eq!([total(1, 0), total(5, 0), total(100, 0), total(1, 1), total(2, 3)], [first; 5]);
}

#[test]
fn a_number_with_its_unit_never_matches_inside_a_longer_number() {
    assert_eq!(complete("7号"), ["numbers/7.txt"]);
    assert!(complete("0号").is_empty(), "70号 holds no 0号");
}

#[test]
fn exclusions_alone_find_every_other_document() {
    let all = search("").total;
    let found = paths("-公积金");
    assert_eq!(found.len(), all - 2);
    assert!(!found.iter().any(|p| p.starts_with("fund/")));
}

#[test]
fn a_query_with_nothing_searchable_finds_nothing() {
    for q in ["！！！？？？", "🙂", "-", "《》"] {
        let response = search(q);
        assert_eq!((response.total, response.hits.len()), (0, 0), "{q}");
    }
    assert_eq!(search("").total, DOCS.len(), "an empty query lists the archive");
}

#[test]
fn a_doc_number_typed_in_traditional_characters_finds_its_document() {
    assert_eq!(search("臨政發〔2019〕7號").hits[0].path, "numbers/7.txt");
}

#[test]
fn a_long_word_matches_a_title_holding_its_inner_words() {
    let response = search("治安处罚");
    let hit = response.hits.iter().find(|h| h.path == "law/security.txt").expect("found");
    assert!(!hit.partial, "a complete match through its title");
}

#[test]
fn a_partial_match_holds_a_word_not_only_a_character() {
    let response = search("养犬 法");
    assert!(response.relaxed);
    let found: Vec<&str> = response.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(found, ["versions/养犬管理规定(2023-06-01).txt", "versions/养犬管理规定(2019-03-01).txt"], "依法 alone is no match");
}

#[test]
fn paging_shows_every_document_once_whatever_the_page_size() {
    // More matches than re-ranking re-orders, each regulation in two
    // versions, so versions fall on both sides of the re-ranked window.
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    for n in 0..70 {
        for (year, extra) in [(2019, ""), (2023, "并公布")] {
            let filler = "登记".repeat(n % 7 + 1);
            write(&src, &format!("rules/第{n}号管理规定({year}-01-01).txt"), format!("第{n}号管理规定\n{filler}应当办理{extra}。\n"));
        }
    }
    ingest::run(&IngestOptions::new(vec![src], data.clone())).unwrap();
    let archive = Archive::open(&data).unwrap();
    let pages = |size: usize| -> Vec<String> {
        (0..140)
            .step_by(size)
            .flat_map(|offset| {
                let request = SearchRequest { q: "登记".into(), limit: size, offset, ..SearchRequest::default() };
                archive.search(&request).unwrap().hits.into_iter().map(|h| h.path)
            })
            .collect()
    };
    let whole = pages(100);
    assert_eq!(whole.len(), 140);
    assert_eq!(whole.iter().collect::<std::collections::HashSet<_>>().len(), 140, "each document once");
    for size in [7, 10, 30] {
        assert_eq!(pages(size), whole, "page size {size}");
    }
}

/// The paths of the hits of `q` over an archive of `docs` (path, text; each
/// text with [`FILLER`] after it), the total, and the sum of the
/// disclosure facet's counts (every document has a disclosure).
fn hits_total_and_facets(docs: &[(&str, &str)], q: &str) -> (Vec<String>, usize, u64) {
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    for (path, text) in docs {
        write(&src, path, format!("{text}\n{FILLER}\n"));
    }
    ingest::run(&IngestOptions::new(vec![src], data.clone())).unwrap();
    let found = Archive::open(&data).unwrap().search(&SearchRequest { q: q.into(), ..SearchRequest::default() }).unwrap();
    let hits = found.hits.iter().map(|h| h.path.clone()).collect();
    (hits, found.total, found.facets["disclosure"].values().sum())
}

/// The total counts what the hits and facets count: never fewer than the
/// hits, and each facet adds up to it. A whole word few documents hold is
/// followed by the documents holding its inner words; that gave the count
/// of one plan with the facets of another: on the laws, 校园欺凌 said 4
/// found over 5 hits, with facets adding up to 535.
#[test]
fn the_total_counts_the_hits_and_the_facets_add_up_to_it() {
    let docs = [
        ("whole.txt", "校园欺凌防治办法\n学校应当预防和处置校园欺凌。"),
        ("apart.txt", "学生保护规定\n校园内发生的欺凌行为，学校应当及时制止。"),
        ("one-word.txt", "校园安全管理规定\n加强校园安全管理。"),
        ("other.txt", "食品安全通知\n加强食品安全监管。"),
    ];
    assert_eq!(hits_total_and_facets(&docs, "校园欺凌"), (vec!["whole.txt".to_string(), "apart.txt".to_string()], 2, 2));
}

/// A number in a query is an atom, not a dictionary word: the pass for
/// partial matches looked it up among the words and found nothing, so 第17条
/// said 0 found over the one document that has it (a fresh tester, laws).
#[test]
fn a_query_with_a_number_counts_what_it_finds() {
    let docs = [
        ("article.txt", "城市绿化条例释义\n依照本条例第17条的规定，由主管部门责令改正。"),
        ("other.txt", "食品安全通知\n加强食品安全监管，第三条另有规定的除外。"),
    ];
    assert_eq!(hits_total_and_facets(&docs, "第17条"), (vec!["article.txt".to_string()], 1, 1));
}
