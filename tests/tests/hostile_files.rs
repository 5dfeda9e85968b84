//! Hostile files and folders (issue 20, points 5-9 and the EDI part of 14), end to end through
//! the built binary: partner and bank folders outside the data root are refused by `ordo
//! check` and never touched by `ordo run`; an interchange with an envelope error books nothing
//! and its TA1/CONTRL says so, located at the real line and column; two `ordo run` on the
//! cluster backend take each file exactly once, and a second one on an embedded store is
//! refused; oversized files are quarantined unread and a huge segment gets a short reason.

use ordo_tests::x12::x850;
use ordo_tests::{Project, Running, listing, wait_until};

fn setup(p: &Project) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["config/partners/acme.yaml", "config/partners/cora.yaml"] {
        let text = std::fs::read_to_string(repo.join(f)).expect("repo config");
        p.write(f, &text);
    }
    p.ok(&["data", "import", "config/seed.json"]);
}

fn read(p: &Project, rel: &str) -> String {
    std::fs::read_to_string(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn instances(p: &Project) -> usize {
    p.json(&["instances"])["instances"]
        .as_array()
        .map_or(0, Vec::len)
}

const ACME: &str = "partner: acme\ncustomer: C-ACME\nversion: \"4010\"\ntheir_id: { qualifier: ZZ, id: ACMEBUYER }\nour_id: { qualifier: ZZ, id: ORDOSELLER }\nacknowledgment: \"997\"\n";

/// Point 5: a partner folder at `/etc`, at `../..`, or behind a symbolic link that leaves the
/// data root: `ordo check` refuses it at the key's line and column, and `ordo run` moves
/// nothing out of there.
#[test]
fn partner_folders_outside_the_data_root_are_refused() {
    let p = Project::embedded("hostile-folders");
    setup(&p);
    // a folder outside the project with a file that must stay where it is
    let outside = p.dir.with_file_name(format!(
        "{}-outside",
        p.dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious.edi"), x850(9, "PO-X", 1, false, "X")).unwrap();
    let rel_outside = format!("../{}", outside.file_name().unwrap().to_string_lossy());
    std::fs::remove_file(p.path("config/partners/cora.yaml")).unwrap();

    for (inbound, what) in [
        ("/etc".to_string(), "outside the data root"),
        (rel_outside.clone(), "outside the data root"),
        ("data/../..".to_string(), "outside the data root"),
    ] {
        p.write(
            "config/partners/acme.yaml",
            &format!("{ACME}inbound: {inbound}\n"),
        );
        let (_, err) = p.expect_code(1, &["check"]);
        assert!(
            err.contains("config/partners/acme.yaml:7:1: inbound") && err.contains(what),
            "{inbound}: {err}"
        );
    }

    // a symbolic link inside the data root that leads out of it
    std::fs::create_dir_all(p.path("data/partners/acme")).unwrap();
    std::os::unix::fs::symlink(&outside, p.path("data/partners/acme/in")).unwrap();
    p.write(
        "config/partners/acme.yaml",
        &format!("{ACME}inbound: data/partners/acme/in\n"),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains("config/partners/acme.yaml:7:1: inbound") && err.contains("symbolic link"),
        "{err}"
    );
    // the default folder is that same link: refused too, and nothing is taken from it
    p.write("config/partners/acme.yaml", ACME);
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(err.contains("symbolic link"), "{err}");
    p.run_idle();
    assert_eq!(
        std::fs::read_dir(&outside)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        ["precious.edi"],
        "nothing taken from or written to the folder outside"
    );
    assert_eq!(instances(&p), 0);

    // the main config's inbox too; an allow-list makes an outside folder legal
    let cfg = read(&p, "config/ordo.yaml");
    p.write("config/ordo.yaml", &format!("{cfg}inbox: /etc\n"));
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains("config/ordo.yaml:5:1: inbox: folder '/etc' is outside the data root"),
        "{err}"
    );
    p.write(
        "config/ordo.yaml",
        &format!("{cfg}allowed_folders: [{}]\n", outside.display()),
    );
    std::fs::remove_file(p.path("data/partners/acme/in")).unwrap();
    p.write(
        "config/partners/acme.yaml",
        &format!("{ACME}inbound: {}\n", outside.display()),
    );
    p.ok(&["check"]);
    let _ = std::fs::remove_dir_all(&outside);
}

/// Points 6 and 14: an X12 interchange whose IEA01 is wrong and an EDIFACT one whose UNZ
/// count is wrong book no order; the files are quarantined with the reason located where the
/// error is; the TA1 (asked for by ISA14) and the CONTRL reject the interchange.
#[test]
fn an_interchange_with_an_envelope_error_books_nothing() {
    let p = Project::embedded("hostile-envelope");
    setup(&p);
    p.write(
        "data/partners/acme/in/po-bad.edi",
        &x850(61, "PO-61", 2, true, "ACME DC"),
    );
    p.write(
        "data/partners/cora/in/orders-bad.edi",
        "UNA:+.? 'UNB+UNOC:3+3014531200003:14+4012345000009:14+261123:1200+78'\nUNH+1+ORDERS:D:96A:UN'\nBGM+220+PO-89+9'\nDTM+137:20261123:102'\nNAD+BY+3014531200003::9'\nLIN+1++WID-100:SA'\nQTY+21:5'\nUNS+S'\nUNT+8+1'\nUNZ+3+78'\n",
    );
    p.run_idle();
    assert_eq!(instances(&p), 0, "no order from a rejected interchange");
    assert_eq!(
        listing(&p, "data/partners/acme/archive"),
        Vec::<String>::new()
    );

    let reason = read(&p, "data/partners/acme/quarantine/po-bad.edi.reason.txt");
    // IEA01 is line 10, column 5 (not the interchange's 1:1)
    assert!(
        reason.contains("po-bad.edi:10:5: interchange 000000061")
            && reason.contains("GroupCountWrong"),
        "{reason}"
    );
    assert!(reason.contains("rejected whole"), "{reason}");
    assert_eq!(
        listing(&p, "data/partners/acme/out"),
        ["acme-000000001-ta1.edi", "acme-000000002-997.edi"]
    );
    let ta1 = read(&p, "data/partners/acme/out/acme-000000001-ta1.edi");
    assert!(ta1.contains("TA1*000000061*261123*1200*R*021~"), "{ta1}");
    let ack = read(&p, "data/partners/acme/out/acme-000000002-997.edi");
    assert!(ack.contains("AK9*R*1*1*0"), "{ack}");

    let reason = read(
        &p,
        "data/partners/cora/quarantine/orders-bad.edi.reason.txt",
    );
    assert!(
        reason.contains("orders-bad.edi:10:5: interchange 78") && reason.contains("rejected whole"),
        "{reason}"
    );
    let out = listing(&p, "data/partners/cora/out");
    assert_eq!(out, ["cora-000000001-contrl.edi"]);
    let contrl = read(&p, &format!("data/partners/cora/out/{}", out[0]));
    assert!(
        contrl.contains("UCI+78+3014531200003:14+4012345000009:14+4+29+UNZ+1'"),
        "{contrl}"
    );

    // corrected and sent again under the same control number: taken
    p.write(
        "data/partners/acme/in/po-fixed.edi",
        &x850(61, "PO-61", 1, false, "ACME DC"),
    );
    p.run_idle();
    assert_eq!(p.state_of("C-ACME-PO-61"), "completed");
}

/// Point 8: a file over `limits.max_edi_file_bytes` (and a statement over
/// `max_statement_bytes`) is quarantined unread; a 2 MB segment yields a short reason.
#[test]
fn oversized_files_and_segments_get_short_reasons() {
    let p = Project::embedded("hostile-sizes");
    setup(&p);
    let cfg = read(&p, "config/ordo.yaml");
    p.write(
        "config/ordo.yaml",
        &format!(
            "{cfg}limits: {{ max_edi_file_bytes: 3000000, max_statement_bytes: 1000, max_excerpt_chars: 40 }}\n"
        ),
    );
    let huge = "N".repeat(2 << 20);
    p.write(
        "data/partners/acme/in/huge-segment.edi",
        &x850(71, "PO-71", 1, false, &huge),
    );
    p.write(
        "data/partners/acme/in/too-big.edi",
        &x850(72, "PO-72", 1, false, &"M".repeat(3 << 20)),
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    p.write(
        "config/banks/main-eur.yaml",
        &std::fs::read_to_string(repo.join("config/banks/main-eur.yaml")).unwrap(),
    );
    p.write("data/bank/main-eur/inbox/big.xml", &"x".repeat(5000));
    p.run_idle();
    assert_eq!(instances(&p), 0);

    let reason = read(
        &p,
        "data/partners/acme/quarantine/huge-segment.edi.reason.txt",
    );
    assert!(
        reason.len() < 2_000,
        "{} bytes: {}",
        reason.len(),
        reason.chars().take(500).collect::<String>()
    );
    // The reader refuses a segment over its 1 MiB bound before any element is looked at
    // (the streaming reader's limit, issue 19 point 7), located at the segment.
    assert!(
        reason.contains("huge-segment.edi:5:1:") && reason.contains("segment longer than 1048576"),
        "{reason}"
    );
    let reason = read(&p, "data/partners/acme/quarantine/too-big.edi.reason.txt");
    assert!(
        reason.contains("over limits.max_edi_file_bytes (3000000 bytes): not read"),
        "{reason}"
    );
    assert!(
        listing(&p, "data/partners/acme/out")
            .iter()
            .all(|f| !f.contains("-ta1"))
    );
    let reason = read(&p, "data/bank/main-eur/quarantine/big.xml.reason.txt");
    assert!(
        reason.contains("5000 bytes, over limits.max_statement_bytes (1000 bytes): not read"),
        "{reason}"
    );
}

/// Point 7: a second `ordo run` on the same embedded store is refused, naming the first.
#[test]
fn a_second_embedded_run_is_refused() {
    let p = Project::embedded("hostile-lock");
    setup(&p);
    let first = Running(p.spawn_run(&[]));
    let pid = first.0.id().to_string();
    wait_until(60, "the first run holds the lock", || {
        std::fs::read_to_string(p.path("data/ordo.db.lock")).is_ok_and(|s| s.trim() == pid)
    });
    let (_, err) = p.expect_code(1, &["run", "--exit-when-idle"]);
    assert!(
        err.contains("data/ordo.db.lock: another `ordo run` (pid ")
            && err.contains(&format!("(pid {pid})")),
        "{err}"
    );
    drop(first);
    // once it has stopped, a run starts again
    p.run_idle();
}

/// Point 7: two `ordo run` on the cluster backend and 100 interchanges dropped while they
/// run: each is acknowledged exactly once and none is quarantined as a duplicate.
#[test]
fn two_cluster_runs_take_each_file_once() {
    let Some(p) = Project::cluster("hostile-claims") else {
        return;
    };
    setup(&p);
    let runs = [Running(p.spawn_run(&[])), Running(p.spawn_run(&[]))];
    const N: u32 = 100;
    for n in 1..=N {
        let name = format!("data/partners/acme/in/po-{n:03}.edi");
        p.write(
            &format!("{name}.tmp"),
            &x850(2000 + n, &format!("C-{n}"), 1, false, "ACME DC"),
        );
        std::fs::rename(p.path(&format!("{name}.tmp")), p.path(&name)).unwrap();
    }
    wait_until(180, "every file archived or quarantined", || {
        listing(&p, "data/partners/acme/archive").len()
            + listing(&p, "data/partners/acme/quarantine").len()
            >= N as usize
    });
    wait_until(60, "every acknowledgment written", || {
        listing(&p, "data/partners/acme/out")
            .iter()
            .filter(|f| f.ends_with("-997.edi"))
            .count()
            >= N as usize
    });
    drop(runs);
    assert_eq!(
        listing(&p, "data/partners/acme/quarantine"),
        Vec::<String>::new(),
        "no good file quarantined"
    );
    assert_eq!(listing(&p, "data/partners/acme/archive").len(), N as usize);
    // each interchange acknowledged exactly once: the groups the 997s acknowledge
    let mut acked: Vec<u32> = listing(&p, "data/partners/acme/out")
        .iter()
        .filter(|f| f.ends_with("-997.edi"))
        .map(|f| {
            let text = read(&p, &format!("data/partners/acme/out/{f}"));
            let ak1 = text
                .split('~')
                .find_map(|s| s.trim().strip_prefix("AK1*PO*"))
                .unwrap_or_else(|| panic!("{f}: no AK1: {text}"));
            ak1.parse().unwrap()
        })
        .collect();
    acked.sort_unstable();
    assert_eq!(acked, (2001..=2000 + N).collect::<Vec<_>>());
}
