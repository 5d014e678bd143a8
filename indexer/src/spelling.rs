//! "Did you mean": corrections for the slips of pinyin input, where the
//! input method offered a word that sounds the same (低宝 for 低保, 公基金
//! for 公积金). Pinyin only proposes a correction from the archive's own
//! vocabulary; it never makes a document match.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use pinyin::ToPinyin;
use tantivy::Searcher;

use crate::analysis::{is_han, normalize};
use crate::schema::Fields;
use crate::thesaurus;

/// Shortest and longest word (in characters) that is corrected.
const WORD_CHARS: std::ops::RangeInclusive<usize> = 2..=4;

/// The spelling table of an archive's newest commit, kept off the request
/// path: the first query that needs it builds it (~140 ms at 10⁵ notices,
/// ~300 ms at 10⁶), and after a commit queries go on with the previous
/// commit's table while a background thread builds the new one. A word is
/// offered a commit late at worst: it corrects, it never makes a match.
#[derive(Default)]
pub struct SpellingTable {
    current: RwLock<Option<Arc<Spelling>>>,
    rebuilding: AtomicBool,
}

impl SpellingTable {
    /// The table to use with `searcher`: its commit's, else the last one
    /// built (a rebuild for `searcher`'s commit is started), else built now.
    pub fn for_searcher(self: &Arc<Self>, searcher: &Searcher, fields: &Fields) -> Arc<Spelling> {
        let generation = searcher.generation().generation_id();
        let current = self.current.read().ok().and_then(|table| table.clone());
        match current {
            Some(table) if table.generation == generation => table,
            Some(stale) => {
                if !self.rebuilding.swap(true, Ordering::AcqRel) {
                    let (this, searcher, fields) = (Arc::clone(self), searcher.clone(), fields.clone());
                    std::thread::spawn(move || {
                        this.replace(Spelling::build(&searcher, &fields));
                        this.rebuilding.store(false, Ordering::Release);
                    });
                }
                stale
            }
            None => self.replace(Spelling::build(searcher, fields)),
        }
    }

    /// Keep `table` unless a newer commit's is kept already.
    fn replace(&self, table: Spelling) -> Arc<Spelling> {
        let table = Arc::new(table);
        if let Ok(mut current) = self.current.write() {
            match current.as_ref() {
                Some(kept) if kept.generation > table.generation => return Arc::clone(kept),
                _ => *current = Some(Arc::clone(&table)),
            }
        }
        table
    }
}

/// The archive's words by their sound: for each toneless pinyin spelling,
/// the word with that sound found in the most documents, as of one commit.
pub struct Spelling {
    /// The commit (searcher generation) it was built from.
    pub generation: u64,
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
        Spelling { generation: searcher.generation().generation_id(), by_sound }
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
