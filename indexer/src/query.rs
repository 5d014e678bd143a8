//! From the text a person typed to a [`QueryPlan`]: what must match, what
//! may, what must not, and what to highlight, prepared once per search.
//!
//! # The query language
//! Words (all must match), `"quoted phrases"` (exactly these characters in
//! this order), `-excluded` words and `-"excluded phrases"`, and `OR`
//! between alternatives. Anything else, including unbalanced quotes and
//! field syntax, is read as plain words: parsing never fails.
//!
//! # How typed text becomes words
//! People type without spaces (怎么申请低保). An unquoted query typed as
//! one run is segmented by the same analyzer as the documents, and each
//! word becomes a group of its own: it must match where its characters
//! stand together; how close the words stand only adds to the score
//! (ranking). Where a person typed spaces, each spaced word is taken as
//! typed (政府信息 in `政府信息 公开` must stand together), unless it holds
//! a thesaurus entry (怎么申请 in `怎么申请 低保` is two words). Adjacent
//! words that together spell an entry of the thesaurus (低+保 → 低保) are
//! taken as that entry. Question and function words (怎么, 如何, 的 …) are
//! optional. Everyday words also match their official terms (低保 →
//! 最低生活保障). A 文号 said the way people say it (临政发2019年7号文,
//! 临政发7号) is recognized and looked up by its key.

use std::collections::HashSet;

use crate::analysis::{analyze, is_han, normalize, Piece, PieceKind};
use crate::catalog::{normalize_doc_number, spoken_doc_number, SpokenDocNumber};
use crate::thesaurus;

/// One word or phrase of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    /// Quoted: the characters must appear exactly in this order.
    pub phrase: bool,
}

/// One thing the query asks for: any of its alternatives (a typed word and
/// the official terms the thesaurus adds), required unless `optional`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub alternatives: Vec<Term>,
    /// Question and function words only score; they need not match.
    pub optional: bool,
    /// The words inside a long typed word (治安处罚 → 治安, 处罚): a
    /// document whose title holds all of them matches the group too, below
    /// one that holds the word itself (治安管理处罚法 for 治安处罚法). Empty
    /// for phrases, short words and words with a one-character part.
    pub parts: Vec<String>,
}

impl Group {
    /// A group of one term taken as it stands: a phrase, a part of a 文号.
    fn exact(term: Term) -> Group {
        Group { alternatives: vec![term], optional: false, parts: Vec::new() }
    }

    /// The texts of its alternatives.
    pub fn texts(&self) -> Vec<String> {
        self.alternatives.iter().map(|t| t.text.clone()).collect()
    }

    /// Whether every alternative is a single Han character.
    pub fn is_one_character(&self) -> bool {
        self.alternatives.iter().all(|t| is_one_han(&t.text))
    }
}

/// Everything a search needs to know about the typed text, computed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPlan {
    /// Every required group must match (any alternative of it).
    pub groups: Vec<Group>,
    /// No document holding one of these is returned.
    pub excluded: Vec<Term>,
    /// The exact 文号 / 索引号 keys the text stands for
    /// ([`crate::catalog::doc_number_keys`]).
    pub keys: Vec<String>,
    /// Texts to mark in snippets and the reading view, and what a title
    /// must say to count as covered by the query: the required typed words
    /// and their official terms.
    pub highlights: Vec<String>,
}

/// A piece of typed text before it becomes terms.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    quoted: bool,
    negated: bool,
}

/// Characters that open and close a phrase.
const QUOTES: [char; 5] = ['"', '“', '”', '「', '」'];
/// Longest run of segmenter words merged back into one thesaurus entry.
const MAX_MERGE: usize = 4;
/// Shortest typed word (in characters) whose inner words also match.
const MIN_PARTS_CHARS: usize = 4;

impl QueryPlan {
    /// The plan for `input` as typed.
    pub fn new(input: &str) -> QueryPlan {
        let mut plan = QueryPlan::default();
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(spoken) = spoken_doc_number(&normalize(&compact).text()) {
            plan.doc_number(&spoken);
        } else {
            plan.words(input);
        }
        if compact.chars().any(|c| c.is_ascii_digit()) && !input.trim().contains(char::is_whitespace) {
            let key = normalize_doc_number(&compact);
            if !plan.keys.contains(&key) {
                plan.keys.push(key);
            }
        }
        plan.finish();
        plan
    }

    /// Whether no word is asked for (there may still be exclusions or keys).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Whether the plan asks for nothing at all: no word, no exclusion, no
    /// 文号 key (an empty query lists the archive).
    pub fn asks_nothing(&self) -> bool {
        self.groups.is_empty() && self.excluded.is_empty() && self.keys.is_empty()
    }

    /// Whether partial matches can be offered: more than one required group.
    pub fn can_relax(&self) -> bool {
        self.groups.iter().filter(|g| !g.optional).count() > 1
    }

    /// The typed words of the required groups, in order (not phrases): the
    /// words whose closeness raises the score.
    pub fn near_words(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| !g.optional)
            .filter_map(|g| g.alternatives.first())
            .filter(|t| !t.phrase)
            .map(|t| t.text.as_str())
            .collect()
    }

    /// The plan with each long typed word (three characters or more)
    /// replaced by the dictionary words inside it (权益法 → 权益, 法): for
    /// the documents that hold the words apart when too few hold the word.
    /// Question words and phrases stay whole. `None` when no word splits.
    pub fn split_words(&self) -> Option<QueryPlan> {
        let mut split = QueryPlan { excluded: self.excluded.clone(), keys: self.keys.clone(), ..QueryPlan::default() };
        let mut changed = false;
        for group in &self.groups {
            let typed = &group.alternatives[0];
            let question = thesaurus::is_optional(&typed.text);
            let parts = if typed.phrase || question { Vec::new() } else { sub_words(&typed.text) };
            if parts.len() > 1 {
                changed = true;
                split.groups.extend(parts.into_iter().map(|p| word_group(&p)));
            } else {
                split.groups.push(group.clone());
            }
        }
        changed.then(|| {
            split.finish();
            split
        })
    }

    /// What may be a slip of a pinyin input method, to be checked against
    /// the archive's words: runs of two or three of the segmenter's pieces
    /// that hold a single character and spell two to four characters (补+尝
    /// of 征地补尝, 公+基金 of 公基金: the slip left pieces the dictionary
    /// does not know as one word), and with `known_words` each piece of two
    /// to four characters as well (for a query that found nothing).
    pub fn slip_candidates(&self, known_words: bool) -> Vec<String> {
        let words = self.near_words();
        let mut out: Vec<String> = Vec::new();
        let pieces: Vec<String> =
            words.iter().flat_map(|w| analyze(w).into_iter().filter(|p| p.kind == PieceKind::Word).map(|p| p.text)).collect();
        let shortest = if known_words { 1 } else { 2 };
        for len in shortest..=3 {
            for run in pieces.windows(len) {
                let joined = run.concat();
                let fits = (2..=4).contains(&joined.chars().count());
                if fits && (len == 1 || run.iter().any(|p| p.chars().count() == 1)) && !out.contains(&joined) {
                    out.push(joined);
                }
            }
        }
        out
    }

    /// Whether a required word is a single character standing next to
    /// another word: what a slip of the input method often leaves.
    pub fn has_stray_character(&self) -> bool {
        let words = self.near_words();
        words.len() > 1 && words.iter().any(|w| is_one_han(w))
    }

    /// Groups, exclusions and OR from words, phrases and the segmenter.
    fn words(&mut self, input: &str) {
        let mut or_pending = false;
        let tokens = split(input);
        let spaced = tokens.iter().filter(|t| !t.quoted && !t.negated).count() > 1;
        for token in tokens {
            if !token.quoted && !token.negated && matches!(token.text.as_str(), "OR" | "|" | "或") {
                or_pending = !self.groups.is_empty();
                continue;
            }
            if !has_searchable(&token.text) {
                continue;
            }
            let term = Term { text: token.text.clone(), phrase: token.quoted };
            if token.negated {
                self.excluded.push(term);
            } else if or_pending {
                if let Some(last) = self.groups.last_mut() {
                    last.alternatives.push(term);
                }
                or_pending = false;
            } else if token.quoted {
                self.groups.push(Group::exact(term));
            } else {
                let words = segment(&token.text);
                if spaced && words.len() > 1 && !words.iter().any(|w| thesaurus::is_entry(w)) {
                    self.groups.push(word_group(&token.text));
                } else {
                    self.groups.extend(words.iter().map(|w| word_group(w)));
                }
            }
        }
    }

    /// A 文号 said aloud: its key, and its parts as words (the prefix, the
    /// year, the number with 号) so a document citing it is found too.
    fn doc_number(&mut self, spoken: &SpokenDocNumber) {
        self.keys.push(spoken.key());
        let number = format!("{}号", spoken.number);
        let parts = [Some(spoken.prefix.clone()), spoken.year.clone(), Some(number)];
        for part in parts.into_iter().flatten() {
            self.groups.push(Group::exact(Term { text: part, phrase: true }));
        }
    }

    /// Settle what depends on all groups: a query of optional words only
    /// keeps them required; the highlight terms.
    fn finish(&mut self) {
        if self.groups.iter().all(|g| g.optional) {
            self.groups.iter_mut().for_each(|g| g.optional = false);
        }
        self.highlights = highlights(&self.groups);
    }
}

/// The group of one typed word: the word, its official terms, optional
/// when it is a question or function word.
fn word_group(word: &str) -> Group {
    let mut alternatives = vec![Term { text: word.to_string(), phrase: false }];
    for synonym in thesaurus::synonyms(word) {
        let term = Term { text: synonym.clone(), phrase: false };
        if !alternatives.contains(&term) {
            alternatives.push(term);
        }
    }
    let mut parts = if word.chars().count() >= MIN_PARTS_CHARS { sub_words(word) } else { Vec::new() };
    if parts.iter().any(|p| p.chars().count() < 2) {
        parts.clear();
    }
    Group { alternatives, optional: thesaurus::is_optional(word), parts }
}

/// The words of one unquoted run, as the analyzer segments it. Adjacent
/// words that spell a thesaurus entry are merged back into it (低+保 →
/// 低保), a number keeps its unit (12号), and a single character the
/// dictionary had no word for stays with the Han word before it (残疾+证 →
/// 残疾证; 三+公 → 三公), except question and function words.
fn segment(run: &str) -> Vec<String> {
    let pieces: Vec<Piece> = analyze(run).into_iter().filter(|p| p.kind == PieceKind::Word).collect();
    let adjacent = |a: &Piece, b: &Piece| a.position + a.chars == b.position;
    let mut words: Vec<String> = Vec::with_capacity(pieces.len());
    let mut i = 0;
    while i < pieces.len() {
        let longest = (2..=MAX_MERGE.min(pieces.len() - i)).rev().find_map(|n| {
            let run = &pieces[i..i + n];
            let text: String = run.iter().map(|p| p.text.as_str()).collect();
            (run.windows(2).all(|w| adjacent(&w[0], &w[1])) && thesaurus::is_entry(&text)).then_some((n, text))
        });
        let number_unit = pieces.get(i + 1).filter(|next| {
            pieces[i].text.chars().all(|c| c.is_ascii_digit())
                && is_one_han(&next.text)
                && !thesaurus::is_optional(&next.text)
                && adjacent(&pieces[i], next)
        });
        let (n, text) = match number_unit {
            // A number and the unit it counts are one word (12号, 1999年):
            // 2号 then never matches the 2 of 2019 and the 号 of 12号.
            Some(unit) if longest.is_none() => (2, format!("{}{}", pieces[i].text, unit.text)),
            _ => longest.unwrap_or((1, pieces[i].text.clone())),
        };
        let lone = n == 1 && is_one_han(&text) && !thesaurus::is_optional(&text);
        match words.last_mut() {
            Some(last) if lone && adjacent(&pieces[i - 1], &pieces[i]) && is_han_text(last) && !thesaurus::is_optional(last) => {
                last.push_str(&text)
            }
            _ => words.push(text),
        }
        i += n;
    }
    words
}

fn is_han_text(text: &str) -> bool {
    text.chars().all(is_han)
}

/// Whether `text` is one Han character.
fn is_one_han(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(is_han) && chars.next().is_none()
}

/// The words inside a long Han word: as the segmenter splits it where it
/// does, else the dictionary words that tile it, longest first from the
/// left (三公经费 → 三公, 经费); characters no word covers stand alone.
fn sub_words(word: &str) -> Vec<String> {
    let chars: Vec<char> = normalize(word).chars;
    if chars.len() < 3 || !is_han_text(word) {
        return Vec::new();
    }
    let segmented = segment(word);
    if segmented.len() > 1 {
        return segmented;
    }
    let pieces: Vec<Piece> = analyze(word).into_iter().filter(|p| p.kind == PieceKind::SubWord).collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let longest = pieces.iter().filter(|p| p.position == at).map(|p| p.chars).max().unwrap_or(1);
        out.push(chars[at..at + longest].iter().collect());
        at += longest;
    }
    out
}

/// The texts to highlight: every required typed term and the official
/// terms its everyday words stand for (but not a single character such as
/// 法 for 法律, which would mark half of a law). Not the inner words of a
/// long word: marking 行政 and 案件 all over a law for 行政案件 helps no
/// reader and makes every snippet slower.
fn highlights(groups: &[Group]) -> Vec<String> {
    let mut seen = HashSet::new();
    groups
        .iter()
        .filter(|g| !g.optional)
        .flat_map(|g| g.alternatives.iter().enumerate())
        .filter(|(i, t)| *i == 0 || t.text.chars().count() > 1)
        .map(|(_, t)| t.text.clone())
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// Whether text holds anything the analyzer indexes.
fn has_searchable(text: &str) -> bool {
    normalize(text).chars.iter().any(|c| c.is_alphanumeric())
}

/// Split into tokens. A quote without its partner is dropped and the rest
/// read as words; a `-` right before a quote excludes the phrase, and one
/// between two Han characters starts an exclusion.
fn split(input: &str) -> Vec<Token> {
    let clean: String = input.chars().map(|c| if c.is_control() || c == '\u{3000}' { ' ' } else { c }).collect();
    let balanced = clean.chars().filter(|c| QUOTES.contains(c)).count() % 2 == 0;
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    let mut negate_quote = false;
    let chars: Vec<char> = clean.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // 低保-临时救助 typed without a space: a minus between two Han
        // characters starts an exclusion (a date's 2019-03 does not).
        let joined_minus = matches!(c, '-' | '－')
            && !in_quote
            && current.chars().last().is_some_and(is_han)
            && chars.get(i + 1).is_some_and(|&next| is_han(next));
        if joined_minus {
            flush(&mut current, false, false, &mut out);
            current.push(c);
        } else if QUOTES.contains(&c) && balanced {
            if !in_quote && matches!(current.trim(), "-" | "－") {
                current.clear();
                negate_quote = true;
            }
            flush(&mut current, in_quote, in_quote && negate_quote, &mut out);
            if in_quote {
                negate_quote = false;
            }
            in_quote = !in_quote;
        } else if QUOTES.contains(&c) || (c.is_whitespace() && !in_quote) {
            flush(&mut current, false, false, &mut out);
        } else {
            current.push(c);
        }
    }
    flush(&mut current, in_quote, in_quote && negate_quote, &mut out);
    out
}

/// End the token being read, if it holds anything. An unquoted token that
/// starts with `-` (and has more) is an exclusion.
fn flush(current: &mut String, quoted: bool, negated: bool, out: &mut Vec<Token>) {
    let text = std::mem::take(current);
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let (negated, text) = match text.strip_prefix(['-', '－']) {
        Some(rest) if !quoted && !rest.is_empty() => (true, rest),
        _ => (negated, text),
    };
    out.push(Token { text: text.to_string(), quoted, negated });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, phrase: bool) -> Term {
        Term { text: text.into(), phrase }
    }

    /// The typed word of each group, `?` marking an optional one.
    fn typed(plan: &QueryPlan) -> Vec<String> {
        plan.groups.iter().map(|g| format!("{}{}", g.alternatives[0].text, if g.optional { "?" } else { "" })).collect()
    }

    #[test]
    fn words_phrases_exclusions_and_or() {
        let q = QueryPlan::new("低保 \"申请 条件\" -城市 教育 OR 卫生");
        assert_eq!(typed(&q), ["低保", "申请 条件", "教育"]);
        assert_eq!(q.groups[0].alternatives, [t("低保", false), t("最低生活保障", false)]);
        assert_eq!(q.groups[2].alternatives, [t("教育", false), t("卫生", false)]);
        assert_eq!(q.excluded, [t("城市", false)]);
    }

    #[test]
    fn an_excluded_phrase_is_excluded() {
        let q = QueryPlan::new("公积金 -\"住房保障\"");
        assert_eq!(typed(&q), ["公积金"]);
        assert_eq!(q.excluded, [t("住房保障", true)]);
        assert_eq!(QueryPlan::new("公积金 －“住房保障”").excluded, [t("住房保障", true)]);
        let joined = QueryPlan::new("低保-临时救助");
        assert_eq!((typed(&joined), joined.excluded), (vec!["低保".to_string()], vec![t("临时救助", false)]));
        assert!(QueryPlan::new("2019-03").excluded.is_empty(), "a date is not an exclusion");
    }

    #[test]
    fn broken_syntax_is_read_as_plain_words() {
        assert_eq!(typed(&QueryPlan::new("\"低保 申请")), ["低保", "申请"]);
        assert_eq!(QueryPlan::new("OR OR - -- \u{0}").groups, Vec::<Group>::new());
        let only_excluded = QueryPlan::new("-低保");
        assert!(only_excluded.groups.is_empty());
        assert_eq!(only_excluded.excluded, [t("低保", false)], "everything but 低保");
    }

    #[test]
    fn unspaced_text_is_segmented_into_words_and_question_words_are_optional() {
        assert_eq!(typed(&QueryPlan::new("怎么申请低保")), ["怎么?", "申请", "低保"]);
        assert_eq!(typed(&QueryPlan::new("家暴怎么办")), ["家暴", "怎么办?"]);
        assert_eq!(typed(&QueryPlan::new("不动产登记条例")), ["不动产", "登记", "条例"]);
        assert!(!QueryPlan::new("怎么").groups[0].optional, "a query of question words only keeps them");
        assert_eq!(QueryPlan::new("\"家暴\"").groups[0].alternatives.len(), 1, "phrases are taken literally");
    }

    #[test]
    fn spaced_and_unspaced_typing_make_the_same_plan() {
        assert_eq!(QueryPlan::new("低保申请条件").groups, QueryPlan::new("低保 申请 条件").groups);
    }

    #[test]
    fn a_spaced_word_is_taken_as_typed_and_an_unspaced_run_is_segmented() {
        assert_eq!(typed(&QueryPlan::new("政府信息 公开")), ["政府信息", "公开"]);
        assert_eq!(typed(&QueryPlan::new("政府信息公开")), ["政府", "信息", "公开"]);
        assert_eq!(typed(&QueryPlan::new("怎么申请 低保")), ["怎么?", "申请", "低保"]);
    }

    #[test]
    fn chinese_quotes_and_ideographic_space_work() {
        let q = QueryPlan::new("“人民政府”\u{3000}公开");
        assert_eq!(typed(&q), ["人民政府", "公开"]);
        assert!(q.groups[0].alternatives[0].phrase);
    }

    #[test]
    fn a_spoken_doc_number_becomes_its_key_and_its_parts() {
        for (typed_text, key) in [
            ("临政发〔2019〕7号文", "临政发〔2019〕7号"),
            ("临政发2019年7号", "临政发〔2019〕7号"),
            ("临政发(2019)7号文件", "临政发〔2019〕7号"),
            ("临政发7号", "临政发〔〕7号"),
        ] {
            let plan = QueryPlan::new(typed_text);
            assert_eq!(plan.keys[0], key, "{typed_text}");
            assert!(plan.highlights.contains(&"7号".to_string()), "{typed_text}: {:?}", plan.highlights);
        }
    }

    #[test]
    fn a_stray_character_stays_with_the_word_before_it() {
        // jieba has no 残疾证: 证 alone would match 听证 anywhere in a text.
        assert_eq!(typed(&QueryPlan::new("残疾证")), ["残疾证"]);
        assert_eq!(typed(&QueryPlan::new("怎么办残疾证")), ["怎么办?", "残疾证"]);
    }

    #[test]
    fn a_number_and_its_unit_are_one_word() {
        assert_eq!(typed(&QueryPlan::new("2号")), ["2号"]);
        assert_eq!(typed(&QueryPlan::new("宪法修正案１９９９年")), ["宪法", "修正案", "1999年"]);
        assert_eq!(typed(&QueryPlan::new("2018宪法修正")), ["2018", "宪法", "修正"]);
    }

    #[test]
    fn a_doc_number_in_traditional_characters_is_recognized() {
        assert_eq!(QueryPlan::new("臨政發〔2019〕12號").keys[0], "临政发〔2019〕12号");
    }

    #[test]
    fn question_words_are_neither_split_nor_highlighted() {
        assert_eq!(QueryPlan::new("怎么办").split_words(), None);
        assert_eq!(QueryPlan::new("怎么申请低保").highlights, ["申请", "低保", "最低生活保障"]);
    }

    #[test]
    fn a_long_word_splits_into_the_words_inside_it() {
        assert_eq!(typed(&QueryPlan::new("三公经费")), ["三公", "经费"], "lone characters stay together");
        let plan = QueryPlan { groups: vec![word_group("权益法")], ..QueryPlan::default() };
        assert_eq!(typed(&plan.split_words().expect("splits")), ["权益", "法"]);
        let plan = QueryPlan { groups: vec![word_group("中华人民共和国")], ..QueryPlan::default() };
        assert_eq!(typed(&plan.split_words().expect("splits")), ["中华人民", "共和国"]);
        assert_eq!(QueryPlan::new("低保").split_words(), None);
    }

    #[test]
    fn a_stray_character_and_its_neighbour_are_checked_for_a_slip() {
        let plan = QueryPlan::new("公基金");
        assert_eq!(typed(&plan), ["公", "基金"]);
        assert!(plan.has_stray_character());
        assert_eq!(plan.slip_candidates(true), ["基金", "公基金"]);
        assert_eq!(plan.slip_candidates(false), ["公基金"]);
        assert!(QueryPlan::new("征地补尝").slip_candidates(false).contains(&"补尝".to_string()));
        assert!(!QueryPlan::new("低保 申请").has_stray_character());
    }

    #[test]
    fn highlights_hold_typed_words_and_longer_official_terms() {
        let plan = QueryPlan::new("低保 法律");
        assert!(plan.highlights.contains(&"最低生活保障".to_string()));
        assert!(!plan.highlights.contains(&"法".to_string()));
    }
}
