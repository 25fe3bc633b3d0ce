//! QR codes of receipts: drawn as PNG for letters, and read back from a scanned or
//! photographed PNG at the outlet. A receipt's text (Crockford base32 and a check character)
//! fits the QR alphanumeric mode.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code (the QR standard's quiet zone).
const QUIET: usize = 4;
/// Largest image accepted for decoding, in pixels per side.
const DECODE_SIDE_MAX: u32 = 8000;

/// Why a QR image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// Not a PNG (or damaged).
    #[error("the image is not a readable PNG: {0}")]
    Png(String),
    /// Too large.
    #[error("the image is larger than {DECODE_SIDE_MAX} pixels on a side")]
    TooLarge,
    /// No QR code found.
    #[error("no QR code was found in the image; scan it again, flat and in focus")]
    NotFound,
    /// A QR code that does not decode.
    #[error("the QR code could not be read: {0}")]
    Decode(String),
}

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

/// Reads the first QR code in a PNG image.
pub fn decode_png(bytes: &[u8]) -> Result<String, QrError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| QrError::Png(e.to_string()))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w > DECODE_SIDE_MAX || h > DECODE_SIDE_MAX {
        return Err(QrError::TooLarge);
    }
    let mut buf = vec![0u8; reader.output_buffer_size().ok_or(QrError::TooLarge)?];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| QrError::Png(e.to_string()))?;
    let channels = info.color_type.samples();
    let stride = info.line_size;
    let luma = |x: usize, y: usize| -> u8 {
        let p = &buf[y * stride + x * channels..];
        match channels {
            1 | 2 => p[0],
            _ => {
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                    as u8
            }
        }
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(
        info.width as usize,
        info.height as usize,
        luma,
    );
    let grids = img.detect_grids();
    let grid = grids.first().ok_or(QrError::NotFound)?;
    let (_, text) = grid.decode().map_err(|e| QrError::Decode(e.to_string()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_code_reads_back_and_garbage_is_refused() {
        let text = "ABCDEFGHJKMNPQRSTVWXYZ0123456789".repeat(4);
        let image = png(&text, 4);
        assert_eq!(decode_png(&image).unwrap(), text);
        assert!(matches!(decode_png(b"not a png"), Err(QrError::Png(_))));
        // A blank image has no code.
        let mut blank = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut blank, 50, 50);
            enc.set_color(png::ColorType::Grayscale);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&[255u8; 2500]).unwrap();
        }
        assert!(matches!(decode_png(&blank), Err(QrError::NotFound)));
    }
}
