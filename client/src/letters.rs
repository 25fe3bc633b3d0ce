//! Invitation letters in Bahasa Indonesia: one printable HTML page per recipient with the QR
//! receipt, the typed code, the amount, program, period, where to collect and how to check it.

/// What one letter says.
pub struct Letter<'a> {
    /// The recipient's name.
    pub name: &'a str,
    /// Program name, e.g. "Program Sembako (BPNT)".
    pub program: &'a str,
    /// Period, e.g. 2026-11.
    pub period: &'a str,
    /// Rupiah.
    pub amount: u64,
    /// Who pays out, e.g. "PT Pos Indonesia".
    pub payer: &'a str,
    /// Last day to collect, unix seconds.
    pub expires_at: u64,
    /// The receipt as typed text.
    pub code: &'a str,
    /// Where citizens check (a validator's /verify page).
    pub verify_url: &'a str,
}

impl Letter<'_> {
    /// A letter to a synthetic recipient with this name, for tests and layout checks.
    pub fn sample(name: &str) -> Letter<'_> {
        Letter {
            name,
            program: "Program Sembako",
            period: "2026-11",
            amount: 200_000,
            payer: "PT Pos Indonesia",
            expires_at: 1_803_772_800,
            code: "ABCDE12345",
            verify_url: "https://ledger.example/verify",
        }
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Rupiah with dots between thousands: 1.250.000.
pub fn rupiah(n: u64) -> String {
    bansos_verifier::entry::Rupiah(n).dotted()
}

/// A unix time as an Indonesian date, e.g. "28 Mei 2027" (UTC).
pub fn tanggal(unix: u64) -> String {
    use bansos_verifier::time::{MONTHS_ID, Utc};
    let t = Utc::from_unix(unix);
    format!("{} {} {}", t.day, MONTHS_ID[(t.month - 1) as usize], t.year)
}

/// The typed code in groups of five, easier to read aloud and type.
pub fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The letter as a printable HTML page; `qr_png` is embedded.
pub fn html(l: &Letter<'_>, qr_png: &[u8]) -> String {
    use base64::Engine as _;
    let qr = base64::engine::general_purpose::STANDARD.encode(qr_png);
    format!(
        r#"<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Surat Undangan Penerima Bantuan Sosial</title>
<style>
body {{ font-family: sans-serif; font-size: 14pt; max-width: 48em; margin: 2em auto; line-height: 1.5; }}
h1 {{ font-size: 18pt; }} .qr {{ width: 7cm; height: 7cm; image-rendering: pixelated; }}
.code {{ font-family: monospace; font-size: 13pt; word-break: break-all; background: #f4f4f4; padding: .5em; }}
.box {{ border: 2px solid #000; padding: 1em; margin: 1em 0; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>SURAT UNDANGAN PENERIMA BANTUAN SOSIAL</h1>
<p>Kepada Yth. <strong>{name}</strong></p>
<p>Anda terdaftar sebagai penerima <strong>{program}</strong> periode <strong>{period}</strong>
sebesar <strong>Rp {amount}</strong>.</p>
<div class="box">
<p>Ambil bantuan Anda di <strong>{payer}</strong> paling lambat <strong>{expires}</strong>.
Bawa surat ini dan KTP Anda. Petugas akan memindai kode QR di bawah ini.</p>
<p><img class="qr" alt="Kode QR bukti penerimaan" src="data:image/png;base64,{qr}"></p>
<p>Jika kode QR tidak terbaca, petugas dapat mengetik kode ini:</p>
<p class="code">{code}</p>
</div>
<h2>Periksa sendiri</h2>
<p>Anda dapat memeriksa bahwa bantuan Anda tercatat, dan kapan serta oleh siapa bantuan itu
dibayarkan: buka <strong>{verify}</strong>, pindai kode QR ini atau ketik kodenya, lalu ketik NIK
Anda. NIK Anda tetap di perangkat Anda dan tidak dikirim ke mana pun.</p>
<p><strong>Jangan berikan kode ini kepada siapa pun selain petugas penyalur.</strong>
Bantuan ini gratis: tidak ada biaya apa pun untuk mengambilnya.</p>
</body></html>
"#,
        name = escape(l.name),
        program = escape(l.program),
        period = escape(l.period),
        amount = rupiah(l.amount),
        payer = escape(l.payer),
        expires = tanggal(l.expires_at),
        code = escape(&grouped(l.code)),
        verify = escape(l.verify_url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(rupiah(200_000), "200.000");
        assert_eq!(rupiah(1_250_000), "1.250.000");
        assert_eq!(rupiah(999), "999");
        assert_eq!(tanggal(0), "1 Januari 1970");
        assert_eq!(tanggal(1_803_772_800), "28 Februari 2027");
        assert_eq!(grouped("ABCDEFGHIJK"), "ABCDE FGHIJ K");
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn a_letter_carries_everything_and_escapes_names() {
        let l = Letter::sample("Siti <Aminah>");
        let page = html(&l, b"png");
        assert!(page.contains("Siti &lt;Aminah&gt;"));
        assert!(page.contains("Rp 200.000"));
        assert!(page.contains("28 Februari 2027"));
        assert!(page.contains("ABCDE 12345"));
        assert!(page.contains("PT Pos Indonesia"));
        assert!(page.contains("data:image/png;base64,cG5n"));
    }
}
