//! Every workspace crate is named in the root `Cargo.toml`'s test profile (`opt-level = 1`):
//! the profile optimizes dependencies at opt-level 2 by default and keeps proc macros at 0, so
//! a crate missing from the list would quietly build more slowly in every test run.

use std::path::Path;

/// The `name` of the `[package]` table of a manifest.
fn package_name(manifest: &str) -> Option<String> {
    let manifest = format!("\n{manifest}");
    let package = manifest.split("\n[").find(|t| t.starts_with("package]"))?;
    package.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The folders listed in the workspace's `members = [...]`.
fn members(root_manifest: &str) -> Vec<String> {
    let start = root_manifest.find("members = [").expect("a members list");
    let list = &root_manifest[start..];
    let list = &list[..list.find(']').expect("the list closes")];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_workspace_crate_has_its_test_profile_entry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = members(&manifest);
    assert!(members.len() >= 10, "members: {members:?}");
    let missing: Vec<String> = members
        .iter()
        .map(|m| {
            let text = std::fs::read_to_string(root.join(m).join("Cargo.toml")).unwrap();
            package_name(&text).unwrap_or_else(|| panic!("{m}/Cargo.toml has no package name"))
        })
        .filter(|name| {
            let table = format!("[profile.test.package.{name}]\nopt-level = 1\n");
            !manifest.contains(&table)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "add `[profile.test.package.NAME]\\nopt-level = 1` to Cargo.toml for {missing:?}"
    );
}

#[test]
fn the_manifest_readers_read() {
    assert_eq!(
        package_name("[package]\nname = \"x-y\"\nversion = \"1\"\n[dependencies]\nname = \"no\"\n"),
        Some("x-y".into())
    );
    assert_eq!(
        members("[workspace]\nmembers = [\n  \"a\",\n  \"b/c\",\n]\n"),
        ["a", "b/c"]
    );
}
