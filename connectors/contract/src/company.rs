//! Our own company, the seller on every document ordo prints or sends: `config/company.yaml`.
//!
//! One profile feeds the printable invoice (name, address, VAT id, registration, bank account
//! to pay to, logo, footer), the seller party of outbound EDI documents (when the order does
//! not already name one), and the bank profiles' check that statements are for one of our
//! accounts. `ordo check` validates it with `path:line:col` errors.

use crate::rules::check_iban;
use crate::{Address, Party, PartyId};
use serde::{Deserialize, Serialize};

/// The company profile as written in `config/company.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    /// Registered legal name, as printed on invoices.
    pub legal_name: String,
    pub address: CompanyAddress,
    /// VAT identification number (e.g. `DE123456789`); required on EU invoices.
    #[serde(default)]
    pub vat_id: Option<String>,
    /// Commercial register entry (e.g. `Amtsgericht Berlin HRB 12345`).
    #[serde(default)]
    pub registration: Option<String>,
    /// The account customers pay to.
    #[serde(default)]
    pub bank: Option<CompanyBank>,
    /// Identifiers of ours that partners know (GLN, DUNS), sent on our EDI party segments.
    #[serde(default)]
    pub ids: Vec<PartyId>,
    /// Logo image (PNG, JPEG or SVG) embedded in printed documents; relative to the profile.
    #[serde(default)]
    pub logo: Option<String>,
    /// Text printed at the foot of every invoice (payment instructions, managing directors).
    #[serde(default)]
    pub invoice_footer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyAddress {
    pub lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 (`DE`).
    pub country: String,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyBank {
    pub iban: String,
    #[serde(default)]
    pub bic: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A problem found in a profile: the key path it is about (for the location) and why.
pub type Problem = (Vec<&'static str>, String);

impl Company {
    /// Everything wrong with the profile, each with the key path it is about.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = Vec::new();
        if self.legal_name.trim().is_empty() {
            out.push((vec!["legal_name"], "the legal name is empty".into()));
        }
        if self.address.lines.iter().all(|l| l.trim().is_empty()) {
            out.push((
                vec!["address", "lines"],
                "give at least one address line".into(),
            ));
        }
        if self.address.city.trim().is_empty() {
            out.push((vec!["address", "city"], "the city is empty".into()));
        }
        let c = &self.address.country;
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            out.push((
                vec!["address", "country"],
                format!("country '{c}' is not an ISO 3166 code such as DE"),
            ));
        }
        if let Some(v) = &self.vat_id {
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let b = v.as_bytes();
            if b.len() < 4
                || b.len() > 16
                || !b[..2].iter().all(u8::is_ascii_uppercase)
                || !b[2..].iter().all(u8::is_ascii_alphanumeric)
            {
                out.push((
                    vec!["vat_id"],
                    format!(
                        "VAT id '{v}' must be a country prefix and 2-14 letters or digits (e.g. DE123456789)"
                    ),
                ));
            }
        }
        if let Some(bank) = &self.bank {
            if let Err(e) = check_iban(&bank.iban) {
                out.push((vec!["bank", "iban"], e));
            }
            if let Some(bic) = &bank.bic {
                let ok = (bic.len() == 8 || bic.len() == 11)
                    && bic.bytes().take(6).all(|b| b.is_ascii_uppercase())
                    && bic.bytes().skip(6).all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    out.push((
                        vec!["bank", "bic"],
                        format!("BIC '{bic}' is not 8 or 11 characters as ISO 9362 defines"),
                    ));
                }
            }
        }
        for id in &self.ids {
            if id.qualifier.trim().is_empty() || id.value.trim().is_empty() {
                out.push((vec!["ids"], "each id needs a qualifier and a value".into()));
            }
        }
        out
    }

    /// Our party on a document (role `seller`).
    pub fn party(&self) -> Party {
        Party {
            role: "seller".into(),
            name: Some(self.legal_name.clone()),
            ids: self.ids.clone(),
            address: Some(Address {
                lines: self.address.lines.clone(),
                city: Some(self.address.city.clone()),
                region: self.address.region.clone(),
                postal_code: Some(self.address.postal_code.clone()),
                country: Some(self.address.country.clone()),
            }),
        }
    }

    /// The postal address as printed, one line each.
    pub fn address_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.address.lines.clone();
        lines.push(format!(
            "{} {}",
            self.address.postal_code, self.address.city
        ));
        lines.push(self.address.country.clone());
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company() -> Company {
        Company {
            legal_name: "ordo Supplies GmbH".into(),
            address: CompanyAddress {
                lines: vec!["Hauptstrasse 1".into()],
                postal_code: "10115".into(),
                city: "Berlin".into(),
                country: "DE".into(),
                region: None,
            },
            vat_id: Some("DE123456789".into()),
            registration: None,
            bank: Some(CompanyBank {
                iban: "DE89 3704 0044 0532 0130 00".into(),
                bic: Some("COBADEFFXXX".into()),
                name: None,
            }),
            ids: vec![],
            logo: None,
            invoice_footer: None,
        }
    }

    #[test]
    fn a_good_profile_has_no_problems_and_is_the_seller_party() {
        let c = company();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        let p = c.party();
        assert_eq!(
            (p.role.as_str(), p.name.as_deref()),
            ("seller", Some("ordo Supplies GmbH"))
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut c = company();
        c.legal_name = " ".into();
        c.address.country = "Germany".into();
        c.vat_id = Some("123".into());
        c.bank = Some(CompanyBank {
            iban: "DE88 3704 0044 0532 0130 00".into(),
            bic: Some("XX".into()),
            name: None,
        });
        let keys: Vec<String> = c.problems().iter().map(|(k, _)| k.join(".")).collect();
        assert_eq!(
            keys,
            [
                "legal_name",
                "address.country",
                "vat_id",
                "bank.iban",
                "bank.bic"
            ]
        );
    }
}
