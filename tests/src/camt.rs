//! camt.053 statements as the bank sends them, for tests that pay invoices through the bank
//! channel: one credit entry per payment, into the demo account of `config/banks/main-eur.yaml`.

/// The account the repository's bank profile (`config/banks/main-eur.yaml`) reads.
pub const OUR_IBAN: &str = "DE44500105175407324931";

/// One credit the bank books: amount (two decimals), payer name, payer IBAN, remittance text.
pub type Credit = (String, String, String, String);

/// A camt.053.001.08 statement `id` booked on `date` (YYYY-MM-DD) with one credit entry per
/// item; the closing balance is the opening 1,000.00 plus the credits plus `closing_delta`
/// cents (non-zero: a statement whose balances do not add up).
pub fn camt053(id: &str, date: &str, entries: &[Credit], closing_delta: i64) -> String {
    let mut body = String::new();
    let mut total = 0i64;
    for (i, (amount, payer, iban, text)) in entries.iter().enumerate() {
        let cents: i64 = amount
            .replace('.', "")
            .parse()
            .expect("amount with 2 decimals");
        total += cents;
        body.push_str(&format!(
            "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{id}-{i}</AcctSvcrRef>\
             <NtryDtls><TxDtls><Refs><EndToEndId>E2E-{i}</EndToEndId></Refs>\
             <RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>\
             <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        ));
    }
    let closing = 100_000 + total + closing_delta;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>{id}</MsgId><CreDtTm>{date}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>{id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>\
         <Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\n\
         {body}</Stmt></BkToCstmrStmt></Document>\n",
        closing / 100,
        closing % 100,
    )
}

/// A JSON money value (`12.5`, `29.75`, `30`) with exactly two decimals, as a statement
/// writes it.
pub fn money(v: &serde_json::Value) -> String {
    let s = v.to_string();
    match s.split_once('.') {
        Some((a, b)) => format!("{a}.{:0<2}", &b[..b.len().min(2)]),
        None => format!("{s}.00"),
    }
}
