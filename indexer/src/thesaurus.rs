//! The curated word lists applied at query time, kept as data in
//! `indexer/data/`: everyday words → official terms (`synonyms.tsv`), and
//! question words a document need not contain (`optional-words.txt`).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::analysis::normalize;

const SYNONYMS: &str = include_str!("../data/synonyms.tsv");
const OPTIONAL: &str = include_str!("../data/optional-words.txt");

struct Thesaurus {
    synonyms: HashMap<String, Vec<String>>,
    optional: HashSet<String>,
}

fn key(word: &str) -> String {
    normalize(word.trim()).text()
}

fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn thesaurus() -> &'static Thesaurus {
    static THESAURUS: OnceLock<Thesaurus> = OnceLock::new();
    THESAURUS.get_or_init(|| Thesaurus {
        synonyms: lines(SYNONYMS)
            .filter_map(|l| l.split_once('\t'))
            .map(|(word, terms)| (key(word), terms.split('|').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()))
            .collect(),
        optional: lines(OPTIONAL).map(key).collect(),
    })
}

/// Official terms for an everyday word (empty when it has none).
pub fn synonyms(word: &str) -> &'static [String] {
    thesaurus().synonyms.get(&key(word)).map(Vec::as_slice).unwrap_or(&[])
}

/// Every everyday word that has official terms (normalized).
pub fn everyday_words() -> impl Iterator<Item = &'static str> {
    thesaurus().synonyms.keys().map(String::as_str)
}

/// Whether `text` is a word of either list: an everyday word with official
/// terms, or a question or function word (the query side keeps such a word
/// whole where the segmenter cut it apart).
pub fn is_entry(text: &str) -> bool {
    let key = key(text);
    thesaurus().synonyms.contains_key(&key) || thesaurus().optional.contains(&key)
}

/// Whether a query word is a question or function word.
pub fn is_optional(word: &str) -> bool {
    thesaurus().optional.contains(&key(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyday_words_map_to_official_terms_in_any_script() {
        assert_eq!(synonyms("低保"), ["最低生活保障"]);
        assert!(synonyms("駕照").contains(&"机动车驾驶证".to_string()), "traditional key folds");
        assert!(synonyms("家暴").contains(&"家庭暴力".to_string()));
        assert!(synonyms("控烟").contains(&"控制吸烟".to_string()));
        assert!(synonyms("最低生活保障").is_empty());
    }

    #[test]
    fn question_words_are_optional() {
        assert!(is_optional("怎么"));
        assert!(is_optional("如何"));
        assert!(!is_optional("加班费"));
    }

    #[test]
    fn every_data_line_is_well_formed() {
        for line in lines(SYNONYMS) {
            let (word, terms) = line.split_once('\t').unwrap_or_else(|| panic!("no TAB in {line:?}"));
            assert!(!word.is_empty() && !terms.is_empty(), "{line:?}");
        }
    }
}
