//! Reading the receipt's QR code from a scanned or photographed PNG (feature `qr-image`): bytes
//! in, text out, no I/O. The operator client (at the outlet) and `bansos-verify receipt --qr`
//! (at home) both read receipts with it.

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
    fn garbage_and_blank_images_are_refused() {
        assert!(matches!(decode_png(b"not a png"), Err(QrError::Png(_))));
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
