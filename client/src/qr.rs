//! QR codes of receipts: drawn as PNG for letters, and read back from a scanned or
//! photographed PNG at the outlet. A receipt's text (Crockford base32 and a check character)
//! fits the QR alphanumeric mode.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code (the QR standard's quiet zone).
const QUIET: usize = 4;
pub use bansos_verifier::qr_image::{QrError, decode_png};

/// The QR code of `text` (medium error correction) as a square of modules, quiet zone included:
/// (side, one byte a module, 0 dark and 255 light, row by row from the top).
pub fn modules(text: &str) -> (usize, Vec<u8>) {
    let code =
        QrCode::with_error_correction_level(text, EcLevel::M).expect("a receipt fits a QR code");
    let w = code.width();
    let side = w + 2 * QUIET;
    let colors = code.to_colors();
    let mut m = vec![255u8; side * side];
    for y in 0..w {
        for x in 0..w {
            if colors[y * w + x] == Color::Dark {
                m[(y + QUIET) * side + x + QUIET] = 0;
            }
        }
    }
    (side, m)
}

/// A PNG (8-bit greyscale) of `text` as a QR code, `scale` pixels a module.
pub fn png(text: &str, scale: usize) -> Vec<u8> {
    let (side, m) = modules(text);
    let px = side * scale;
    let mut pixels = Vec::with_capacity(px * px);
    for row in m.chunks(side) {
        let line: Vec<u8> = row
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, scale))
            .collect();
        for _ in 0..scale {
            pixels.extend_from_slice(&line);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, px as u32, px as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("writing to memory");
        writer.write_image_data(&pixels).expect("writing to memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_code_reads_back() {
        let text = "ABCDEFGHJKMNPQRSTVWXYZ0123456789".repeat(4);
        let image = png(&text, 4);
        assert_eq!(decode_png(&image).unwrap(), text);
    }
}
