//! Workload generator for benchmarks and streaming tests: valid X12 850 and EDIFACT ORDERS
//! interchanges, one interchange at a time, so a caller can write a file of any size without
//! holding it (`ordo edi bench` writes hundreds of MB to a temporary file this way).
//!
//! Every interchange holds 100 orders of 20 lines and validates with no issue. The EDIFACT
//! messages carry release characters (`?+`, `?:`, `?'`, `??`) in free text, the case the
//! EDIFACT tokenizer has to handle on its hot path.

use std::fmt::Write as _;

/// Orders per interchange.
pub const ORDERS_PER_INTERCHANGE: u32 = 100;
/// Lines per order.
pub const LINES_PER_ORDER: u32 = 20;

/// Which standard to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// X12 004010 850s.
    X12,
    /// UN/EDIFACT D.96A ORDERS (EANCOM-like) with a UNA.
    Edifact,
}

/// Interchanges of `kind`, numbered from 1: an endless iterator of their bytes.
pub fn interchanges(kind: Kind) -> impl Iterator<Item = Vec<u8>> {
    (1u64..).map(move |ctl| match kind {
        Kind::X12 => x12_interchange(ctl),
        Kind::Edifact => edifact_interchange(ctl),
    })
}

/// Interchanges of `kind` concatenated until at least `target` bytes (in memory: for tests and
/// in-memory measures; files are written interchange by interchange from [`interchanges`]).
pub fn generate(kind: Kind, target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 300_000);
    for ich in interchanges(kind) {
        if out.len() >= target {
            break;
        }
        out.extend_from_slice(&ich);
    }
    out
}

/// The segments of one transaction between its header and trailer, and their count.
struct Body {
    text: String,
    n: u32,
    end: &'static str,
}

impl Body {
    fn new(end: &'static str) -> Self {
        Body {
            text: String::with_capacity(2048),
            n: 0,
            end,
        }
    }
    fn push(&mut self, segment: &str) {
        self.text.push_str(segment);
        self.text.push_str(self.end);
        self.n += 1;
    }
}

/// One X12 interchange (control number `ctl`) of 850s.
pub fn x12_interchange(ctl: u64) -> Vec<u8> {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ORDO           *260301*1200*U*00401*{:09}*0*P*>~\n\
         GS*PO*BUYERCO*ORDO*20260301*1200*{ctl}*X*004010~\n",
        ctl % 1_000_000_000
    );
    for t in 1..=ORDERS_PER_INTERCHANGE {
        let po = ctl * 1000 + u64::from(t);
        let mut b = Body::new("~\n");
        let mut seg = |s: &str| b.push(s);
        seg(&format!("BEG*00*SA*PO{po}**20260301"));
        seg("CUR*BY*USD");
        seg("REF*DP*042");
        seg("DTM*002*20260315");
        seg("N1*BY*Buyer Company*UL*4012345000009");
        seg("N3*1 Main Street");
        seg("N4*New York*NY*10001*US");
        seg("N1*ST*Buyer DC East*UL*4012345000016");
        seg("N3*200 Dock Road");
        seg("N4*Newark*NJ*07101*US");
        for l in 1..=LINES_PER_ORDER {
            seg(&format!(
                "PO1*{l}*{}*EA*{}.{:02}**BP*B{l:05}*VP*SKU-{l:05}*UP*0123456{l:05}",
                l * 3,
                l + 2,
                l % 100
            ));
            seg(&format!("PID*F****Item number {l} description"));
        }
        seg(&format!("CTT*{LINES_PER_ORDER}"));
        let _ = write!(out, "ST*850*{t:04}~\n{}SE*{}*{t:04}~\n", b.text, b.n + 2);
    }
    let _ = write!(
        out,
        "GE*{ORDERS_PER_INTERCHANGE}*{ctl}~\nIEA*1*{:09}~\n",
        ctl % 1_000_000_000
    );
    out.into_bytes()
}

/// One EDIFACT interchange (reference `ctl`) of D.96A ORDERS with release characters.
pub fn edifact_interchange(ctl: u64) -> Vec<u8> {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "UNA:+.? '\nUNB+UNOC:3+4012345000009:14+5412345000013:14+260301:1200+{ctl}'\n"
    );
    for t in 1..=ORDERS_PER_INTERCHANGE {
        let po = ctl * 1000 + u64::from(t);
        let mut b = Body::new("'\n");
        let mut seg = |s: &str| b.push(s);
        seg(&format!("BGM+220+PO{po}+9"));
        seg("DTM+137:20260301:102");
        seg("DTM+2:20260315:102");
        seg("FTX+AAI+++Deliver to dock 4?: ring twice?+wait");
        seg("RFF+CT:042");
        seg("NAD+BY+4012345000009::9++Buyer Company+1 Main Street+New York++10001+US");
        seg("NAD+DP+4012345000016::9++Buyer DC East+200 Dock Road+Newark++07101+US");
        seg("CUX+2:USD:9");
        for l in 1..=LINES_PER_ORDER {
            seg(&format!("LIN+{l}++0123456{l:05}:EN"));
            seg(&format!("PIA+1+SKU-{l:05}:SA"));
            seg(&format!("IMD+F++:::Item {l} 5?' x 10?? pack"));
            seg(&format!("QTY+21:{}", l * 3));
            seg(&format!("PRI+AAA:{}.{:02}", l + 2, l % 100));
        }
        seg("UNS+S");
        seg(&format!("CNT+2:{LINES_PER_ORDER}"));
        let _ = write!(
            out,
            "UNH+{t}+ORDERS:D:96A:UN:EAN008'\n{}UNT+{}+{t}'\n",
            b.text,
            b.n + 2
        );
    }
    let _ = writeln!(out, "UNZ+{ORDERS_PER_INTERCHANGE}+{ctl}'");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated interchanges read and validate with no issue, and map to one order per set.
    #[test]
    fn generated_interchanges_are_valid() {
        for kind in [Kind::X12, Kind::Edifact] {
            let bytes = generate(kind, 1);
            let mut n = 0;
            for ich in crate::read(&bytes) {
                let ich = ich.expect("interchange");
                let issues = crate::validate(&ich);
                assert!(issues.is_empty(), "{kind:?}: {:?}", issues.first());
                let opts = crate::map::MapOptions {
                    customer_id: "C1".into(),
                    partner: None,
                    default_currency: "USD".into(),
                };
                for o in crate::map::orders(&ich, &opts) {
                    let o = o.expect("order");
                    assert_eq!(o.lines.len(), LINES_PER_ORDER as usize);
                    n += 1;
                }
            }
            assert_eq!(n, ORDERS_PER_INTERCHANGE, "{kind:?}");
        }
    }
}
