//! Writes a sample invitation letter (PDF, HTML and QR PNG) for a synthetic recipient, to look at
//! the layout: `cargo run -p bansos-client --example sample_letter -- <out dir>`.

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    let code = "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTV";
    let letter = bansos_client::letters::Letter {
        name: "Siti Aminah (contoh, bukan orang sungguhan)",
        program: "Program Sembako (BPNT)",
        period: "2026-11",
        amount: 200_000,
        payer: "PT Pos Indonesia",
        expires_at: 1_803_772_800,
        code,
        verify_url: "https://ledger.bansos.example/verify",
    };
    let (side, modules) = bansos_client::qr::modules(code);
    std::fs::write(
        dir.join("letter.pdf"),
        bansos_client::pdf::letter(&letter, (side, &modules)),
    )?;
    let png = bansos_client::qr::png(code, 6);
    std::fs::write(
        dir.join("letter.html"),
        bansos_client::letters::html(&letter, &png),
    )?;
    std::fs::write(dir.join("qr.png"), png)
}
