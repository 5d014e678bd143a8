//! The web UI's files, embedded in the binary at build time: no path from a
//! request ever reaches the file system, and the binary runs from anywhere.

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset { name: $name, content_type: $type, body: include_str!(concat!("../../static/", $name)) }
    };
}

/// The search page, served at `/`.
pub const INDEX_HTML: &str = include_str!("../../static/index.html");

/// Files served under `/static/`.
const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("reading.js", "text/javascript; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
];

/// The embedded file called `name`, if there is one.
pub fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}
