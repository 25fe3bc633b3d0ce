//! `bansos-client allocate` against a real 4-validator testnet: a registry export with invalid
//! NIKs and an in-file duplicate gives exactly the expected rejects; a person already allocated
//! in the same program and period (by another workstation's import) is refused by the
//! validators; an interrupted import resumes without allocating anyone twice.

use std::path::Path;
use std::process::{Command, Output};

use bansos_tests::{
    Testnet, binary, client, log_size, receipt_codes, wait_for, write_client_config,
};

fn write_config(net: &Testnet, path: &Path, store: &str) {
    write_client_config(net, path, store, "kemensos");
}

/// The line numbers and reasons of a rejects file.
fn rejects(path: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut it = l.splitn(3, ',');
            let line = it.next().unwrap().parse().unwrap();
            (line, it.next().unwrap().trim_matches('"').to_string())
        })
        .collect()
}

fn allocate(config: &Path, csv: &Path, wait: &str) -> Output {
    client(
        config,
        &[
            "allocate",
            "--program",
            "SEMBAKO",
            "--period",
            "2026-11",
            "--csv",
            csv.to_str().unwrap(),
            "--wait",
            wait,
        ],
    )
}

#[test]
fn registry_import_rejects_resumes_and_never_allocates_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::up(&tmp.path().join("net"), 18_600, 0);
    let url = net.urls()[0].clone();
    let config = tmp.path().join("client.toml");
    write_config(&net, &config, "receipts.jsonl");

    // Three good rows, two invalid NIKs, one repeat.
    let csv = tmp.path().join("registry.csv");
    std::fs::write(
        &csv,
        "nik,name,family_card,region_code,amount,channel\n\
         1101011203850001,Siti Aminah,1101010101010001,1101012001,,bri\n\
         1101015203850002,Ani Lestari,1101010101010002,1101012002,200000,pos\n\
         3171011203850003,Budi Santoso,3171010101010003,3171011001,,bri\n\
         9901011203850004,Nobody,1101010101010004,1101012001,,bri\n\
         1101011213850005,Wrong Month,1101010101010005,1101012001,,bri\n\
         1101011203850001,Siti Again,1101010101010001,1101012001,,bri\n",
    )
    .unwrap();
    let before = log_size(&url);
    let out = allocate(&config, &csv, "60");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r = rejects(&tmp.path().join("registry.csv.rejects.csv"));
    let lines: Vec<u64> = r.iter().map(|x| x.0).collect();
    assert_eq!(lines, vec![5, 6, 7], "{r:?}");
    assert!(r[0].1.contains("province"), "{r:?}");
    assert!(r[1].1.contains("birth date"), "{r:?}");
    assert!(r[2].1.contains("line 2"), "{r:?}");
    wait_for("the three allocations on every node", 30, || {
        net.urls().iter().all(|u| log_size(u) == before + 3)
    });
    // Nothing personal reached the log's public record or the client's output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("1101011203850001") && !stdout.contains("Siti"));
    let mode = std::fs::metadata(tmp.path().join("receipts.jsonl")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );

    // Another workstation (another receipts store) allocates Siti again in the same program and
    // period: the validators refuse it by the dedup tag; the new person is allocated.
    let config2 = tmp.path().join("client2.toml");
    write_config(&net, &config2, "receipts2.jsonl");
    let csv2 = tmp.path().join("second.csv");
    std::fs::write(
        &csv2,
        "nik,name,family_card,region_code,amount,channel\n\
         1101011203850001,Siti Aminah,1101010101010001,1101012001,,bri\n\
         1101011203850006,Dewi,1101010101010006,1101012001,,pos\n",
    )
    .unwrap();
    let out = allocate(&config2, &csv2, "60");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = rejects(&tmp.path().join("second.csv.rejects.csv"));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, 2);
    assert!(r[0].1.contains("refused by the validators"), "{r:?}");
    wait_for("the second import on every node", 30, || {
        net.urls().iter().all(|u| log_size(u) == before + 4)
    });

    // An import interrupted before the verdicts (--wait 0) is finished by running it again:
    // the same transactions are resubmitted, nobody is allocated twice.
    let csv3 = tmp.path().join("third.csv");
    let mut rows = String::from("nik,name,family_card,region_code,amount,channel\n");
    for i in 0..5 {
        rows.push_str(&format!(
            "11010112038510{i:02},Person {i},11010101010100{i:02},1101012001,,bri\n"
        ));
    }
    std::fs::write(&csv3, rows).unwrap();
    let first = allocate(&config, &csv3, "0");
    assert_eq!(
        first.status.code(),
        Some(3),
        "pending rows give exit code 3"
    );
    let again = allocate(&config, &csv3, "60");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let summary = String::from_utf8_lossy(&again.stdout);
    assert!(
        summary.contains("0 new, 5 from an earlier run") && summary.contains("5 committed"),
        "{summary}"
    );
    wait_for("exactly five more entries", 30, || {
        net.urls().iter().all(|u| log_size(u) == before + 9)
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(log_size(&url), before + 9, "no allocation was made twice");

    // The status command shows a committed allocation.
    let store = std::fs::read_to_string(tmp.path().join("receipts.jsonl")).unwrap();
    let first_record: serde_json::Value =
        serde_json::from_str(store.lines().next().unwrap()).unwrap();
    let id = first_record["allocation"].as_str().unwrap();
    let out = client(&config, &["status", id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"status\": \"open\""));

    // Receipt codes of the committed allocations, for the letters.
    let codes_file = tmp.path().join("codes.txt");
    let receipts = receipt_codes(&config, "SEMBAKO", "2026-11", &codes_file);
    let codes: Vec<String> = receipts.iter().map(|(_, code)| code.clone()).collect();
    assert_eq!(codes.len(), 8, "Siti, Ani, Budi and five more");

    // BRI pays Siti at a teller; a second claim is refused before anything is signed; BRI
    // cannot pay Ani, whose payer is PT Pos.
    let bri = tmp.path().join("bri.toml");
    write_client_config(&net, &bri, "bri.jsonl", "bri");
    let claim = |code: &str, extra: &[&str]| {
        let mut args = vec![
            "claim",
            "--receipt",
            code,
            "--channel",
            "BANK_TELLER",
            "--outlet",
            "BRI Bakongan teller 2",
        ];
        args.extend_from_slice(extra);
        client(&bri, &args)
    };
    let out = claim(&codes[0], &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("claim committed"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = claim(&codes[0], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already claimed"));
    let out = claim(&codes[1], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another member"));
    let mut typo = codes[2].clone().into_bytes();
    typo[5] = if typo[5] == b'A' { b'B' } else { b'A' };
    let out = claim(&String::from_utf8(typo).unwrap(), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("receipt code is not valid"));

    // Letters: one HTML letter and one QR image per recipient; the QR reads back to the same
    // receipt, and a claim by scanning it is paid once.
    let letters = tmp.path().join("letters");
    let out = client(
        &config,
        &[
            "letters",
            "--program",
            "SEMBAKO",
            "--period",
            "2026-11",
            "--out",
            letters.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = receipts.iter().map(|(id, _)| id.clone()).collect();
    for (id, code) in ids.iter().zip(&codes) {
        let png = std::fs::read(letters.join(format!("{id}.png"))).unwrap();
        assert_eq!(&bansos_client::qr::decode_png(&png).unwrap(), code);
        let html = std::fs::read_to_string(letters.join(format!("{id}.html"))).unwrap();
        assert!(html.contains(&code[..5]) && html.contains("Rp 200.000"));
        let pdf = std::fs::read(letters.join(format!("{id}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
    }
    let budi_qr = letters.join(format!("{}.png", ids[2]));
    let by_qr = |bri: &Path| {
        client(
            bri,
            &[
                "claim",
                "--qr",
                budi_qr.to_str().unwrap(),
                "--channel",
                "KKS",
                "--outlet",
                "BRI Gambir",
            ],
        )
    };
    let out = by_qr(&bri);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("claim committed"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = by_qr(&bri);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already claimed"));

    // An offline proof for a receipt, verified with nothing but the validators' keys.
    let bundle = tmp.path().join("siti.tlog-proof");
    let out = client(
        &config,
        &["proof", &codes[0], "--out", bundle.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified = Command::new(binary("bansos-verify"))
        .args([
            "proof",
            bundle.to_str().unwrap(),
            "--quorum",
            "3",
            "--keys-file",
        ])
        .arg(net.dir.join("vkeys.txt"))
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );

    // An offline outlet queues two claims; one of them is paid online elsewhere first: sync
    // commits the other and reports the conflict.
    let offline = ["--offline", "--amount", "200000", "--region", "1101"];
    assert!(claim(&codes[3], &offline).status.success());
    assert!(claim(&codes[4], &offline).status.success());
    let elsewhere = client(
        &bri,
        &[
            "claim",
            "--receipt",
            &codes[3],
            "--channel",
            "AGENT",
            "--outlet",
            "BRI agent in another village",
        ],
    );
    assert!(
        elsewhere.status.success(),
        "{}",
        String::from_utf8_lossy(&elsewhere.stderr)
    );
    let out = client(&bri, &["sync"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("2 queued claims synced, 1 refused"), "{text}");
    assert!(text.contains("committed at leaf"), "{text}");
    assert!(text.contains("refused"), "{text}");

    // A program registered on the log (not in genesis) can be allocated from at once.
    let out = client(
        &config,
        &[
            "program",
            "register",
            "--code",
            "BLT_DD",
            "--name",
            "BLT Dana Desa",
            "--period-kind",
            "monthly",
            "--amount",
            "300000",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("registered at leaf"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let csv4 = tmp.path().join("blt.csv");
    std::fs::write(
        &csv4,
        "nik,name,family_card,region_code,amount,channel\n\
         1101011203850001,Siti Aminah,1101010101010001,1101012001,,bri\n\
         3171991203850009,Rina,3171010101010009,3171011001,,bri\n",
    )
    .unwrap();
    let out = client(
        &config,
        &[
            "allocate",
            "--program",
            "BLT_DD",
            "--period",
            "2026-11",
            "--csv",
            csv4.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 committed"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A kecamatan unknown today (regions split) is a warning, not a refusal.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning, line 3: the NIK's kecamatan"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
