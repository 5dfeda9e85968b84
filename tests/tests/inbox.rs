//! The order inbox end to end (embedded): CSV and JSON order files and goods-receipt files
//! dropped into data/inbox are taken by `ordo run`; duplicates (same customer and PO) are
//! reported and not processed twice; a malformed file books nothing and is quarantined with a
//! located reason.

use ordo_tests::Project;

fn read(p: &Project, rel: &str) -> String {
    std::fs::read_to_string(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn order_and_receipt_files_are_taken_once() {
    let p = Project::embedded("inbox");
    p.ok(&["data", "import", "config/seed.json"]);
    // One order by `ordo submit` (CSV works there too).
    p.write(
        "first.csv",
        "customer_id,po_number,order_date,currency,sku,quantity,unit_price\nC-CORA,PO-1,2026-11-23,EUR,WID-100,2,12.50\n",
    );
    let out = p.ok(&["submit", "first.csv"]);
    assert!(out.contains("1 order(s) accepted"), "{out}");

    // A CSV with two orders (one of them two lines), one repeating PO-1; a JSON order without
    // an id; a CSV with a bad quantity.
    p.write(
        "data/inbox/batch.csv",
        "customer_id,po_number,order_date,currency,sku,quantity,unit_price\n\
         C-CORA,PO-2,2026-11-23,EUR,WID-100,4,\n\
         C-CORA,PO-2,2026-11-23,EUR,BOLT-M8,1,7.335\n\
         C-ACME,PO-3,2026-11-23,EUR,GAD-200,45,\n\
         C-CORA,PO-1,2026-11-23,EUR,WID-100,2,12.50\n",
    );
    p.write(
        "data/inbox/web.json",
        r#"{ "customer_id": "C-CORA", "po_number": "W-9", "order_date": "2026-11-23", "currency": "EUR", "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": 1 } ] }"#,
    );
    p.write(
        "data/inbox/bad.csv",
        "customer_id,po_number,currency,sku,quantity\nC-CORA,PO-8,EUR,WID-100,1\nC-CORA,PO-9,EUR,WID-100,lots\n",
    );
    p.run_idle();

    assert_eq!(p.state_of("C-CORA-PO-1"), "completed");
    assert_eq!(p.state_of("C-CORA-PO-2"), "completed");
    assert_eq!(
        p.state_of("C-CORA-W-9"),
        "completed",
        "id derived from customer and PO"
    );
    let po2 = p.json(&["status", "C-CORA-PO-2"]);
    assert_eq!(
        po2[0]["instance"]["data"]["order"]["lines"]
            .as_array()
            .map(|l| l.len()),
        Some(2),
        "{po2}"
    );
    // The batch went ahead; its duplicate line is reported, the file kept in quarantine.
    let reason = read(&p, "data/inbox/quarantine/batch.csv.reason.txt");
    assert!(
        reason.contains("(customer C-CORA, PO PO-1) was already submitted")
            && reason.contains("not processed twice"),
        "{reason}"
    );
    assert!(p.path("data/inbox/archive/web.json").exists());
    // The malformed file: located, nothing from it booked (PO-8 on its good line neither).
    let reason = read(&p, "data/inbox/quarantine/bad.csv.reason.txt");
    assert!(
        reason.contains("bad.csv:3:25: quantity 'lots' is not a number"),
        "{reason}"
    );
    assert!(!p.ordo(&["status", "C-CORA-PO-8"]).status.success());

    // Acme ships 40 gadgets now and waits for 5 from PO-000001; a receipt file brings them.
    assert_eq!(p.state_of("C-ACME-PO-3"), "waiting");
    p.write(
        "data/inbox/receipts/bad.csv",
        "po,sku,quantity\nPO-000001,GAD-200,5\nPO-999999,GAD-200,1\n",
    );
    p.run_idle();
    let reason = read(&p, "data/inbox/quarantine/bad.csv.reason.txt");
    let reason = if reason.contains("PO-999999") {
        reason
    } else {
        read(&p, "data/inbox/quarantine/2-bad.csv.reason.txt")
    };
    assert!(
        reason.contains("no purchase order 'PO-999999'")
            && reason.contains("nothing from the file was booked"),
        "{reason}"
    );
    assert_eq!(
        p.state_of("C-ACME-PO-3"),
        "waiting",
        "nothing booked from the bad file"
    );
    p.write(
        "data/inbox/receipts/r1.csv",
        "po,sku,quantity\nPO-000001,GAD-200,5\n",
    );
    p.run_idle();
    assert!(p.path("data/inbox/archive/r1.csv").exists());
    assert_eq!(
        p.state_of("C-ACME-PO-3"),
        "completed",
        "{}",
        p.ok(&["status", "C-ACME-PO-3"])
    );
}
