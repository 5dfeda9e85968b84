//! `ordo ledger export --format datev`: a period's journal as a DATEV-Format "Buchungsstapel"
//! (EXTF, header version 700, format category 21, format version 13), the file German tax
//! advisers import into DATEV Rechnungswesen. Layout as DATEV publishes it
//! (developer.datev.de, "DATEV-Format: Buchungsstapel"): line 1 the header record, line 2 the
//! 125 column headings, then one booking per line; `;`-separated, texts in `"`, amounts without
//! sign and with a decimal comma (the sign is the Soll/Haben flag), Belegdatum as `DDMM`,
//! Windows-1252, CRLF.
//!
//! A DATEV booking has one account and one contra account; a journal entry may have more
//! lines, so each entry is split into pairs, debits against credits in line order, which keeps
//! every account's total exactly (`an_entry_splits_into_pairs_that_keep_every_total`).

use super::{Chart, from_e4, to_e4};
use crate::store::journal::JournalEntry;
use chrono::{Datelike, NaiveDate};

/// The 125 column headings of Buchungsstapel format version 13, in DATEV's order (DATEV reads
/// the columns by position; this line names them for a person).
const COLUMNS: [&str; 125] = [
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    "Beleginfo - Art 1",
    "Beleginfo - Inhalt 1",
    "Beleginfo - Art 2",
    "Beleginfo - Inhalt 2",
    "Beleginfo - Art 3",
    "Beleginfo - Inhalt 3",
    "Beleginfo - Art 4",
    "Beleginfo - Inhalt 4",
    "Beleginfo - Art 5",
    "Beleginfo - Inhalt 5",
    "Beleginfo - Art 6",
    "Beleginfo - Inhalt 6",
    "Beleginfo - Art 7",
    "Beleginfo - Inhalt 7",
    "Beleginfo - Art 8",
    "Beleginfo - Inhalt 8",
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    "Zusatzinformation - Art 1",
    "Zusatzinformation- Inhalt 1",
    "Zusatzinformation - Art 2",
    "Zusatzinformation- Inhalt 2",
    "Zusatzinformation - Art 3",
    "Zusatzinformation- Inhalt 3",
    "Zusatzinformation - Art 4",
    "Zusatzinformation- Inhalt 4",
    "Zusatzinformation - Art 5",
    "Zusatzinformation- Inhalt 5",
    "Zusatzinformation - Art 6",
    "Zusatzinformation- Inhalt 6",
    "Zusatzinformation - Art 7",
    "Zusatzinformation- Inhalt 7",
    "Zusatzinformation - Art 8",
    "Zusatzinformation- Inhalt 8",
    "Zusatzinformation - Art 9",
    "Zusatzinformation- Inhalt 9",
    "Zusatzinformation - Art 10",
    "Zusatzinformation- Inhalt 10",
    "Zusatzinformation - Art 11",
    "Zusatzinformation- Inhalt 11",
    "Zusatzinformation - Art 12",
    "Zusatzinformation- Inhalt 12",
    "Zusatzinformation - Art 13",
    "Zusatzinformation- Inhalt 13",
    "Zusatzinformation - Art 14",
    "Zusatzinformation- Inhalt 14",
    "Zusatzinformation - Art 15",
    "Zusatzinformation- Inhalt 15",
    "Zusatzinformation - Art 16",
    "Zusatzinformation- Inhalt 16",
    "Zusatzinformation - Art 17",
    "Zusatzinformation- Inhalt 17",
    "Zusatzinformation - Art 18",
    "Zusatzinformation- Inhalt 18",
    "Zusatzinformation - Art 19",
    "Zusatzinformation- Inhalt 19",
    "Zusatzinformation - Art 20",
    "Zusatzinformation- Inhalt 20",
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
];

/// One DATEV booking: `amount` from `debit` (Konto, flag S) to `credit` (Gegenkonto).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking<'a> {
    pub amount_e4: i64,
    pub debit: &'a str,
    pub credit: &'a str,
}

/// Splits an entry into two-account bookings: debits and credits in line order, each pair
/// taking what both still have. Every account's debit and credit totals stay as they were.
pub fn pairs(e: &JournalEntry) -> Vec<Booking<'_>> {
    let mut debits: Vec<(&str, i64)> = e
        .lines
        .iter()
        .filter(|l| l.amount_e4 > 0)
        .map(|l| (l.account.as_str(), l.amount_e4))
        .collect();
    let mut credits: Vec<(&str, i64)> = e
        .lines
        .iter()
        .filter(|l| l.amount_e4 < 0)
        .map(|l| (l.account.as_str(), -l.amount_e4))
        .collect();
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < debits.len() && j < credits.len() {
        let take = debits[i].1.min(credits[j].1);
        if take > 0 {
            out.push(Booking {
                amount_e4: take,
                debit: debits[i].0,
                credit: credits[j].0,
            });
        }
        debits[i].1 -= take;
        credits[j].1 -= take;
        if debits[i].1 == 0 {
            i += 1;
        }
        if credits[j].1 == 0 {
            j += 1;
        }
    }
    out
}

/// A text field: in `"`, inner `"` doubled, at most `max` characters, control characters out.
fn text(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    format!("\"{}\"", clean.replace('"', "\"\""))
}

/// Belegfeld 1 takes at most 36 characters of `A-Z 0-9 $ & % * + - /` (others are dropped).
fn belegfeld(s: &str) -> String {
    let kept: String = s
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_alphanumeric() || "$&%*+-/".contains(*c))
        .take(36)
        .collect();
    format!("\"{kept}\"")
}

/// `1234,56`: the amount rounded to the cent (DATEV carries two decimals), decimal comma.
fn amount(e4: i64) -> Result<String, String> {
    let d = from_e4(e4);
    let cents = d.round_dp(2);
    if to_e4(cents)? != e4 {
        return Err(format!(
            "amount {d} has more than two decimals; DATEV carries cents"
        ));
    }
    Ok(format!("{cents:.2}").replace('.', ","))
}

/// Windows-1252 for the Latin-1 range (what German texts use); anything else becomes `?`.
fn cp1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c as u32 {
            v @ (0x00..=0x7F | 0xA0..=0xFF) => v as u8,
            _ => b'?',
        })
        .collect()
}

/// The Buchungsstapel of `period` (`YYYY-MM`) from its entries.
pub fn export(
    chart: &Chart,
    period: &str,
    entries: &[JournalEntry],
    created: chrono::NaiveDateTime,
) -> Result<Vec<u8>, String> {
    let d = chart.datev.as_ref().ok_or_else(|| {
        format!(
            "{}: no `datev:` section (consultant, client, chart): the DATEV header needs them",
            chart.path
        )
    })?;
    let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .map_err(|_| format!("period '{period}' is not YYYY-MM"))?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|n| n.pred_opt())
        .ok_or_else(|| format!("period '{period}' has no end"))?;
    let fy_year = if first.month() >= d.fiscal_year_start_month {
        first.year()
    } else {
        first.year() - 1
    };
    let fy_start = NaiveDate::from_ymd_opt(fy_year, d.fiscal_year_start_month, 1)
        .ok_or_else(|| "fiscal year start is not a date".to_string())?;
    let account_length = chart.accounts.keys().map(String::len).max().unwrap_or(4);
    let header = [
        "\"EXTF\"".to_string(),
        "700".into(),
        "21".into(),
        "\"Buchungsstapel\"".into(),
        "13".into(),
        created.format("%Y%m%d%H%M%S%3f").to_string(),
        String::new(),
        "\"RE\"".into(),
        "\"ordo\"".into(),
        "\"\"".into(),
        d.consultant.to_string(),
        d.client.to_string(),
        fy_start.format("%Y%m%d").to_string(),
        account_length.to_string(),
        first.format("%Y%m%d").to_string(),
        last.format("%Y%m%d").to_string(),
        text(&format!("ordo journal {period}"), 30),
        "\"\"".into(),
        "1".into(),
        "0".into(),
        "0".into(),
        text(&chart.currency, 3),
        String::new(),
        "\"\"".into(),
        String::new(),
        String::new(),
        text(&d.chart, 2),
        String::new(),
        String::new(),
        "\"\"".into(),
        "\"\"".into(),
    ];
    let mut out = header.join(";");
    out.push_str("\r\n");
    out.push_str(&COLUMNS.join(";"));
    out.push_str("\r\n");
    for e in entries {
        if e.period != period {
            return Err(format!(
                "entry {}/{} is not of period {period}",
                e.period, e.number
            ));
        }
        let date = NaiveDate::parse_from_str(&e.entry_date, "%Y-%m-%d")
            .map_err(|_| format!("entry {}/{}: date '{}'", e.period, e.number, e.entry_date))?;
        if date < first || date > last {
            return Err(format!(
                "entry {}/{}: {date} is outside {period}",
                e.period, e.number
            ));
        }
        for b in pairs(e) {
            let mut row = vec![String::new(); COLUMNS.len()];
            row[0] = amount(b.amount_e4)?;
            row[1] = "\"S\"".into();
            row[2] = text(&e.currency, 3);
            row[6] = b.debit.to_string();
            row[7] = b.credit.to_string();
            row[9] = date.format("%d%m").to_string();
            row[10] = belegfeld(&e.source);
            row[11] = belegfeld(&format!("{}", e.number));
            row[13] = text(&format!("{} {}", e.event, e.source), 60);
            out.push_str(&row.join(";"));
            out.push_str("\r\n");
        }
    }
    Ok(cp1252(&out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::journal::JournalLine;

    fn entry(lines: &[(&str, i64)]) -> JournalEntry {
        JournalEntry {
            period: "2026-03".into(),
            number: 7,
            entry_date: "2026-03-14".into(),
            event: "payment".into(),
            source: "PAY-000001".into(),
            currency: "EUR".into(),
            rule: "r".into(),
            order_id: None,
            invoice: None,
            customer: None,
            note: None,
            lines: lines
                .iter()
                .map(|(a, v)| JournalLine {
                    account: (*a).into(),
                    amount_e4: *v,
                    memo: None,
                })
                .collect(),
        }
    }

    #[test]
    fn an_entry_splits_into_pairs_that_keep_every_total() {
        // Bank 130 + discount 2 against receivables 121 and credit 11.
        let e = entry(&[
            ("1200", 1_300_000),
            ("8736", 20_000),
            ("1400", -1_210_000),
            ("1495", -110_000),
        ]);
        let p = pairs(&e);
        assert_eq!(
            p,
            [
                Booking {
                    amount_e4: 1_210_000,
                    debit: "1200",
                    credit: "1400"
                },
                Booking {
                    amount_e4: 90_000,
                    debit: "1200",
                    credit: "1495"
                },
                Booking {
                    amount_e4: 20_000,
                    debit: "8736",
                    credit: "1495"
                },
            ]
        );
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        for b in &p {
            *totals.entry(b.debit).or_default() += b.amount_e4;
            *totals.entry(b.credit).or_default() -= b.amount_e4;
        }
        for l in &e.lines {
            assert_eq!(totals[l.account.as_str()], l.amount_e4, "{}", l.account);
        }
    }
    use std::collections::BTreeMap;

    #[test]
    fn the_file_has_the_header_the_headings_and_one_booking_per_pair() {
        let chart = Chart::parse(
            "a.yaml",
            "currency: EUR\ndatev: { consultant: 1001, client: 42, chart: \"03\" }\naccounts:\n  \"1400\": { name: R, type: asset, role: receivables }\n  \"1495\": { name: C, type: liability, role: customer-credit }\n  \"8400\": { name: \"Erlöse\", type: revenue }\n",
        )
        .unwrap();
        let e = entry(&[("1400", 1_190_000), ("8400", -1_190_000)]);
        let created = NaiveDate::from_ymd_opt(2026, 4, 2)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        let bytes = export(&chart, "2026-03", std::slice::from_ref(&e), created).unwrap();
        let text: String = bytes.iter().map(|b| *b as char).collect();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines.len(),
            4,
            "header, headings, one booking, and the final CRLF"
        );
        let head: Vec<&str> = lines[0].split(';').collect();
        assert_eq!(head.len(), 31);
        assert_eq!(
            &head[..6],
            [
                "\"EXTF\"",
                "700",
                "21",
                "\"Buchungsstapel\"",
                "13",
                "20260402093000000"
            ]
        );
        assert_eq!(
            &head[10..16],
            ["1001", "42", "20260101", "4", "20260301", "20260331"]
        );
        assert_eq!(lines[1].split(';').count(), 125);
        let row: Vec<&str> = lines[2].split(';').collect();
        assert_eq!(row.len(), 125);
        assert_eq!(&row[..3], ["119,00", "\"S\"", "\"EUR\""]);
        assert_eq!(
            (row[6], row[7], row[9], row[10]),
            ("1400", "8400", "1403", "\"PAY-000001\"")
        );
        assert!(bytes.contains(&0xFC), "ü of Schlüssel in Windows-1252");
        // An entry of another period, a sub-cent amount, no datev section: refused, not guessed.
        let mut other = e.clone();
        other.period = "2026-04".into();
        assert!(export(&chart, "2026-03", &[other], created).is_err());
        let odd = entry(&[("1400", 1_190_001), ("8400", -1_190_001)]);
        assert!(
            export(&chart, "2026-03", &[odd], created)
                .unwrap_err()
                .contains("cents")
        );
        let mut bare = chart.clone();
        bare.datev = None;
        assert!(
            export(&bare, "2026-03", &[e], created)
                .unwrap_err()
                .contains("no `datev:` section")
        );
    }
}
