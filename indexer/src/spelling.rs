//! "Did you mean": corrections for the slips of pinyin input, where the
//! input method offered a word that sounds the same (低宝 for 低保, 公基金
//! for 公积金). Pinyin only proposes a correction from the archive's own
//! vocabulary; it never makes a document match.

use std::collections::HashMap;

use pinyin::ToPinyin;
use tantivy::Searcher;

use crate::analysis::{is_han, normalize};
use crate::schema::Fields;
use crate::thesaurus;

/// Shortest and longest word (in characters) that is corrected.
const WORD_CHARS: std::ops::RangeInclusive<usize> = 2..=4;

/// The archive's words by their sound: for each toneless pinyin spelling,
/// the word with that sound found in the most documents. Built once per
/// commit, before the commit serves ([`crate::archive`]'s commit tables).
pub struct Spelling {
    by_sound: HashMap<String, (String, u64)>,
}

impl Spelling {
    /// Read every two- to four-character Han word of the title and body
    /// word fields, with its document frequency, and the thesaurus's
    /// everyday words (which a person types but records may not contain).
    pub fn build(searcher: &Searcher, fields: &Fields) -> Spelling {
        let mut by_sound: HashMap<String, (String, u64)> = HashMap::new();
        let mut add = |word: &str, docs: u64| {
            let Some(key) = sound(word) else { return };
            let entry = by_sound.entry(key).or_insert_with(|| (word.to_string(), 0));
            if entry.0 == word {
                entry.1 += docs;
            } else if docs > entry.1 {
                *entry = (word.to_string(), docs);
            }
        };
        for segment in searcher.segment_readers() {
            for field in [fields.title_words, fields.body_words] {
                let Ok(index) = segment.inverted_index(field) else { continue };
                let Ok(mut stream) = index.terms().stream() else { continue };
                while stream.advance() {
                    if let Ok(word) = std::str::from_utf8(stream.key()) {
                        add(word, u64::from(stream.value().doc_freq));
                    }
                }
            }
        }
        for word in thesaurus::everyday_words() {
            add(word, 1);
        }
        Spelling { by_sound }
    }

    /// The archive's word that sounds like `word` (a different word), if any.
    pub fn correct(&self, word: &str) -> Option<&str> {
        let folded = normalize(word).text();
        let (best, _) = self.by_sound.get(&sound(&folded)?)?;
        (*best != folded).then_some(best.as_str())
    }
}

/// Toneless pinyin of a two- to four-character Han word, syllables
/// separated by spaces (`低保` → `di bao`); `None` for anything else.
fn sound(word: &str) -> Option<String> {
    let chars = word.chars().count();
    if !WORD_CHARS.contains(&chars) || !word.chars().all(is_han) {
        return None;
    }
    let syllables: Option<Vec<&str>> = word.to_pinyin().map(|p| p.map(|p| p.plain())).collect();
    Some(syllables?.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_share_a_sound() {
        assert_eq!(sound("低保"), sound("低宝"));
        assert_eq!(sound("公积金"), sound("公基金"));
        assert_eq!(sound("公积金").as_deref(), Some("gong ji jin"));
        assert_eq!(sound("法"), None, "one character is too short to correct");
        assert_eq!(sound("ab"), None);
    }
}
