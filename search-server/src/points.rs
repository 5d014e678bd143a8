//! Reading points (阅览点): the terminals of the archive (档案馆), the
//! library (图书馆) and the administrative approval service center
//! (行政审批服务中心) differ in who comes and what they look for. The
//! server operator describes each in a profiles file; a terminal started
//! with `/?kiosk=1&point=<tag>` shows the point's name and its start
//! categories, and its searches carry the tag into the query log (`point`).
//!
//! The profiles file is a JSON object from tag to profile:
//!
//! ```json
//! {"dag": {"name": "临河区档案馆", "categories": ["政府工作报告", "财政预决算"]}}
//! ```
//!
//! Tags are 1–32 characters of `a-z`, `0-9`, `-` and `_`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 32;

/// What a reading point's terminal shows at its start screen.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Shown at the top of the terminal, e.g. 临河区档案馆.
    pub name: String,
    /// 主题分类 values offered as one-tap buttons, in this order.
    #[serde(default)]
    pub categories: Vec<String>,
}

/// The profiles of a server's reading points, by tag.
#[derive(Debug, Clone, Default)]
pub struct Points(BTreeMap<String, Point>);

impl Points {
    /// Read the profiles file at `path`. Errors name the file and what is
    /// wrong with it (unreadable, not JSON of the shape above, a bad tag).
    pub fn from_file(path: &Path) -> Result<Points, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the profiles file {}: {e}", path.display()))?;
        Points::from_json(&text).map_err(|e| format!("profiles file {}: {e}", path.display()))
    }

    /// Profiles from the text of a profiles file.
    pub fn from_json(text: &str) -> Result<Points, String> {
        let points: BTreeMap<String, Point> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if let Some(bad) = points.keys().find(|tag| !is_tag(tag)) {
            return Err(format!("tag {bad:?} must be 1 to {MAX_TAG_CHARS} characters of a-z, 0-9, - and _"));
        }
        Ok(Points(points))
    }

    /// The profile tagged `tag`, with the tag as the server knows it.
    pub fn get(&self, tag: &str) -> Option<(&str, &Point)> {
        self.0.get_key_value(tag).map(|(tag, point)| (tag.as_str(), point))
    }
}

fn is_tag(tag: &str) -> bool {
    (1..=MAX_TAG_CHARS).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read_by_tag_and_bad_tags_refused() {
        let points = Points::from_json(r#"{"dag": {"name": "临河区档案馆", "categories": ["财政预决算"]}}"#).unwrap();
        let (tag, point) = points.get("dag").unwrap();
        assert_eq!((tag, point.name.as_str(), point.categories.as_slice()), ("dag", "临河区档案馆", &["财政预决算".to_string()][..]));
        assert!(points.get("tsg").is_none());
        assert!(Points::from_json(r#"{"Dag Hall": {"name": "x"}}"#).unwrap_err().contains("Dag Hall"));
        assert!(Points::from_json(r#"{"dag": {"name": "x", "colour": "red"}}"#).is_err());
    }
}
