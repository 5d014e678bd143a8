//! A page written in columns (text in a vertical font) put in reading
//! order: columns from right to left, each from top to bottom.
//!
//! pdf-extract reports every character with the matrix it is drawn with.
//! A vertical font is given zero advance widths ([`super::fonts`]), so the
//! characters of a string are reported where the string starts. A run is a
//! string together with the strings that carry on from where it stopped
//! (no `Td`, `TD`, `T*` or `Tm` between them); it keeps its characters in
//! order and is placed where it starts. Runs within half a character of
//! each other across the page make a column; a column's runs are read from
//! the top (in content order where level), and each column is one line.
//!
//! This fits a page whose text is one block of columns, the usual vertical
//! page. Horizontal text on such a page (a page number) is placed like a
//! column, by where it starts.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::PageText;

/// The text of a run: a string and the strings that carry on from it.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    /// Where it starts (user space, y up).
    x: f64,
    y: f64,
    /// Its character size in user space.
    size: f64,
    text: String,
}

/// Gathers a page's runs, then writes them in reading order to `text`
/// ([`Columns::finish`]).
pub(super) struct Columns<'t> {
    text: &'t mut PageText,
    runs: Vec<Run>,
    /// Bytes of text gathered so far.
    gathered: usize,
    /// Where the next character would be if it carries on the run.
    next: Option<(f64, f64)>,
    /// Whether the text position was set since the last character.
    moved: bool,
    /// Whether the next character starts a string.
    string_start: bool,
}

impl<'t> Columns<'t> {
    pub(super) fn new(text: &'t mut PageText) -> Self {
        Columns { text, runs: Vec::new(), gathered: 0, next: None, moved: false, string_start: false }
    }

    /// Write the runs gathered, in reading order.
    pub(super) fn finish(self) {
        let columns = reading_order(self.runs);
        for column in columns {
            self.text.sink.push_str(&column);
            self.text.sink.end_line();
        }
    }

    fn carries_on(&self, x: f64, y: f64, size: f64) -> bool {
        let near = |(next_x, next_y): (f64, f64)| (next_x - x).hypot(next_y - y) <= size / 10.0;
        !self.string_start || (!self.moved && self.next.is_some_and(near))
    }
}

impl OutputDev for Columns<'_> {
    fn begin_page(&mut self, _: u32, _: &MediaBox, _: Option<(f64, f64, f64, f64)>) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(&mut self, trm: &Transform, width: f64, spacing: f64, font_size: f64, char: &str) -> Result<(), OutputError> {
        self.gathered += char.len();
        self.text.go_on(self.gathered).map_err(OutputError::IoError)?;
        let (x, y) = (trm.m31, trm.m32);
        let size = font_size * (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let carries_on = self.carries_on(x, y, size);
        match self.runs.last_mut() {
            Some(run) if carries_on => run.text.push_str(char),
            _ => self.runs.push(Run { x, y, size, text: char.to_string() }),
        }
        // pdf-extract moves this far along the text's x axis after a character.
        let advance = width * font_size + spacing;
        self.next = Some((x + advance * trm.m11, y + advance * trm.m12));
        self.moved = false;
        self.string_start = false;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.string_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        self.moved = true;
        Ok(())
    }
}

/// The text of each column, right to left.
fn reading_order(runs: Vec<Run>) -> Vec<String> {
    let mut runs: Vec<(usize, Run)> = runs.into_iter().enumerate().collect();
    runs.sort_by(|(_, a), (_, b)| b.x.total_cmp(&a.x));
    let mut columns: Vec<Vec<(usize, Run)>> = Vec::new();
    for run in runs {
        match columns.last_mut() {
            Some(column) if column[0].1.x - run.1.x <= column[0].1.size / 2.0 => column.push(run),
            _ => columns.push(vec![run]),
        }
    }
    columns
        .into_iter()
        .map(|mut column| {
            column.sort_by(|(i, a), (j, b)| b.y.total_cmp(&a.y).then(i.cmp(j)));
            column.into_iter().map(|(_, run)| run.text).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: f64, y: f64, text: &str) -> Run {
        Run { x, y, size: 12.0, text: text.into() }
    }

    #[test]
    fn columns_read_right_to_left_and_top_to_bottom_whatever_the_content_order() {
        let runs = vec![
            run(370.0, 700.0, "各"),
            run(370.0, 676.0, "乡镇"),
            run(400.0, 688.0, "于印发"),
            run(400.0, 700.0, "关"),
            // Within half a character of its column.
            run(404.0, 652.0, "通知"),
            run(340.0, 700.0, "人民政府"),
        ];
        assert_eq!(reading_order(runs), vec!["关于印发通知", "各乡镇", "人民政府"]);
    }

    #[test]
    fn runs_at_the_same_height_in_a_column_keep_their_content_order() {
        let runs = vec![run(400.0, 700.0, "临河"), run(401.0, 700.0, "区"), run(399.0, 700.0, "政府")];
        assert_eq!(reading_order(runs), vec!["临河区政府"]);
    }
}
