//! The citizen's verification page at `GET /verify` (docs/VERIFY.md): the one-file page built
//! from `verifier/web` (committed as `verifier/web/dist/verify.html`), with this network's
//! trust policy written into it, so that the page and a copy saved from it verify against the
//! validators' keys without asking any server what to trust.

use bansos_verifier::policy::TrustPolicy;

/// The built page.
const PAGE: &str = include_str!("../../verifier/web/dist/verify.html");
/// Where the page expects its trust policy (inside a `<script type="application/json">`).
pub const POLICY_PLACEHOLDER: &str = "__BANSOS_TRUST_POLICY__";

/// The page with `policy` in place, or as built (it then asks the user for a policy file).
pub fn render(policy: Option<&TrustPolicy>) -> String {
    with_policy(PAGE, "verify.html", policy)
}

/// A page built by `verifier/web` (`dist/<name>`) with `policy` written in place of its
/// placeholder, or as built; the dashboard (`crate::dashboard_page`) carries it the same way.
pub fn with_policy(page: &str, name: &str, policy: Option<&TrustPolicy>) -> String {
    assert!(
        page.contains(POLICY_PLACEHOLDER),
        "verifier/web/dist/{name} has no policy placeholder: rebuild it"
    );
    match policy {
        // `<` is escaped so no string in the policy can close the script element.
        Some(p) => page.replacen(
            POLICY_PLACEHOLDER,
            &serde_json::to_string(&p.file)
                .expect("a policy serializes")
                .replace('<', "\\u003c"),
            1,
        ),
        None => page.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_written_into_the_page_once() {
        let plain = render(None);
        assert!(plain.contains(POLICY_PLACEHOLDER));
        let key = bansos_verifier::note::SignerKey::new(
            "a",
            ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
        );
        let policy = TrustPolicy::parse(
            format!(
                r#"{{"format":"bansos-ledger/trust-policy@v1","network_name":"</script>",
                "network_id":"{}","origin":"o","quorum":1,"verifier_keys":["{}"]}}"#,
                "00".repeat(32),
                key.verifier_key()
            )
            .as_bytes(),
        )
        .unwrap();
        let page = render(Some(&policy));
        assert!(!page.contains(POLICY_PLACEHOLDER));
        assert!(page.contains(r#""network_name":"\u003c/script>""#));
        assert_eq!(
            page.matches("</script>").count(),
            plain.matches("</script>").count()
        );
    }
}
