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
