//! UN/EDIFACT tables: the structures of ORDERS (and ORDCHG, which has its groups), QUOTES, ORDRSP, DESADV, INVOIC and REMADV following the D.96A
//! message tables (D.01B messages are read with the same tables: the segment groups ordo uses
//! did not move), CONTRL (syntax 3 service message), and element definitions of the segments
//! ordo reads or writes, from the UNTDED / service directories.

/// The body of ORDERS, shared with ORDCHG.
const ORDERS_BODY: &str = "BGM 1 1; DTM 1 35; PAI 0 1; ALI 0 5; IMD 0 1; FTX 0 99; [RFF 0 10: DTM 0 5]; \
         [NAD 0 99: LOC 0 25; FII 0 5; [RFF 0 10: DTM 0 5]; [DOC 0 5: DTM 0 5]; [CTA 0 5: COM 0 5]]; \
         [TAX 0 5: MOA 0 1; LOC 0 5]; [CUX 0 5: PCD 0 5; DTM 0 5]; [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; \
         [TDT 0 10: [LOC 0 10: DTM 0 5]]; [TOD 0 5: LOC 0 2]; [PAC 0 10: MEA 0 5; [PCI 0 5: RFF 0 1; \
         DTM 0 5; GIN 0 10]]; [EQD 0 10: HAN 0 5; MEA 0 5; FTX 0 5]; [SCC 0 10: FTX 0 5; RFF 0 5; \
         [QTY 0 10: DTM 0 5]]; [APR 0 25: DTM 0 5; RNG 0 1]; [ALC 0 15: ALI 0 5; DTM 0 5; \
         [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; [RTE 0 1: RNG 0 1]; [TAX 0 5: MOA 0 1]]; \
         [RCS 0 100: RFF 0 5; DTM 0 5; FTX 0 5]; [LIN 0 200000: PIA 0 25; IMD 0 99; MEA 0 5; QTY 0 10; \
         PCD 0 5; ALI 0 5; DTM 0 35; MOA 0 10; GIN 0 1000; GIR 0 1000; QVR 0 1; DOC 0 5; PAI 0 1; \
         FTX 0 99; [CCI 0 999: CAV 0 10; MEA 0 10]; [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; \
         [PRI 0 25: CUX 0 1; APR 0 1; RNG 0 1; DTM 0 5]; [RFF 0 10: DTM 0 5]; [PAC 0 10: MEA 0 5; \
         QTY 0 5; DTM 0 5; [RFF 0 1: DTM 0 5]; [PCI 0 5: RFF 0 1; DTM 0 5; GIN 0 10]]; \
         [LOC 0 9999: QTY 0 1; DTM 0 5]; [TAX 0 10: MOA 0 1; LOC 0 5]; [NAD 0 99: LOC 0 5; \
         [RFF 0 5: DTM 0 5]; [DOC 0 5: DTM 0 5]; [CTA 0 5: COM 0 5]]; [ALC 0 99: ALI 0 5; DTM 0 5; \
         [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; [RTE 0 1: RNG 0 1]; \
         [TAX 0 5: MOA 0 1]]; [TDT 0 10: [LOC 0 10: DTM 0 5]]; [TOD 0 5: LOC 0 2]; \
         [EQD 0 10: HAN 0 5; MEA 0 5; FTX 0 5]; [SCC 0 100: FTX 0 5; RFF 0 5; [QTY 0 10: DTM 0 5]]; \
         [RCS 0 100: RFF 0 5; DTM 0 5; FTX 0 5]; [STG 0 10: [QTY 0 3: MOA 0 1]]]; UNS 1 1; \
         MOA 0 12; CNT 0 10; [ALC 0 10: ALI 0 1; MOA 1 2]";

/// Message type → structure (the segments between UNH and UNT).
pub const SETS: &[(&str, &str)] = &[
    ("ORDERS", ORDERS_BODY),
    // An ORDCHG has the structure of the ORDERS it changes (D.96A: the same groups).
    ("ORDCHG", ORDERS_BODY),
    (
        // QUOTES (the quote ordo sends), D.96A table trimmed of the groups ordo neither writes
        // nor reads; the currency comes before the parties here, unlike ORDERS.
        "QUOTES",
        "BGM 1 1; DTM 1 35; PAI 0 1; ALI 0 5; IMD 0 1; IRQ 0 10; FTX 0 99; [RFF 0 9999: DTM 0 5]; \
         [AJT 0 1: FTX 0 5]; [TAX 0 5: MOA 0 1; LOC 0 5]; [CUX 0 5: PCD 0 5; DTM 0 5]; \
         [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; [TOD 0 10: LOC 0 2]; [NAD 0 99: LOC 0 25; FII 0 5; \
         [RFF 0 99: DTM 0 5]; [DOC 0 5: DTM 0 1]; [CTA 0 5: COM 0 5]]; [TDT 0 10: [LOC 0 10: DTM 0 5]]; \
         [LIN 1 200000: PIA 0 25; IMD 0 99; MEA 0 5; QTY 0 5; PCD 0 1; ALI 0 5; DTM 0 35; \
         GIN 0 1000; GIR 0 1000; QVR 0 1; FTX 0 99; [MOA 0 100: QTY 0 2; IMD 0 1; CUX 0 1; DTM 0 2]; \
         [AJT 0 1: FTX 0 5]; [PRI 0 99: APR 0 1; RNG 0 1; CUX 0 5; DTM 0 5]; [RFF 0 99: DTM 0 5]; \
         [TAX 0 10: MOA 0 1; LOC 0 5]; [NAD 0 99: LOC 0 5; [RFF 0 5: DTM 0 5]]]; UNS 1 1; MOA 0 15; \
         CNT 0 10; [ALC 0 10: ALI 0 1; MOA 1 1]",
    ),
    (
        "ORDRSP",
        "BGM 1 1; DTM 1 35; PAI 0 1; ALI 0 5; IMD 0 1; FTX 0 99; [RFF 0 10: DTM 0 5]; \
         [AJT 0 1: FTX 0 5]; [NAD 0 99: LOC 0 25; FII 0 5; [RFF 0 10: DTM 0 5]; [DOC 0 5: DTM 0 5]; \
         [CTA 0 5: COM 0 5]]; [TAX 0 5: MOA 0 1; LOC 0 5]; [CUX 0 5: PCD 0 5; DTM 0 5]; \
         [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; [TDT 0 10: [LOC 0 10: DTM 0 5]]; [TOD 0 5: LOC 0 2]; \
         [ALC 0 15: ALI 0 5; DTM 0 5; [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; \
         [RTE 0 1: RNG 0 1]; [TAX 0 5: MOA 0 1]]; [LIN 0 200000: PIA 0 25; IMD 0 99; MEA 0 5; \
         QTY 0 10; PCD 0 5; ALI 0 5; DTM 0 35; MOA 0 10; GIN 0 1000; GIR 0 1000; QVR 0 1; DOC 0 5; \
         PAI 0 1; FTX 0 99; [CCI 0 999: CAV 0 10; MEA 0 10]; [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; \
         [AJT 0 1: FTX 0 5]; [PRI 0 25: CUX 0 1; APR 0 1; RNG 0 1; DTM 0 5]; [RFF 0 999: DTM 0 5]; \
         [PAC 0 10: MEA 0 5; QTY 0 5; DTM 0 5; [RFF 0 1: DTM 0 5]; [PCI 0 5: RFF 0 1; DTM 0 5; GIN 0 99]]; \
         [LOC 0 9999: QTY 0 1; DTM 0 5]; [TAX 0 10: MOA 0 1; LOC 0 5]; [NAD 0 99: LOC 0 5; \
         [RFF 0 5: DTM 0 5]; [DOC 0 5: DTM 0 5]; [CTA 0 5: COM 0 5]]; [ALC 0 99: ALI 0 5; DTM 0 5; \
         [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; [RTE 0 1: RNG 0 1]; \
         [TAX 0 5: MOA 0 1]]; [TDT 0 10: [LOC 0 10: DTM 0 5]]; [TOD 0 5: LOC 0 2]; \
         [SCC 0 100: FTX 0 5; RFF 0 5; [QTY 0 10: DTM 0 5]]]; UNS 1 1; MOA 0 12; CNT 0 10; \
         [ALC 0 10: ALI 0 1; MOA 1 2]",
    ),
    (
        "DESADV",
        "BGM 1 1; DTM 0 10; ALI 0 5; MEA 0 5; MOA 0 5; [RFF 0 10: DTM 0 1]; [NAD 0 10: LOC 0 10; \
         [RFF 0 10: DTM 0 1]; [CTA 0 10: COM 0 5]]; [TOD 0 10: LOC 0 5; FTX 0 5]; [TDT 0 10: PCD 0 6; \
         [LOC 0 10: DTM 0 10]]; [EQD 0 10: MEA 0 5; SEL 0 25; EQA 0 5; [HAN 0 10: FTX 0 10]]; \
         [CPS 0 9999: FTX 0 5; [PAC 0 9999: MEA 0 10; QTY 0 10; [HAN 0 10: FTX 0 10]; \
         [PCI 0 1000: RFF 0 1; DTM 0 5; GIR 0 99; [GIN 0 99: DLM 0 10]]]; [LIN 0 9999: PIA 0 10; \
         IMD 0 25; MEA 0 10; QTY 0 10; ALI 0 10; GIN 0 100; GIR 0 100; DLM 0 100; DTM 0 5; FTX 0 5; \
         MOA 0 5; [RFF 0 10: DTM 0 1]; [DGS 0 10: QTY 0 1; FTX 0 5]; [LOC 0 100: NAD 0 1; DTM 0 1; \
         QTY 0 10]; [SGP 0 1000: QTY 0 10]; [PCI 0 9999: DTM 0 5; MEA 0 10; QTY 0 1; \
         [GIN 0 10: DLM 0 100]; [HAN 0 10: FTX 0 5; GIN 0 1000]]; [QVR 0 10: DTM 0 5]]]; CNT 0 5",
    ),
    (
        "INVOIC",
        "BGM 1 1; DTM 1 35; PAI 0 1; ALI 0 5; IMD 0 1; FTX 0 10; [RFF 0 99: DTM 0 5]; \
         [NAD 0 99: LOC 0 25; FII 0 5; [RFF 0 9999: DTM 0 5]; [DOC 0 5: DTM 0 5]; [CTA 0 5: COM 0 5]]; \
         [TAX 0 5: MOA 0 1; LOC 0 5]; [CUX 0 5: DTM 0 5]; [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1; \
         PAI 0 1; FII 0 1]; [TDT 0 10: [LOC 0 10: DTM 0 5]; [RFF 0 9999: DTM 0 5]]; [TOD 0 5: LOC 0 2]; \
         [PAC 0 1000: MEA 0 5; [PCI 0 5: RFF 0 1; DTM 0 5; GIN 0 5]]; [ALC 0 9999: ALI 0 5; \
         [RFF 0 5: DTM 0 5]; [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; \
         [RTE 0 1: RNG 0 1]; [TAX 0 5: MOA 0 1]]; [RCS 0 100: RFF 0 5; DTM 0 5; FTX 0 5]; \
         [AJT 0 1: FTX 0 5]; [INP 0 1: FTX 0 5]; [LIN 0 9999999: PIA 0 25; IMD 0 10; MEA 0 5; \
         QTY 0 5; PCD 0 1; ALI 0 5; DTM 0 35; GIN 0 1000; GIR 0 1000; QVR 0 1; EQD 0 1; FTX 0 5; \
         [MOA 0 5: CUX 0 1]; [PAT 0 10: DTM 0 5; PCD 0 1; MOA 0 1]; [PRI 0 25: APR 0 1; RNG 0 1; \
         DTM 0 5]; [RFF 0 10: DTM 0 5]; [PAC 0 10: MEA 0 10; [PCI 0 10: RFF 0 1; DTM 0 5; GIN 0 10]]; \
         [LOC 0 9999: QTY 0 100; DTM 0 5]; [TAX 0 99: MOA 0 1; LOC 0 5]; [NAD 0 20: LOC 0 5; \
         [RFF 0 5: DTM 0 5]; [DOC 0 5: DTM 0 5]; [CTA 0 5: COM 0 5]]; [ALC 0 15: ALI 0 5; DTM 0 5; \
         [QTY 0 1: RNG 0 1]; [PCD 0 1: RNG 0 1]; [MOA 0 2: RNG 0 1]; [RTE 0 1: RNG 0 1]; \
         [TAX 0 5: MOA 0 1]]; [TDT 0 10: [LOC 0 10: DTM 0 5]]; [TOD 0 5: LOC 0 2]; \
         [RCS 0 100: RFF 0 5; DTM 0 5; FTX 0 5]]; UNS 1 1; CNT 0 10; [MOA 1 100: [RFF 0 1: DTM 0 5]]; \
         [TAX 0 10: MOA 0 2]; [ALC 0 15: ALI 0 1; MOA 0 2]",
    ),
    (
        "REMADV",
        "BGM 1 1; DTM 1 5; [RFF 0 5: DTM 0 5]; [FII 0 5: CTA 0 1; COM 0 5]; \
         [NAD 0 10: CTA 0 5; COM 0 5]; [CUX 0 9: DTM 0 5]; PAI 0 1; FTX 0 5; \
         [DOC 1 9999: MOA 1 5; DTM 0 5; RFF 0 5; NAD 0 2; [CUX 0 5: DTM 0 5]; \
         [AJT 0 100: MOA 1 1; RFF 0 1; FTX 0 5]; [INP 0 10: FTX 0 5; DTM 0 5]; \
         [DLI 0 1000: MOA 1 5; PIA 0 5; DTM 0 5; [CUX 0 5: DTM 0 5]; \
         [AJT 0 10: MOA 1 1; RFF 0 1; FTX 0 5]; [INP 0 10: FTX 0 5; DTM 0 5]]]; \
         UNS 1 1; MOA 1 1; CNT 0 5; [AUT 0 5: DTM 0 1]",
    ),
    (
        "CONTRL",
        "UCI 1 1; [UCM 0 999999: [UCS 0 999: UCD 0 99]]; \
         [UCF 0 999999: [UCM 0 999999: [UCS 0 999: UCD 0 99]]]",
    ),
];

/// Segment tag → elements (composites as `C[...]`).
pub const SEGMENTS: &[(&str, &str)] = &[
    (
        "BGM",
        "O C[O AN 1/3|O AN 1/3|O AN 1/3|O AN 1/35]; O AN 1/35; O AN 1/3; O AN 1/3",
    ),
    ("DTM", "M C[M AN 1/3|O AN 1/35|O AN 1/3]"),
    (
        "NAD",
        "M AN 1/3; O C[M AN 1/35|O AN 1/3|O AN 1/3]; O C[M AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35]; O C[M AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/3]; O C[M AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35]; O AN 1/35; O AN 1/9; O AN 1/9; O AN 1/3",
    ),
    ("RFF", "M C[M AN 1/3|O AN 1/35|O AN 1/6|O AN 1/35]"),
    (
        "CUX",
        "O C[M AN 1/3|O AN 1/3|O AN 1/3|O N 1/4]; O C[M AN 1/3|O AN 1/3|O AN 1/3|O N 1/4]; O N 1/12; O AN 1/3",
    ),
    (
        "LIN",
        "O N 1/6; O AN 1/3; O C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/3|O N 1/6]; O N 1/2; O AN 1/3",
    ),
    (
        "PIA",
        "M AN 1/3; M C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/35|O AN 1/3|O AN 1/3|O AN 1/3]",
    ),
    (
        "IMD",
        "O AN 1/3; O AN 1/3; O C[O AN 1/17|O AN 1/3|O AN 1/3|O AN 1/35|O AN 1/35|O AN 1/3]; O AN 1/3",
    ),
    ("QTY", "M C[M AN 1/3|M N 1/15|O AN 1/3]"),
    (
        "PRI",
        "O C[M AN 1/3|O N 1/15|O AN 1/3|O AN 1/3|O N 1/9|O AN 1/3]; O AN 1/3",
    ),
    ("UNS", "M AN 1/1=D,S"),
    ("CNT", "M C[M AN 1/3|M N 1/18|O AN 1/3]"),
    ("MOA", "M C[M AN 1/3|O N 1/18|O AN 1/3|O AN 1/3|O AN 1/3]"),
    (
        "TAX",
        "M AN 1/3; O C[O AN 1/3|O AN 1/3|O AN 1/3|O AN 1/35]; O C[M AN 1/6|O AN 1/3|O AN 1/3]; O AN 1/15; O C[O AN 1/7|O AN 1/3|O AN 1/3|O AN 1/17|O AN 1/12|O AN 1/3|O AN 1/3]; O AN 1/3; O AN 1/20",
    ),
    (
        "PAT",
        "M AN 1/3; O C[M AN 1/17|O AN 1/3|O AN 1/3|O AN 1/35|O AN 1/35]; O C[M AN 1/3|O AN 1/3|O AN 1/3|O N 1/3]",
    ),
    (
        "TDT",
        "M AN 1/3; O AN 1/17; O C[O AN 1/3|O AN 1/17]; O C[O AN 1/8|O AN 1/17]; O C[O AN 1/17|O AN 1/3|O AN 1/3|O AN 1/35]; O AN 1/3; O C[M AN 1/3|M AN 1/3|O AN 1/17]; O C[O AN 1/9|O AN 1/3|O AN 1/3|O AN 1/35|O AN 1/3]; O AN 1/3",
    ),
    ("CPS", "M AN 1/12; O AN 1/12; O AN 1/3"),
    (
        "PAC",
        "O N 1/8; O C[O AN 1/3|O AN 1/3|O AN 1/3]; O C[O AN 1/17|O AN 1/3|O AN 1/3|O AN 1/35]; O C[M AN 1/3|M AN 1/35|O AN 1/3|O AN 1/35|O AN 1/3]; O C[O AN 1/3|O AN 1/3]",
    ),
    (
        "MEA",
        "M AN 1/3; O C[O AN 1/3|O AN 1/17|O AN 1/3]; O C[M AN 1/3|O N 1/18]; O AN 1/3",
    ),
    (
        "GIN",
        "M AN 1/3; M C[M AN 1/35|O AN 1/35]; O C[M AN 1/35|O AN 1/35]; O C[M AN 1/35|O AN 1/35]; O C[M AN 1/35|O AN 1/35]; O C[M AN 1/35|O AN 1/35]",
    ),
    (
        "PCI",
        "O AN 1/3; O C[M AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35|O AN 1/35]; O AN 1/3; O C[M AN 1/3|O AN 1/3|O AN 1/3]",
    ),
    (
        "FTX",
        "M AN 1/3; O AN 1/3; O C[M AN 1/3|O AN 1/3|O AN 1/3]; O C[M AN 1/70|O AN 1/70|O AN 1/70|O AN 1/70|O AN 1/70]; O AN 1/3",
    ),
    ("CTA", "O AN 1/3; O C[O AN 1/17|O AN 1/35]"),
    ("COM", "M C[M AN 1/512|M AN 1/3]"),
    (
        "UCI",
        "M AN 1/14; M C[M AN 1/35|O AN 1/4|O AN 1/14]; M C[M AN 1/35|O AN 1/4|O AN 1/14]; M AN 1/3=4,7,8; O AN 1/3; O AN 1/3; O C[M N 1/3|O N 1/3]",
    ),
    (
        "UCM",
        "M AN 1/14; M C[M AN 1/6|M AN 1/3|M AN 1/3|M AN 1/2|O AN 1/6]; M AN 1/3=4,7; O AN 1/3; O AN 1/3; O C[M N 1/3|O N 1/3]",
    ),
    (
        "UCF",
        "M AN 1/14; M C[M AN 1/35|O AN 1/4]; M C[M AN 1/35|O AN 1/4]; M AN 1/3=4,7; O AN 1/3; O AN 1/3; O C[M N 1/3|O N 1/3]",
    ),
    ("UCS", "M N 1/6; O AN 1/3"),
    ("UCD", "M AN 1/3; M C[M N 1/3|O N 1/3]"),
];

/// Service and data segments of the directories that the messages above do not use.
pub const OTHER_TAGS: &str = "UNA UNB UNZ UNG UNE UNH UNT UNS ADR AGR AJT APR ARD ATT AUT BAS BUS \
    CAV CCI CED CHD CLA CLI CMP COD COT CST DAM DFN DII DIM DLI DLM DMS DOC DRD DSG DSI EDT EFI \
    ELM ELU ELV EMP EQA EQN ERC ERP FCA FII FNS FNT FOR FSQ GDS GEI GID GIR GIS GOR GPO GRU HAN \
    HYN ICD IDE IFD IFT IHC INP INV IRQ LAN LOC MEM MKS MSG MTD NAT NCO NME NUN ODI ODS PAI PAS \
    PCD PDI PER PGI PIT PNA POC PRC PRE PRV PSD PTY PYT QRS QUA QVR RCS REL RJL RNG ROD RSL RTE \
    SAL SCC SCD SEG SEL SEQ SFI SGP SPR SPS STA STC STG STS TCC TDI TEM TMD TMP TOD TPL TRU TSR \
    TVL VLI";
