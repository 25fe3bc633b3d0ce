//! The invitation letter as a one-page A4 PDF (PDF 1.4, the standard Helvetica fonts, the QR code
//! as a greyscale image), written by hand: a letter needs text lines and one image, nothing a
//! PDF library would add.

use crate::letters::{Letter, grouped, rupiah, tanggal};

/// Characters a standard PDF font can show (Latin-1), with PDF string escapes.
fn pdf_text(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let b = if (c as u32) < 256 {
            c as u32 as u8
        } else {
            b'?'
        };
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Splits a paragraph into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The letter as PDF bytes; `qr` is the code's module matrix (side, one byte a module: 0 dark,
/// 255 light, quiet zone included).
pub fn letter(l: &Letter<'_>, qr: (usize, &[u8])) -> Vec<u8> {
    // Page content: text from the top, the QR image on the right.
    let mut content: Vec<u8> = Vec::new();
    let mut y = 790;
    let line = |content: &mut Vec<u8>, font: &str, size: u32, text: &str, y: &mut i32| {
        content.extend_from_slice(format!("BT /{font} {size} Tf 56 {y} Td (").as_bytes());
        content.extend_from_slice(&pdf_text(text));
        content.extend_from_slice(b") Tj ET\n");
        *y -= size as i32 + 6;
    };
    line(
        &mut content,
        "F2",
        15,
        "SURAT UNDANGAN PENERIMA BANTUAN SOSIAL",
        &mut y,
    );
    y -= 10;
    line(
        &mut content,
        "F1",
        12,
        &format!("Kepada Yth. {}", l.name),
        &mut y,
    );
    y -= 6;
    let paragraphs = [
        format!(
            "Anda terdaftar sebagai penerima {} periode {} sebesar Rp {}.",
            l.program,
            l.period,
            rupiah(l.amount)
        ),
        format!(
            "Ambil bantuan Anda di {} paling lambat {}. Bawa surat ini dan KTP Anda. Petugas akan memindai kode QR.",
            l.payer,
            tanggal(l.expires_at)
        ),
    ];
    for p in &paragraphs {
        for w in wrap(p, 60) {
            line(&mut content, "F1", 12, &w, &mut y);
        }
        y -= 6;
    }
    line(
        &mut content,
        "F2",
        12,
        "Kode bukti (jika QR tidak terbaca):",
        &mut y,
    );
    for w in wrap(&grouped(l.code), 60) {
        line(&mut content, "F1", 11, &w, &mut y);
    }
    y -= 6;
    let check = format!(
        "Periksa sendiri: buka {}, pindai kode QR atau ketik kodenya, lalu ketik NIK Anda. NIK Anda tetap di perangkat Anda dan tidak dikirim ke mana pun.",
        l.verify_url
    );
    for w in wrap(&check, 80) {
        line(&mut content, "F1", 10, &w, &mut y);
    }
    y -= 4;
    line(
        &mut content,
        "F2",
        10,
        "Jangan berikan kode ini kepada siapa pun selain petugas penyalur. Bantuan ini gratis.",
        &mut y,
    );
    // The QR: a 7 cm square below the text.
    let side_pt = 198;
    content.extend_from_slice(
        format!(
            "q {side_pt} 0 0 {side_pt} 56 {} cm /Im1 Do Q\n",
            y - 20 - side_pt
        )
        .as_bytes(),
    );

    let (side, pixels) = qr;
    let image_head = format!(
        "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Interpolate false /Length {} >>\nstream\n",
        pixels.len()
    );
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 7 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
        [image_head.as_bytes(), pixels, b"\nendstream"].concat(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(),
            &content,
            b"\nendstream",
        ]
        .concat(),
    ];
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let l = Letter::sample("Siti (Aminah) \\ Ülker 李");
        let (side, modules) = crate::qr::modules("ABCDE12345");
        let pdf = letter(&l, (side, &modules));
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("200.000") && text.contains("Februari"));
        assert!(
            text.contains("Siti \\(Aminah\\) \\\\"),
            "parentheses are escaped"
        );
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref"));
        let table = String::from_utf8_lossy(&pdf[startxref..]);
        for (i, entry) in table.lines().skip(3).take(7).enumerate() {
            let offset: usize = entry[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
    }

    #[test]
    fn long_text_wraps_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
