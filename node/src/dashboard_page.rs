//! The public dashboard at `GET /` (docs/API.md): the one-file page built from `verifier/web`
//! (committed as `verifier/web/dist/dashboard.html`) with this network's trust policy written
//! in, exactly as `/verify` carries it ([`crate::verify_page`]). The page reads `/v1/stats` and
//! `/checkpoint` from the node that served it and verifies the checkpoint's signatures itself.

use bansos_verifier::policy::TrustPolicy;

/// The built page.
const PAGE: &str = include_str!("../../verifier/web/dist/dashboard.html");

/// The page with `policy` in place, or as built (it then shows the checkpoint as unverified).
pub fn render(policy: Option<&TrustPolicy>) -> String {
    crate::verify_page::with_policy(PAGE, "dashboard.html", policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify_page::POLICY_PLACEHOLDER;

    #[test]
    fn the_policy_is_written_into_the_dashboard_once() {
        let plain = render(None);
        assert!(plain.contains(POLICY_PLACEHOLDER));
        assert!(plain.contains(r#"<a id="verify-link" href="/verify""#));
        let key = bansos_verifier::note::SignerKey::new(
            "a",
            ed25519_dalek::SigningKey::from_bytes(&[1; 32]),
        );
        let policy = TrustPolicy::parse(
            format!(
                r#"{{"format":"bansos-ledger/trust-policy@v1","network_name":"<!-- x </script>",
                "network_id":"{}","origin":"o","quorum":1,"verifier_keys":["{}"]}}"#,
                "00".repeat(32),
                key.verifier_key()
            )
            .as_bytes(),
        )
        .unwrap();
        let page = render(Some(&policy));
        assert!(!page.contains(POLICY_PLACEHOLDER));
        assert!(page.contains(r#""network_name":"\u003c!-- x \u003c/script>""#));
        assert_eq!(
            page.matches("</script>").count(),
            plain.matches("</script>").count()
        );
    }
}
