//! X12 purchase orders as a trading partner sends them, for tests that drop EDI files into
//! the repository's ACME partner folder (`config/partners/acme.yaml`).

/// `s` padded with spaces to `n` characters (the ISA's fixed-width elements).
pub fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// An X12 850 from ACMEBUYER, one line (2 × WID-100 at 12.50); `iea` is the IEA01 it states
/// (1 is right), `isa14` whether it asks for a TA1; `n1` the ship-to name.
pub fn x850(ctl: u32, po: &str, iea: u32, isa14: bool, n1: &str) -> String {
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*{}*P*>~\n\
         GS*PO*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n\
         ST*850*0001~\nBEG*00*SA*{po}**20261123~\nN1*ST*{n1}*92*DC01~\n\
         PO1*1*2*EA*12.50**VP*WID-100~\nCTT*1~\nSE*6*0001~\nGE*1*{ctl}~\nIEA*{iea}*{ctl:09}~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        u8::from(isa14),
        e = pad("", 10)
    )
}

/// Checks Acme's folders after `n` of its 850 files were taken: every file moved from the
/// inbound folder to the archive, none quarantined, and exactly one 997, 855, 856 and 810 per
/// file in the outbound folder, with control numbers 1..=4n, no gap and no repeat.
pub fn assert_acme_exchanged_once(p: &crate::Project, n: usize) {
    let listing = |dir: &str| crate::listing(p, dir);
    assert_eq!(
        listing("data/partners/acme/in"),
        Vec::<String>::new(),
        "every file moved"
    );
    assert_eq!(
        listing("data/partners/acme/quarantine"),
        Vec::<String>::new(),
        "no file quarantined"
    );
    assert_eq!(listing("data/partners/acme/archive").len(), n);
    let out = listing("data/partners/acme/out");
    let count = |kind: &str| {
        out.iter()
            .filter(|f| f.ends_with(&format!("-{kind}.edi")))
            .count()
    };
    assert_eq!(
        (count("997"), count("855"), count("856"), count("810")),
        (n, n, n, n),
        "{out:?}"
    );
    let mut controls: Vec<usize> = out
        .iter()
        .filter_map(|f| f.split('-').nth(1).and_then(|c| c.parse().ok()))
        .collect();
    controls.sort_unstable();
    assert_eq!(
        controls,
        (1..=4 * n).collect::<Vec<_>>(),
        "control numbers gapless and unique"
    );
}
