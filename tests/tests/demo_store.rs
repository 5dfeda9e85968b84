//! `ordo demo` leaves its store for a person to open: the config file it prints opens the
//! store with every other command, the demo users exist with their roles, and the ledger the
//! demo posted ties out when read through that file.

use ordo_tests::ordo_bin;
use std::process::Command;

fn ordo(args: &[&str]) -> (bool, String) {
    let out = Command::new(ordo_bin())
        .args(args)
        // the repository root, where config/, workflows/ and rules/ are
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ordo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_demo_prints_a_config_that_opens_its_store_with_its_users() {
    let dir = std::env::temp_dir().join(format!("ordo-demo-store-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let (ok, out) = ordo(&["demo", "--orders", "30", "--dir", &dir_s]);
    assert!(ok, "{out}");
    let file = dir.join("ordo.yaml");
    let file_s = file.to_string_lossy().into_owned();
    assert!(
        out.contains(&format!("ordo --config {file_s} run")),
        "the demo prints how to open its store: {out}"
    );
    let (ok, users) = ordo(&["--config", &file_s, "users", "list"]);
    assert!(ok, "{users}");
    for (name, role) in [
        ("manager", "sales-manager"),
        ("finance", "finance"),
        ("viewer", "viewer"),
        ("admin", "admin"),
    ] {
        assert!(
            users
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()[..2] == [name, role]),
            "{name} ({role}) in {users}"
        );
    }
    let (ok, check) = ordo(&["--config", &file_s, "ledger", "check"]);
    assert!(ok && check.contains("ledger check: ok"), "{check}");
    let (ok, inst) = ordo(&["--config", &file_s, "instances"]);
    assert!(ok && inst.contains("completed"), "{inst}");
    let _ = std::fs::remove_dir_all(&dir);
}
