//! The arguments of `ordo edi …` (clap definitions; the commands are in `edi.rs`).

use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum EdiCommand {
    /// Read and validate an X12 or EDIFACT file (several interchanges allowed) and print it as
    /// JSON: interchanges (envelope, separators, issues), groups, transactions (ack status A/E/R
    /// and their segments with file index, position in the set, byte offset, line and column).
    ///
    /// stdout always gets the JSON of everything that could be read, also when the file is
    /// invalid (then "valid" is false and every issue is in "issues"). stderr gets one located
    /// line per issue (`path:line:col: …`; warnings prefixed `warning:`). A well-formed set
    /// ordo has no table for (an 846, a 214…) is read at the envelope and segment level and
    /// reported as not mapped (a warning, `"mapped": false`). Exit 1 when some issue is an
    /// error (the set would be rejected) or part of the file is unreadable; warnings alone
    /// exit 0.
    Parse {
        file: PathBuf,
        /// Leave the segments out (envelope, structure and issues only).
        #[arg(long)]
        no_segments: bool,
    },
    /// Write the functional acknowledgment of every interchange in FILE to stdout: a 997 (or
    /// 999 with --999) per X12 interchange, a CONTRL per EDIFACT interchange. Sender and
    /// receiver are the inbound envelope's, swapped; separators are the inbound ones. The ack
    /// reports rejections itself (AK5/AK9 R, UCM 4), so exit 0 whenever an ack was written; exit
    /// 1 when part of the file cannot be read or acknowledged (no GS group, unreadable header).
    /// Acknowledgments are never acknowledged: groups of 997/999 and CONTRL messages are left
    /// out, and an interchange holding only acknowledgments (or a TA1) gets nothing (said on
    /// stderr, exit 0). Sets not in --accept are rejected (AK5/IK5 R 1, UCM 4 14).
    /// With --json: {"acks": [{"interchange", "kind", "control_number", "groups", "text"}],
    /// "skipped": [{"interchange", "reason"}]}.
    Ack {
        file: PathBuf,
        /// Transaction sets accepted, comma-separated (a partner profile's `accept:`); default
        /// 850,ORDERS,997,999,CONTRL. Any other set is rejected with code 1.
        #[arg(long, value_delimiter = ',')]
        accept: Vec<String>,
        /// X12: write 999 (005010X231A1) instead of 997.
        #[arg(long = "999")]
        x999: bool,
        /// Control number of the (first) ack interchange (ISA13 = GS06 / UNB 0020); each further
        /// interchange in FILE gets the next number.
        #[arg(long, default_value_t = 1)]
        control: u64,
        /// Only list rejected or with-errors sets (omit AK2..AK5 A / UCM 7).
        #[arg(long)]
        errors_only: bool,
        /// Ack date and time, YYYY-MM-DDTHH:MM[:SS] (default: now, UTC).
        #[arg(long)]
        at: Option<String>,
    },
    /// Map every 850 (X12) / ORDERS (EDIFACT) transaction of FILE to a canonical Order and print
    /// them as a JSON array (the input `ordo submit` takes). The order id is CUSTOMER-PO.
    /// Transactions the 997/CONTRL would reject are not mapped (located errors on stderr, exit
    /// 1) unless --no-validate; the others are still printed, as a partial acceptance would be.
    ToOrder {
        file: PathBuf,
        /// ordo customer id of the sending partner (EDI does not carry it).
        #[arg(long)]
        customer: String,
        /// Trading partner id, copied to Order.partner.
        #[arg(long)]
        partner: Option<String>,
        /// Currency when the order has no CUR / CUX.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Map transactions even when validation finds errors.
        #[arg(long)]
        no_validate: bool,
    },
    /// Write canonical documents as one outbound interchange on stdout: order → 855 / ORDRSP,
    /// shipment → 856 / DESADV, invoice → 810 / INVOIC.
    ///
    /// FILE is JSON: one document, an array of documents (one transaction each), or wrappers
    /// {"shipment": {..}, "order": {..}} / {"invoice": {..}, "order": {..}}. A shipment or
    /// invoice needs its order (matched by order_id = order.id): from the wrapper or from
    /// --order FILE (an order or an array of orders).
    Render {
        /// order (855/ORDRSP), shipment (856/DESADV) or invoice (810/INVOIC).
        kind: RenderKind,
        file: PathBuf,
        /// Orders for shipments/invoices: JSON order or array of orders.
        #[arg(long)]
        order: Option<PathBuf>,
        /// x12 (default) or edifact; implied by --version.
        #[arg(long)]
        standard: Option<StandardArg>,
        /// 4010 (X12 default), 5010, d96a (EDIFACT default) or d01b.
        #[arg(long)]
        version: Option<VersionArg>,
        /// Separators. X12: element, component, [repetition,] segment, e.g. `*>^~` or `*>~`
        /// (default `*>~` for 4010, `*>^~` for 5010). EDIFACT: UNA order component, element,
        /// decimal, release, repetition (space: none), segment, e.g. `:+.? '` (the default).
        #[arg(long)]
        separators: Option<String>,
        /// Interchange sender QUALIFIER:ID (ISA05/06, UNB S002).
        #[arg(long, default_value = "ZZ:ORDO")]
        sender: String,
        /// Interchange receiver QUALIFIER:ID (ISA07/08, UNB S003).
        #[arg(long, default_value = "ZZ:PARTNER")]
        receiver: String,
        /// Interchange control number (ISA13 = GS06, UNB 0020).
        #[arg(long, default_value_t = 1)]
        control: u64,
        /// Test interchange (ISA15 T / UNB 0035 1).
        #[arg(long)]
        test: bool,
        /// Ask the partner for an acknowledgment (ISA14 1 / UNB 0031 1).
        #[arg(long)]
        ack_requested: bool,
        /// No line break after each segment terminator.
        #[arg(long)]
        no_newline: bool,
        /// Envelope date and time YYYY-MM-DDTHH:MM[:SS] (default: now, UTC); its date is the
        /// 855/ORDRSP acknowledgment date.
        #[arg(long)]
        at: Option<String>,
    },
    /// Throughput and peak RSS on generated files (X12 850s, EDIFACT ORDERS), beside a memchr
    /// ceiling measured in the same run: streamed validation and `parse --no-segments`
    /// (`ordo::edibench`).
    Bench {
        /// Size of each generated file in MB (500 for the large case).
        #[arg(long, default_value_t = 50)]
        mb: u64,
        /// Folder for the generated files (removed afterwards unless --keep).
        #[arg(long, default_value = "/tmp")]
        dir: PathBuf,
        /// Runs per measure; the best is shown.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderKind {
    #[value(alias = "855", alias = "ordrsp")]
    Order,
    #[value(alias = "856", alias = "desadv")]
    Shipment,
    #[value(alias = "810", alias = "invoic")]
    Invoice,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StandardArg {
    X12,
    Edifact,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VersionArg {
    #[value(name = "4010", alias = "004010")]
    X4010,
    #[value(name = "5010", alias = "005010")]
    X5010,
    #[value(alias = "D96A")]
    D96a,
    #[value(alias = "D01B")]
    D01b,
}
