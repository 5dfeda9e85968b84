//! Partner profiles (`config/partners/NAME.yaml`): who a trading partner is on the envelope,
//! which standard and version they speak, the separators to write, the acknowledgment and the
//! documents they want, their customer in master data and their folders.
//!
//! ```yaml
//! partner: acme                    # name used in the store and on orders (Order.partner)
//! customer: C-ACME                 # their customer id in master data
//! version: "4010"                  # 4010 | 5010 | D96A | D01B
//! their_id: { qualifier: ZZ, id: ACMEBUYER }    # ISA05/06 or UNB S002 on what they send
//! our_id: { qualifier: ZZ, id: ORDOSELLER }     # how they address us (ISA07/08, UNB S003)
//! separators: "*>^~"               # optional; X12: element component [repetition] segment,
//!                                  # EDIFACT: the six UNA characters `:+.? '`
//! acknowledgment: "997"            # 997 | 999 | CONTRL | none
//! documents: [order_response, ship_notice, invoice]   # 855/ORDRSP, 856/DESADV, 810/INVOIC
//!                                  # credit_note: 810 credit memo (BIG07 CR) / INVOIC 381
//!                                  # change_response: 865 / ORDRSP (BGM 231) answering
//!                                  # their 860 / ORDCHG
//!                                  # quote: 843 / QUOTES when a quote for their customer is
//!                                  # sent (at most one profile per customer lists it)
//! currency: USD                    # when an order states none
//! test: false                      # mark what we send as test (ISA15 T, UNB 0035 1)
//! ack_requested: true              # ask for their 997/CONTRL (ISA14 / UNB 0031)
//! ta1: false                       # X12: send them a TA1 for every interchange (also sent
//!                                  # when their ISA14 asks for one)
//! accept: [850, 997]               # sets taken from them; any other is rejected in our
//!                                  # 997/999 (AK5/IK5 R, code 1) or CONTRL (UCM 4, 0085 14).
//!                                  # Default: 850, ORDERS, 997, 999, CONTRL. A set listed
//!                                  # that ordo does not map (846…) is accepted and kept.
//! inbound: data/partners/acme/in   # watched; these are the defaults
//! outbound: data/partners/acme/out
//! archive: data/partners/acme/archive
//! quarantine: data/partners/acme/quarantine
//! ```
//!
//! A **supplier** is a profile with `role: supplier` and `supplier: S1` (its id in master data)
//! instead of `customer:`. ordo sends it the purchase orders it raises (850 / ORDERS in its
//! version and separators) and takes its 855/ORDRSP, 856/DESADV and acknowledgments; its
//! `accept:` defaults to [`SUPPLIER_ACCEPT`], and `documents:` may list only
//! `purchase_order` (sent whether listed or not). `format: csv` (supplier only) sends the PO
//! as a CSV file to the outbound folder instead; such a profile needs no `version`, ids or
//! separators and receives nothing:
//!
//! ```yaml
//! partner: supplier-one
//! role: supplier
//! supplier: S1
//! version: "4010"
//! their_id: { qualifier: ZZ, id: SUPPLIER1 }
//! our_id: { qualifier: ZZ, id: ORDOBUYER }
//! ```

use ordo_contract::excerpt;
use ordo_edi::{PartnerId, Separators, Standard, Version};
use serde::{Deserialize, Serialize};

/// What ordo sends a partner, by business meaning (the EDI set follows from the standard).
pub const DOCUMENTS: &[&str] = &[
    "order_response",
    "ship_notice",
    "invoice",
    "credit_note",
    "change_response",
    "quote",
];

/// What ordo sends a supplier.
pub const SUPPLIER_DOCUMENTS: &[&str] = &["purchase_order"];

/// Sets taken from a supplier when its profile lists no `accept:`: its order responses, ship
/// notices and acknowledgments (never an order: a supplier does not buy from us here).
pub const SUPPLIER_ACCEPT: &[&str] = &["855", "856", "ORDRSP", "DESADV", "997", "999", "CONTRL"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeId {
    pub qualifier: String,
    pub id: String,
}

impl EnvelopeId {
    pub fn to_partner_id(&self) -> PartnerId {
        PartnerId {
            qualifier: self.qualifier.clone(),
            id: self.id.clone(),
        }
    }

    /// Same party as an envelope's id (X12 pads ids to 15 characters).
    pub fn matches(&self, p: &PartnerId) -> bool {
        self.id.trim() == p.id.trim()
            && (self.qualifier.trim().is_empty()
                || p.qualifier.trim().is_empty()
                || self.qualifier.trim() == p.qualifier.trim())
    }
}

/// A partner profile as written in YAML, plus the folders the engine resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    pub partner: String,
    /// `customer` (the default: they buy from us) or `supplier` (we buy from them).
    #[serde(default = "default_role")]
    pub role: String,
    /// Their customer id in master data (role `customer`).
    #[serde(default)]
    pub customer: String,
    /// Their supplier id in master data (role `supplier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// `edi` (the default) or `csv` (suppliers only: purchase orders as CSV files).
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub their_id: EnvelopeId,
    #[serde(default)]
    pub our_id: EnvelopeId,
    #[serde(default)]
    pub separators: Option<String>,
    #[serde(default = "default_ack")]
    pub acknowledgment: String,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub test: bool,
    #[serde(default)]
    pub ack_requested: bool,
    /// Answer every X12 interchange of theirs with a TA1 (also sent, without this, when their
    /// ISA14 asks for one).
    #[serde(default)]
    pub ta1: bool,
    /// Transaction sets accepted from this partner (`accept: [850, 846]`, `[ORDERS]`); `None`:
    /// [`ordo_edi::ack::DEFAULT_ACCEPT`]. See [`Partner::accept`].
    #[serde(
        default,
        deserialize_with = "set_ids",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept: Option<Vec<String>>,
    #[serde(default)]
    pub inbound: Option<String>,
    #[serde(default)]
    pub outbound: Option<String>,
    #[serde(default)]
    pub archive: Option<String>,
    #[serde(default)]
    pub quarantine: Option<String>,
}

/// `accept:` entries as written: YAML reads `850` as a number and `ORDERS` as text.
fn set_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum SetId {
        Number(u64),
        Text(String),
    }
    let list: Option<Vec<SetId>> = Option::deserialize(d)?;
    Ok(list.map(|l| {
        l.into_iter()
            .map(|s| match s {
                SetId::Number(n) => n.to_string(),
                SetId::Text(t) => t,
            })
            .collect()
    }))
}

fn default_role() -> String {
    "customer".into()
}
fn default_format() -> String {
    "edi".into()
}

fn default_ack() -> String {
    "997".into()
}
fn default_currency() -> String {
    "USD".into()
}

impl Partner {
    /// A supplier's profile (`role: supplier`).
    pub fn is_supplier(&self) -> bool {
        self.role == "supplier"
    }

    /// Speaks EDI (every customer; a supplier unless `format: csv`): only these are matched
    /// to what comes into the inbound folders.
    pub fn is_edi(&self) -> bool {
        self.format != "csv"
    }

    pub fn version(&self) -> Result<Version, String> {
        match self.version.to_ascii_uppercase().as_str() {
            "4010" | "004010" => Ok(Version::X12_4010),
            "5010" | "005010" => Ok(Version::X12_5010),
            "D96A" => Ok(Version::D96A),
            "D01B" => Ok(Version::D01B),
            v => Err(format!(
                "version '{v}' is not one of 4010, 5010, D96A, D01B"
            )),
        }
    }

    pub fn standard(&self) -> Result<Standard, String> {
        self.version().map(|v| v.standard())
    }

    /// The separators to write: the profile's, else the version's usual ones.
    pub fn separators(&self) -> Result<Option<Separators>, String> {
        let v = self.version()?;
        self.separators
            .as_deref()
            .map(|s| parse_separators(s, v))
            .transpose()
    }

    /// The transaction sets accepted from this partner: the profile's `accept:`, else
    /// [`ordo_edi::ack::DEFAULT_ACCEPT`]. Acknowledgments are taken whatever the list says
    /// (and never acknowledged).
    pub fn accept(&self) -> Vec<String> {
        match &self.accept {
            Some(list) => list.iter().map(|s| s.trim().to_string()).collect(),
            None if self.is_supplier() => SUPPLIER_ACCEPT.iter().map(|s| s.to_string()).collect(),
            None => ordo_edi::ack::DEFAULT_ACCEPT
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// Every check a profile must pass; messages name the key (the caller adds the path).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.partner.is_empty()
            || !self
                .partner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            out.push((
                "partner",
                format!(
                    "partner '{}' must be letters, digits, '-' or '_'",
                    self.partner
                ),
            ));
        }
        match self.role.as_str() {
            "customer" => {
                if self.customer.trim().is_empty() {
                    out.push(("customer", "customer must name a customer id".into()));
                }
                if self.supplier.is_some() {
                    out.push((
                        "supplier",
                        "supplier: only a profile with `role: supplier` names a supplier".into(),
                    ));
                }
            }
            "supplier" => {
                if self.supplier.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    out.push((
                        "supplier",
                        "a supplier profile must name its supplier id (`supplier: S1`)".into(),
                    ));
                }
                if !self.customer.is_empty() {
                    out.push((
                        "customer",
                        "customer: a supplier profile names `supplier:`, not a customer".into(),
                    ));
                }
            }
            other => out.push((
                "role",
                format!("role '{}' is not customer or supplier", excerpt(other, 40)),
            )),
        }
        match self.format.as_str() {
            "edi" => {}
            "csv" if self.is_supplier() => {
                // A CSV supplier only receives files: none of the EDI keys applies.
                if self.accept.is_some() {
                    out.push((
                        "accept",
                        "accept: a `format: csv` supplier sends no EDI".into(),
                    ));
                }
                return out;
            }
            "csv" => out.push((
                "format",
                "format csv is for suppliers (`role: supplier`); customers exchange EDI".into(),
            )),
            other => out.push((
                "format",
                format!("format '{}' is not edi or csv", excerpt(other, 40)),
            )),
        }
        let version = match self.version() {
            Ok(v) => Some(v),
            Err(e) => {
                out.push(("version", e));
                None
            }
        };
        if let Some(v) = version {
            let x12 = v.standard() == Standard::X12;
            for (key, id) in [("their_id", &self.their_id), ("our_id", &self.our_id)] {
                if id.id.trim().is_empty() {
                    out.push((key, format!("{key}.id is empty")));
                }
                if x12 && (id.id.len() > 15 || id.qualifier.len() != 2) {
                    out.push((
                        key,
                        format!(
                            "{key}: X12 ids are at most 15 characters with a 2-character qualifier, got '{}:{}'",
                            id.qualifier, id.id
                        ),
                    ));
                }
                if !x12 && id.id.len() > 35 {
                    out.push((key, format!("{key}: EDIFACT ids are at most 35 characters")));
                }
            }
            if let Err(e) = self.separators() {
                out.push(("separators", e));
            }
            let ack = self.acknowledgment.to_ascii_uppercase();
            let ok = match v.standard() {
                Standard::X12 => ["997", "999", "NONE"].contains(&ack.as_str()),
                Standard::Edifact => ["CONTRL", "NONE"].contains(&ack.as_str()),
            };
            for (i, set) in self.accept.iter().flatten().enumerate() {
                if let Err(e) = check_set_id(set, v.standard()) {
                    out.push(("accept", format!("accept entry {}: {e}", i + 1)));
                } else if self.accept.iter().flatten().take(i).any(|s| s == set) {
                    out.push(("accept", format!("accept lists '{set}' twice")));
                }
            }
            if !ok {
                out.push((
                    "acknowledgment",
                    format!(
                        "acknowledgment '{}' does not go with {}: use {}",
                        self.acknowledgment,
                        self.version,
                        if x12 {
                            "997, 999 or none"
                        } else {
                            "CONTRL or none"
                        }
                    ),
                ));
            }
        }
        let known = if self.is_supplier() {
            SUPPLIER_DOCUMENTS
        } else {
            DOCUMENTS
        };
        for d in &self.documents {
            if !known.contains(&d.as_str()) {
                out.push((
                    "documents",
                    format!(
                        "unknown document '{}' for a {} (documents: {})",
                        excerpt(d, 40),
                        self.role,
                        known.join(", ")
                    ),
                ));
            }
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            out.push((
                "currency",
                format!("currency '{}' is not an ISO 4217 code", self.currency),
            ));
        }
        out
    }

    pub fn wants(&self, document: &str) -> bool {
        self.documents.iter().any(|d| d == document)
    }

    /// The folder names, defaulted under `data/partners/NAME/`.
    pub fn folder(&self, which: &str) -> String {
        let set = match which {
            "inbound" => &self.inbound,
            "outbound" => &self.outbound,
            "archive" => &self.archive,
            _ => &self.quarantine,
        };
        // absent: an unset folder key means the documented default folder for the partner.
        set.clone().unwrap_or_else(|| {
            let leaf = match which {
                "inbound" => "in",
                "outbound" => "out",
                other => other,
            };
            format!("data/partners/{}/{leaf}", self.partner)
        })
    }
}

/// An `accept:` entry must be a transaction set id of the partner's standard: X12 three digits
/// (`850`, `846`), EDIFACT six capital letters (`ORDERS`, `INVRPT`).
fn check_set_id(set: &str, standard: Standard) -> Result<(), String> {
    let shown = ordo_contract::excerpt(set, 40);
    let x12 = set.len() == 3 && set.bytes().all(|b| b.is_ascii_digit()) && !set.starts_with('0');
    let edifact = set.len() == 6 && set.bytes().all(|b| b.is_ascii_uppercase());
    match standard {
        Standard::X12 if x12 => Ok(()),
        Standard::Edifact if edifact => Ok(()),
        Standard::X12 if edifact => Err(format!(
            "'{shown}' is an EDIFACT message type; this partner speaks X12 (set ids such as 850, 846)"
        )),
        Standard::Edifact if x12 => Err(format!(
            "'{shown}' is an X12 set id; this partner speaks EDIFACT (message types such as ORDERS, INVRPT)"
        )),
        Standard::X12 => Err(format!(
            "'{shown}' is not an X12 transaction set id (three digits, such as 850, 846)"
        )),
        Standard::Edifact => Err(format!(
            "'{shown}' is not an EDIFACT message type (six capital letters, such as ORDERS)"
        )),
    }
}

/// X12: element, component, [repetition,] segment (`*>^~`); EDIFACT: the six UNA characters
/// (`:+.? '`, component, element, decimal, release, repetition or space, segment).
pub fn parse_separators(s: &str, version: Version) -> Result<Separators, String> {
    let b = s.as_bytes();
    let bad = || {
        format!(
            "separators {s:?}: expected {}",
            match version.standard() {
                Standard::X12 => "element, component, [repetition,] segment, e.g. `*>^~`",
                Standard::Edifact => "6 UNA characters, e.g. `:+.? '`",
            }
        )
    };
    let seps = match (version.standard(), b) {
        (Standard::X12, [e, c, s]) => Separators {
            element: *e,
            component: *c,
            repetition: None,
            segment: *s,
            release: None,
            decimal: b'.',
        },
        (Standard::X12, [e, c, r, s]) => Separators {
            element: *e,
            component: *c,
            repetition: Some(*r),
            segment: *s,
            release: None,
            decimal: b'.',
        },
        (Standard::Edifact, [c, e, d, r, x, s]) => Separators {
            element: *e,
            component: *c,
            repetition: (*x != b' ').then_some(*x),
            segment: *s,
            release: (*r != b' ').then_some(*r),
            decimal: *d,
        },
        _ => return Err(bad()),
    };
    let mut all = vec![seps.element, seps.component, seps.segment];
    all.extend(seps.repetition);
    all.extend(seps.release);
    let mut dedup = all.clone();
    dedup.sort_unstable();
    dedup.dedup();
    if dedup.len() != all.len() || all.iter().any(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "separators {s:?}: separators must be distinct and not letters or digits"
        ));
    }
    Ok(seps)
}
