//! QR codes for the reading view, so a citizen at a terminal can take a
//! document with them on their phone. Rendered as inline SVG: no image
//! request, sharp when printed.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An `<svg>` element (without XML declaration, ready to inline in HTML)
/// encoding `url`, labelled for screen readers with `label`; `None` when the
/// URL is too long for a QR code.
pub fn svg(url: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).ok()?;
    let image = code.render::<svg::Color>().min_dimensions(160, 160).quiet_zone(true).build();
    let element = &image[image.find("<svg")?..];
    let label = indexer::highlight::escape_html(label);
    Some(element.replacen("<svg ", &format!(r#"<svg class="qr-code" role="img" aria-label="{label}" "#), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_inline_svg_element_with_an_escaped_label() {
        let svg = svg("http://127.0.0.1:8080/documents/abc", "扫码<阅读>").unwrap();
        assert!(svg.starts_with("<svg class=\"qr-code\" role=\"img\" aria-label=\"扫码&lt;阅读&gt;\""), "{svg}");
        assert!(svg.ends_with("</svg>") && !svg.contains("<?xml"));
    }
}
