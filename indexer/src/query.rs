//! The query language a person can type: words (all must match),
//! `"quoted phrases"`, `-excluded` words, and `OR` between alternatives.
//! Anything else, including unbalanced quotes and field syntax, is read as
//! plain words: parsing never fails.

use std::collections::HashSet;

use crate::analysis::normalize;
use crate::thesaurus;

/// One word or phrase of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    /// Quoted: the characters must appear exactly in this order.
    pub phrase: bool,
}

/// A parsed query: every group must match (one of its alternatives), no
/// excluded term may.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub groups: Vec<Vec<Term>>,
    pub excluded: Vec<Term>,
}

/// A group after the thesaurus: its alternatives (with the official terms
/// of everyday words added) and whether a document may lack it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub alternatives: Vec<Term>,
    /// Question words (怎么, 如何 …) only score; they need not match.
    pub optional: bool,
}

/// Characters that open and close a phrase.
const QUOTES: [char; 5] = ['"', '“', '”', '「', '」'];

impl ParsedQuery {
    pub fn parse(input: &str) -> ParsedQuery {
        let mut parsed = ParsedQuery::default();
        let mut or_pending = false;
        for (raw, quoted) in split(input) {
            if !quoted && (raw == "OR" || raw == "|" || raw == "或") {
                or_pending = !parsed.groups.is_empty();
                continue;
            }
            let (negated, body) = match raw.strip_prefix(['-', '－']) {
                Some(rest) if !rest.is_empty() => (true, rest.to_string()),
                _ => (false, raw),
            };
            if !has_searchable(&body) {
                continue;
            }
            let term = Term { text: body, phrase: quoted };
            if negated {
                parsed.excluded.push(term);
            } else if or_pending {
                if let Some(last) = parsed.groups.last_mut() {
                    last.push(term);
                }
                or_pending = false;
            } else {
                parsed.groups.push(vec![term]);
            }
        }
        // A query of exclusions only would match everything but them: treat
        // them as words instead, which is what such a person looks for.
        if parsed.groups.is_empty() && !parsed.excluded.is_empty() {
            parsed.groups = std::mem::take(&mut parsed.excluded).into_iter().map(|t| vec![t]).collect();
        }
        parsed
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups with the thesaurus applied. A query made only of
    /// question words keeps them required.
    pub fn expanded(&self) -> Vec<Group> {
        let all_optional = self.groups.iter().all(|g| g.iter().all(|t| !t.phrase && thesaurus::is_optional(&t.text)));
        self.groups
            .iter()
            .map(|alternatives| {
                let mut all = alternatives.clone();
                for t in alternatives.iter().filter(|t| !t.phrase) {
                    for synonym in thesaurus::synonyms(&t.text) {
                        let term = Term { text: synonym.clone(), phrase: false };
                        if !all.contains(&term) {
                            all.push(term);
                        }
                    }
                }
                let optional = !all_optional && alternatives.iter().all(|t| !t.phrase && thesaurus::is_optional(&t.text));
                Group { alternatives: all, optional }
            })
            .collect()
    }

    /// The texts to highlight: every term that is not excluded, and the
    /// official terms its everyday words stand for (but not a single
    /// character such as 法 for 法律, which would mark half of a law).
    pub fn highlight_terms(&self) -> Vec<String> {
        let typed: HashSet<&str> = self.groups.iter().flatten().map(|t| t.text.as_str()).collect();
        self.expanded()
            .into_iter()
            .flat_map(|g| g.alternatives)
            .filter(|t| typed.contains(t.text.as_str()) || t.text.chars().count() > 1)
            .map(|t| t.text)
            .collect()
    }
}

/// Whether text holds anything the analyzer indexes.
fn has_searchable(text: &str) -> bool {
    normalize(text).chars.iter().any(|c| c.is_alphanumeric())
}

/// Split into (text, quoted) pieces. A quote without its partner is dropped
/// and the rest read as words.
fn split(input: &str) -> Vec<(String, bool)> {
    let clean: String = input.chars().map(|c| if c.is_control() || c == '\u{3000}' { ' ' } else { c }).collect();
    let quote_count = clean.chars().filter(|c| QUOTES.contains(c)).count();
    let balanced = quote_count % 2 == 0;
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    let flush = |current: &mut String, quoted: bool, out: &mut Vec<(String, bool)>| {
        let text = std::mem::take(current);
        let text = text.trim();
        if !text.is_empty() {
            out.push((text.to_string(), quoted));
        }
    };
    for c in clean.chars() {
        if QUOTES.contains(&c) {
            if balanced {
                flush(&mut current, in_quote, &mut out);
                in_quote = !in_quote;
            } else {
                flush(&mut current, false, &mut out);
            }
        } else if c.is_whitespace() && !in_quote {
            flush(&mut current, false, &mut out);
        } else {
            current.push(c);
        }
    }
    flush(&mut current, in_quote, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, phrase: bool) -> Term {
        Term { text: text.into(), phrase }
    }

    #[test]
    fn words_phrases_exclusions_and_or() {
        let q = ParsedQuery::parse("低保 \"申请 条件\" -城市 教育 OR 卫生");
        assert_eq!(q.groups, vec![vec![t("低保", false)], vec![t("申请 条件", true)], vec![t("教育", false), t("卫生", false)]]);
        assert_eq!(q.excluded, vec![t("城市", false)]);
    }

    #[test]
    fn broken_syntax_is_read_as_plain_words() {
        assert_eq!(ParsedQuery::parse("\"低保 申请").groups, vec![vec![t("低保", false)], vec![t("申请", false)]]);
        assert_eq!(ParsedQuery::parse("title:政府").groups, vec![vec![t("title:政府", false)]]);
        assert_eq!(ParsedQuery::parse("OR OR - -- \u{0}").groups, Vec::<Vec<Term>>::new());
        assert_eq!(ParsedQuery::parse("-低保").groups, vec![vec![t("低保", false)]]);
    }

    #[test]
    fn everyday_words_gain_official_terms_and_question_words_become_optional() {
        let groups = ParsedQuery::parse("家暴 怎么 办").expanded();
        assert!(groups[0].alternatives.contains(&t("家庭暴力", false)));
        assert!(!groups[0].optional && groups[1].optional && !groups[2].optional);
        assert!(!ParsedQuery::parse("怎么").expanded()[0].optional, "a query of question words only keeps them");
        assert_eq!(ParsedQuery::parse("\"家暴\"").expanded()[0].alternatives.len(), 1, "phrases are taken literally");
    }

    #[test]
    fn chinese_quotes_and_ideographic_space_work() {
        let q = ParsedQuery::parse("“人民政府”\u{3000}公开");
        assert_eq!(q.groups, vec![vec![t("人民政府", true)], vec![t("公开", false)]]);
    }
}
