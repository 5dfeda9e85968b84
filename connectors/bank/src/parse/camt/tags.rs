//! The camt element names the parser looks at, as small integers: a start tag is named once,
//! then paths are compared as byte slices of these codes (no path strings per event).

pub(super) const OTHER: u8 = 0;
pub(super) const DOCUMENT: u8 = 1;
pub(super) const BK_TO_CSTMR_STMT: u8 = 2;
pub(super) const BK_TO_CSTMR_DBT_CDT_NTFCTN: u8 = 3;
pub(super) const BK_TO_CSTMR_ACCT_RPT: u8 = 4;
pub(super) const STMT: u8 = 5;
pub(super) const NTFCTN: u8 = 6;
pub(super) const RPT: u8 = 7;
pub(super) const GRP_HDR: u8 = 8;
pub(super) const MSG_ID: u8 = 9;
pub(super) const NTRY: u8 = 10;
pub(super) const NTRY_DTLS: u8 = 11;
pub(super) const TX_DTLS: u8 = 12;
pub(super) const BAL: u8 = 13;
pub(super) const ID: u8 = 14;
pub(super) const ELCTRNC_SEQ_NB: u8 = 15;
pub(super) const LGL_SEQ_NB: u8 = 16;
pub(super) const ACCT: u8 = 17;
pub(super) const IBAN: u8 = 18;
pub(super) const OTHR: u8 = 19;
pub(super) const CCY: u8 = 20;
pub(super) const TP: u8 = 21;
pub(super) const CD_OR_PRTRY: u8 = 22;
pub(super) const CD: u8 = 23;
pub(super) const PRTRY: u8 = 24;
pub(super) const AMT: u8 = 25;
pub(super) const CDT_DBT_IND: u8 = 26;
pub(super) const DT: u8 = 27;
pub(super) const DT_TM: u8 = 28;
pub(super) const RVSL_IND: u8 = 29;
pub(super) const STS: u8 = 30;
pub(super) const NTRY_REF: u8 = 31;
pub(super) const ACCT_SVCR_REF: u8 = 32;
pub(super) const ADDTL_NTRY_INF: u8 = 33;
pub(super) const BK_TX_CD: u8 = 34;
pub(super) const DOMN: u8 = 35;
pub(super) const FMLY: u8 = 36;
pub(super) const SUB_FMLY_CD: u8 = 37;
pub(super) const CHRGS: u8 = 38;
pub(super) const TTL_CHRGS_AND_TAX_AMT: u8 = 39;
pub(super) const RCRD: u8 = 40;
pub(super) const BTCH: u8 = 41;
pub(super) const NB_OF_TXS: u8 = 42;
pub(super) const BOOKG_DT: u8 = 43;
pub(super) const VAL_DT: u8 = 44;
pub(super) const REFS: u8 = 45;
pub(super) const END_TO_END_ID: u8 = 46;
pub(super) const MNDT_ID: u8 = 47;
pub(super) const AMT_DTLS: u8 = 48;
pub(super) const TX_AMT: u8 = 49;
pub(super) const INSTD_AMT: u8 = 50;
pub(super) const RLTD_PTIES: u8 = 51;
pub(super) const DBTR: u8 = 52;
pub(super) const CDTR: u8 = 53;
pub(super) const PTY: u8 = 54;
pub(super) const NM: u8 = 55;
pub(super) const ULTMT_DBTR: u8 = 56;
pub(super) const ULTMT_CDTR: u8 = 57;
pub(super) const DBTR_ACCT: u8 = 58;
pub(super) const CDTR_ACCT: u8 = 59;
pub(super) const RMT_INF: u8 = 60;
pub(super) const USTRD: u8 = 61;
pub(super) const STRD: u8 = 62;
pub(super) const ADDTL_RMT_INF: u8 = 63;
pub(super) const CDTR_REF_INF: u8 = 64;
pub(super) const REF: u8 = 65;
pub(super) const RFRD_DOC_INF: u8 = 66;
pub(super) const NB: u8 = 67;
pub(super) const RTR_INF: u8 = 68;
pub(super) const RSN: u8 = 69;

/// The name of each code (`""` for `OTHER`): a known element's path segment without storing it.
pub(super) const NAMES: [&str; 70] = [
    "",
    "Document",
    "BkToCstmrStmt",
    "BkToCstmrDbtCdtNtfctn",
    "BkToCstmrAcctRpt",
    "Stmt",
    "Ntfctn",
    "Rpt",
    "GrpHdr",
    "MsgId",
    "Ntry",
    "NtryDtls",
    "TxDtls",
    "Bal",
    "Id",
    "ElctrncSeqNb",
    "LglSeqNb",
    "Acct",
    "IBAN",
    "Othr",
    "Ccy",
    "Tp",
    "CdOrPrtry",
    "Cd",
    "Prtry",
    "Amt",
    "CdtDbtInd",
    "Dt",
    "DtTm",
    "RvslInd",
    "Sts",
    "NtryRef",
    "AcctSvcrRef",
    "AddtlNtryInf",
    "BkTxCd",
    "Domn",
    "Fmly",
    "SubFmlyCd",
    "Chrgs",
    "TtlChrgsAndTaxAmt",
    "Rcrd",
    "Btch",
    "NbOfTxs",
    "BookgDt",
    "ValDt",
    "Refs",
    "EndToEndId",
    "MndtId",
    "AmtDtls",
    "TxAmt",
    "InstdAmt",
    "RltdPties",
    "Dbtr",
    "Cdtr",
    "Pty",
    "Nm",
    "UltmtDbtr",
    "UltmtCdtr",
    "DbtrAcct",
    "CdtrAcct",
    "RmtInf",
    "Ustrd",
    "Strd",
    "AddtlRmtInf",
    "CdtrRefInf",
    "Ref",
    "RfrdDocInf",
    "Nb",
    "RtrInf",
    "Rsn",
];

/// The code of a local element name (`OTHER` for names no path of interest contains).
pub(super) fn of(name: &str) -> u8 {
    // Grouped by length so a name is compared with a handful of candidates at most.
    match name.len() {
        2 => match name {
            "Id" => ID,
            "Cd" => CD,
            "Dt" => DT,
            "Tp" => TP,
            "Nm" => NM,
            "Nb" => NB,
            _ => OTHER,
        },
        3 => match name {
            "Rpt" => RPT,
            "Bal" => BAL,
            "Ccy" => CCY,
            "Amt" => AMT,
            "Sts" => STS,
            "Pty" => PTY,
            "Ref" => REF,
            "Rsn" => RSN,
            _ => OTHER,
        },
        4 => match name {
            "Stmt" => STMT,
            "Ntry" => NTRY,
            "Acct" => ACCT,
            "IBAN" => IBAN,
            "Othr" => OTHR,
            "Domn" => DOMN,
            "Fmly" => FMLY,
            "Rcrd" => RCRD,
            "Btch" => BTCH,
            "Refs" => REFS,
            "Dbtr" => DBTR,
            "Cdtr" => CDTR,
            "Strd" => STRD,
            "DtTm" => DT_TM,
            _ => OTHER,
        },
        5 => match name {
            "MsgId" => MSG_ID,
            "Prtry" => PRTRY,
            "Chrgs" => CHRGS,
            "ValDt" => VAL_DT,
            "TxAmt" => TX_AMT,
            "Ustrd" => USTRD,
            _ => OTHER,
        },
        6 => match name {
            "Ntfctn" => NTFCTN,
            "GrpHdr" => GRP_HDR,
            "BkTxCd" => BK_TX_CD,
            "MndtId" => MNDT_ID,
            "RmtInf" => RMT_INF,
            "RtrInf" => RTR_INF,
            "TxDtls" => TX_DTLS,
            _ => OTHER,
        },
        7 => match name {
            "RvslInd" => RVSL_IND,
            "NtryRef" => NTRY_REF,
            "BookgDt" => BOOKG_DT,
            "NbOfTxs" => NB_OF_TXS,
            "AmtDtls" => AMT_DTLS,
            _ => OTHER,
        },
        8 => match name {
            "Document" => DOCUMENT,
            "NtryDtls" => NTRY_DTLS,
            "InstdAmt" => INSTD_AMT,
            "DbtrAcct" => DBTR_ACCT,
            "CdtrAcct" => CDTR_ACCT,
            "LglSeqNb" => LGL_SEQ_NB,
            _ => OTHER,
        },
        9 => match name {
            "CdOrPrtry" => CD_OR_PRTRY,
            "CdtDbtInd" => CDT_DBT_IND,
            "SubFmlyCd" => SUB_FMLY_CD,
            "RltdPties" => RLTD_PTIES,
            "UltmtDbtr" => ULTMT_DBTR,
            "UltmtCdtr" => ULTMT_CDTR,
            _ => OTHER,
        },
        10 => match name {
            "EndToEndId" => END_TO_END_ID,
            "CdtrRefInf" => CDTR_REF_INF,
            "RfrdDocInf" => RFRD_DOC_INF,
            _ => OTHER,
        },
        11 => match name {
            "AcctSvcrRef" => ACCT_SVCR_REF,
            "AddtlRmtInf" => ADDTL_RMT_INF,
            _ => OTHER,
        },
        12 => match name {
            "ElctrncSeqNb" => ELCTRNC_SEQ_NB,
            "AddtlNtryInf" => ADDTL_NTRY_INF,
            _ => OTHER,
        },
        13 => match name {
            "BkToCstmrStmt" => BK_TO_CSTMR_STMT,
            _ => OTHER,
        },
        16 => match name {
            "BkToCstmrAcctRpt" => BK_TO_CSTMR_ACCT_RPT,
            _ => OTHER,
        },
        17 => match name {
            "TtlChrgsAndTaxAmt" => TTL_CHRGS_AND_TAX_AMT,
            _ => OTHER,
        },
        21 => match name {
            "BkToCstmrDbtCdtNtfctn" => BK_TO_CSTMR_DBT_CDT_NTFCTN,
            _ => OTHER,
        },
        _ => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_its_own_code() {
        let mut seen = std::collections::HashSet::new();
        for (i, n) in NAMES.iter().enumerate().skip(1) {
            let c = of(n);
            assert_eq!(usize::from(c), i, "{n}");
            assert!(seen.insert(c), "{n} shares a code");
        }
        assert_eq!(seen.len(), usize::from(RSN));
        assert_eq!(of("ntry"), OTHER);
        assert_eq!(of("Ntry2"), OTHER);
        assert_eq!(of(""), OTHER);
    }
}
