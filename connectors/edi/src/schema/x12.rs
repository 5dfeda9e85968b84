//! X12 tables (4010 and 5010 read alike for the segments used here): the structures of 850,
//! 855, 860, 865 (change request and its acknowledgment), 843 (the quote ordo sends), 856, 810, 820 (trimmed to its remittance loops), 997 and 999 following the X12 set tables, trimmed of rarely used loops, and
//! element definitions of the segments ordo reads or writes, from the X12 element dictionary.

/// Set id → structure (the segments between ST and SE).
pub const SETS: &[(&str, &str)] = &[
    (
        "850",
        "BEG 1 1; CUR 0 1; REF 0 99999; PER 0 3; TAX 0 99999; FOB 0 99999; CTP 0 99999; PAM 0 10; \
         CSH 0 5; TC2 0 99999; [SAC 0 25: CUR 0 1]; ITD 0 99999; DIS 0 20; INC 0 1; DTM 0 10; \
         LDT 0 12; LIN 0 5; SI 0 99999; PID 0 200; MEA 0 40; PWK 0 25; PKG 0 200; TD1 0 2; TD5 0 12; \
         TD3 0 12; TD4 0 5; MAN 0 10; PCT 0 99999; CTB 0 5; TXI 0 99999; \
         [AMT 0 99999: REF 0 99999; DTM 0 1; PCT 0 99999]; [N9 0 1000: DTM 0 99999; MSG 0 1000]; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 99999; NX2 0 99999; REF 0 12; PER 0 99999; SI 0 99999; \
         FOB 0 1; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 200]; [ADV 0 99999: DTM 0 99999; MTX 0 99999]; \
         [PO1 1 100000: LIN 0 99999; SI 0 99999; CUR 0 1; CN1 0 1; PO3 0 25; [CTP 0 99999: CUR 0 1]; \
         PAM 0 10; MEA 0 40; [PID 0 1000: MEA 0 10]; PWK 0 25; PO4 0 99999; REF 0 99999; PER 0 3; \
         [SAC 0 25: CUR 0 1; CTP 0 1]; IT8 0 1; CSH 0 99999; ITD 0 2; DIS 0 20; INC 0 1; TAX 0 99999; \
         FOB 0 99999; SDQ 0 500; IT3 0 5; DTM 0 10; TC2 0 99999; TD1 0 1; TD5 0 12; TD3 0 12; TD4 0 5; \
         PCT 0 99999; MAN 0 10; MSG 0 99999; SPI 0 99999; TXI 0 99999; CTB 0 99999; \
         [QTY 0 99999: SI 0 99999]; [SCH 0 200: TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; REF 0 99999]; \
         [PKG 0 200: MEA 0 99999]; [N9 0 1000: DTM 0 99999; MEA 0 40; MSG 0 1000]; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 1; QTY 0 99999; NX2 0 99999; REF 0 12; PER 0 3; SI 0 99999; \
         DTM 0 1; FOB 0 1; SCH 0 200; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 200]; \
         [SLN 0 1000: MSG 0 99999; SI 0 99999; PID 0 1000; PO3 0 104; TC2 0 99999; ADV 0 99999; \
         DTM 0 10; CTP 0 25; PAM 0 10; PO4 0 1; TAX 0 3; [N9 0 99999: DTM 0 99999; MSG 0 99999]; \
         [SAC 0 25: CUR 0 1; CTP 0 1]; [QTY 0 99999: SI 0 99999]; [N1 0 10: N2 0 2; N3 0 2; N4 0 1; \
         NX2 0 99999; REF 0 12; PER 0 3; SI 0 99999]]; [AMT 0 99999: REF 0 1; PCT 0 99999]]; \
         [CTT 0 1: AMT 0 1]",
    ),
    (
        "855",
        "BAK 1 1; CUR 0 1; REF 0 99999; PER 0 3; TAX 0 99999; FOB 0 99999; CTP 0 99999; PAM 0 10; \
         CSH 0 1; [SAC 0 25: CUR 0 1]; ITD 0 5; DIS 0 20; INC 0 1; DTM 0 10; LDT 0 12; LIN 0 5; \
         SI 0 99999; PID 0 200; MEA 0 40; PWK 0 25; PKG 0 25; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; \
         MAN 0 10; TXI 0 99999; CTB 0 99999; [N9 0 1000: DTM 0 99999; MSG 0 1000]; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 1; NX2 0 99999; REF 0 12; PER 0 99999; SI 0 99999; FOB 0 1; \
         TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 25; MSG 0 99999]; \
         [PO1 0 100000: LIN 0 99999; SI 0 99999; CUR 0 1; PO3 0 25; CTP 0 99999; PAM 0 10; MEA 0 40; \
         [PID 0 1000: MEA 0 10]; PWK 0 25; PO4 0 99999; REF 0 99999; PER 0 3; [SAC 0 25: CUR 0 1]; \
         IT8 0 1; CSH 0 99999; ITD 0 2; DIS 0 20; INC 0 1; TAX 0 99999; FOB 0 99999; SDQ 0 500; \
         DTM 0 10; LDT 0 12; TD1 0 1; TD5 0 12; TD3 0 12; TD4 0 5; [ACK 0 104: DTM 0 1]; MAN 0 10; \
         AMT 0 1; CTB 0 99999; TXI 0 99999; [QTY 0 99999: SI 0 99999]; [PKG 0 200: MEA 0 99999]; \
         [SCH 0 200: TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; REF 0 99999]; \
         [N9 0 1000: DTM 0 99999; MSG 0 1000]; [N1 0 200: N2 0 2; N3 0 2; N4 0 1; NX2 0 99999; \
         REF 0 12; PER 0 3; SI 0 99999; DTM 0 1; FOB 0 1; SCH 0 200; TD1 0 2; TD5 0 12; TD3 0 12; \
         TD4 0 5; QTY 0 99999; PKG 0 25]]; [CTT 0 1: AMT 0 1]",
    ),
    (
        "860",
        "BCH 1 1; CUR 0 1; REF 0 99999; PER 0 3; TAX 0 99999; FOB 0 99999; CTP 0 99999; CSH 0 1; \
         [SAC 0 25: CUR 0 1]; ITD 0 5; DIS 0 20; INC 0 1; DTM 0 10; LDT 0 12; LIN 0 5; SI 0 99999; \
         PID 0 200; MEA 0 40; PWK 0 25; PKG 0 200; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; MAN 0 10; \
         TXI 0 99999; CTB 0 5; [N9 0 1000: DTM 0 99999; MSG 0 1000; MTX 0 99999]; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 99999; NX2 0 99999; REF 0 12; PER 0 99999; SI 0 99999; \
         FOB 0 1; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 200]; \
         [POC 0 100000: LIN 0 99999; SI 0 99999; CUR 0 1; PO3 0 25; [CTP 0 99999: CUR 0 1]; PAM 0 10; \
         MEA 0 40; [PID 0 1000: MEA 0 10]; PWK 0 25; PO4 0 99999; REF 0 99999; PER 0 3; \
         [SAC 0 25: CUR 0 1; CTP 0 1]; IT8 0 1; CSH 0 99999; ITD 0 2; DIS 0 20; INC 0 1; TAX 0 99999; \
         FOB 0 99999; SDQ 0 500; DTM 0 10; TD1 0 1; TD5 0 12; TD3 0 12; TD4 0 5; PCT 0 99999; \
         MAN 0 10; MSG 0 99999; SPI 0 99999; TXI 0 99999; CTB 0 99999; [QTY 0 99999: SI 0 99999]; \
         [SCH 0 104: TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; REF 0 99999]; \
         [N9 0 1000: DTM 0 99999; MSG 0 1000; MTX 0 99999]; [N1 0 200: N2 0 2; N3 0 2; N4 0 1; QTY 0 99999; \
         NX2 0 99999; REF 0 12; PER 0 3; SI 0 99999; DTM 0 1; FOB 0 1; SCH 0 200; TD1 0 2; TD5 0 12; \
         TD3 0 12; TD4 0 5; PKG 0 200]]; [CTT 0 1: AMT 0 1]",
    ),
    (
        // 843 (response to request for quotation), the quote ordo sends; loops after PO1 that
        // ordo neither writes nor reads (SLN, LDT, CST, N1 of the line) are trimmed.
        "843",
        "BQR 1 1; CUR 0 1; REF 0 99999; PER 0 3; TAX 0 3; FOB 0 99999; CTP 0 99999; PAM 0 10; \
         CSH 0 25; SAC 0 25; ITD 0 5; DIS 0 20; DTM 0 10; LIN 0 5; PID 0 200; MEA 0 40; PWK 0 25; \
         PKG 0 25; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; MAN 0 10; CTB 0 5; CPR 0 2; PCT 0 99999; \
         [N9 0 1000: DTM 0 99999; MSG 0 1000]; [N1 0 10000: N2 0 2; N3 0 2; N4 0 1; REF 0 12; \
         PER 0 99999; SI 0 99999; FOB 0 1; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 25; \
         MSG 0 99999]; [AMT 0 99999: PCT 0 99999]; [PO1 0 100000: LIN 0 99999; CUR 0 1; PO3 0 25; \
         CTP 0 99999; PAM 0 10; MEA 0 40; [PID 0 1000: MEA 0 10]; PWK 0 25; PKG 0 25; PO4 0 99999; \
         REF 0 99999; PER 0 3; SAC 0 25; IT8 0 25; CSH 0 99999; ITD 0 2; DIS 0 20; TAX 0 3; \
         FOB 0 99999; SDQ 0 50; DTM 0 10; FST 0 5; TD1 0 1; TD5 0 12; TD3 0 12; TD4 0 5; MAN 0 10; \
         PCT 0 99999; MSG 0 99999; CTB 0 5; SPI 0 99999; [QTY 0 99999: SI 0 99999]; \
         [N9 0 1000: DTM 0 99999; MSG 0 1000]; [AMT 0 99999: PCT 0 99999]]; [CTT 0 1: AMT 0 1]",
    ),
    (
        "865",
        "BCA 1 1; CUR 0 1; REF 0 99999; PER 0 3; TAX 0 99999; FOB 0 99999; CTP 0 99999; PAM 0 10; \
         CSH 0 1; [SAC 0 25: CUR 0 1]; ITD 0 5; DIS 0 20; INC 0 1; DTM 0 10; LDT 0 12; LIN 0 5; \
         SI 0 99999; PID 0 200; MEA 0 40; PWK 0 25; PKG 0 25; TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; \
         MAN 0 10; TXI 0 99999; CTB 0 99999; [N9 0 1000: DTM 0 99999; MSG 0 1000; MTX 0 99999]; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 1; NX2 0 99999; REF 0 12; PER 0 99999; SI 0 99999; FOB 0 1; \
         TD1 0 2; TD5 0 12; TD3 0 12; TD4 0 5; PKG 0 25]; \
         [POC 0 100000: LIN 0 99999; SI 0 99999; CUR 0 1; PO3 0 25; CTP 0 99999; PAM 0 10; MEA 0 40; \
         [PID 0 1000: MEA 0 10]; PWK 0 25; PO4 0 99999; REF 0 99999; PER 0 3; [SAC 0 25: CUR 0 1]; \
         IT8 0 1; CSH 0 99999; ITD 0 2; DIS 0 20; INC 0 1; TAX 0 99999; FOB 0 99999; SDQ 0 500; \
         DTM 0 10; TD1 0 1; TD5 0 12; TD3 0 12; TD4 0 5; MAN 0 10; TXI 0 99999; CTB 0 99999; \
         [ACK 0 104: DTM 0 1]; [QTY 0 99999: SI 0 99999]; [SCH 0 104: TD1 0 2; TD5 0 12; TD3 0 12; \
         TD4 0 5; REF 0 99999]; [N9 0 1000: DTM 0 99999; MSG 0 1000; MTX 0 99999]; [N1 0 200: N2 0 2; N3 0 2; \
         N4 0 1; NX2 0 99999; REF 0 12; PER 0 3; SI 0 99999; FOB 0 1; SCH 0 200; TD1 0 2; TD5 0 12; \
         TD3 0 12; TD4 0 5; PKG 0 25]]; [CTT 0 1: AMT 0 1]",
    ),
    (
        "856",
        "BSN 1 1; DTM 0 10; [HL 1 200000: LIN 0 1; SN1 0 1; SLN 0 1000; PRF 0 1; PO4 0 1; PID 0 200; \
         MEA 0 40; PWK 0 25; PKG 0 25; TD1 0 20; TD5 0 12; TD3 0 12; TD4 0 5; TSD 0 1; REF 0 99999; \
         PER 0 3; [CLD 0 200: REF 0 200; DTP 0 1]; MAN 0 99999; DTM 0 10; FOB 0 1; PAL 0 1; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 1; REF 0 12; PER 0 3; FOB 0 1]; SDQ 0 50; ETD 0 1; CUR 0 1; \
         [SAC 0 99999: CUR 0 1]; GF 0 1; YNQ 0 10; [LM 0 10: LQ 1 100]; \
         [V1 0 99999: R4 0 99999; DTM 0 99999]]; CTT 0 1",
    ),
    (
        "820",
        "BPR 1 1; NTE 0 99999; TRN 0 1; CUR 0 1; REF 0 99999; DTM 0 99999; \
         [N1 0 99999: N2 0 99999; N3 0 99999; N4 0 1; REF 0 99999; PER 0 99999; RDM 0 1; DTM 0 1]; \
         [ENT 0 99999: [NM1 0 99999: NX2 0 99999; REF 0 99999; R4 0 99999; DTM 0 99999]; \
         [ADX 0 99999: NTE 0 99999; PER 0 99999; DTM 0 1]; [RMR 0 99999: NTE 0 99999; \
         REF 0 99999; DTM 0 99999; [ADX 0 99999: NTE 0 99999; PER 0 99999]]]",
    ),
    (
        "810",
        "BIG 1 1; NTE 0 100; CUR 0 1; REF 0 12; YNQ 0 10; PER 0 3; \
         [N1 0 200: N2 0 2; N3 0 2; N4 0 1; REF 0 12; PER 0 3; DMG 0 1]; ITD 0 99999; DTM 0 10; \
         FOB 0 1; PID 0 200; MEA 0 40; PWK 0 25; PKG 0 25; L7 0 1; BAL 0 99999; INC 0 1; PAM 0 99999; \
         [N9 0 1: MSG 1 10]; [IT1 0 200000: CRC 0 1; QTY 0 5; CUR 0 1; IT3 0 5; TXI 0 10; CTP 0 25; \
         PAM 0 10; MEA 0 40; [PID 0 1000: MEA 0 10]; PWK 0 25; PKG 0 25; PO4 0 1; ITD 0 2; \
         REF 0 99999; YNQ 0 10; PER 0 5; SDQ 0 500; DTM 0 10; CAD 0 99999; L7 0 99999; SR 0 1; \
         [SAC 0 25: TXI 0 10]; [SLN 0 1000: DTM 0 1; REF 0 99999; PID 0 1000; SAC 0 25; TC2 0 2; \
         TXI 0 10]; [N1 0 200: N2 0 2; N3 0 2; N4 0 1; REF 0 12; PER 0 3; DMG 0 1]]; TDS 1 1; \
         TXI 0 10; CAD 0 1; AMT 0 99999; [SAC 0 25: TXI 0 10]; [ISS 0 99999: PID 0 1]; CTT 0 1",
    ),
    (
        "997",
        "AK1 1 1; [AK2 0 999999: [AK3 0 999999: AK4 0 99]; AK5 1 1]; AK9 1 1",
    ),
    (
        "999",
        "AK1 1 1; [AK2 0 999999: [IK3 0 999999: CTX 0 10; [IK4 0 99: CTX 0 10]]; IK5 1 1]; AK9 1 1",
    ),
];

/// Segment tag → elements.
pub const SEGMENTS: &[(&str, &str)] = &[
    (
        "BEG",
        "M ID 2/2=00,01,02,03,04,05,06,07,08,10,11,12,13,14,15,16,17,18,19,20,22,24,25,26,27,28,30,31,33,35,36,37,38,39,41,42,44,45,46,48,49,CN,CO,EX,RH,SU; M ID 2/2; M AN 1/22; O AN 1/30; M DT 8/8; O AN 1/30; O ID 2/2; O ID 3/3; O ID 2/2; O ID 2/2; O ID 2/2; O ID 2/2",
    ),
    ("CUR", "M ID 2/3; M ID 3/3; O R 4/10"),
    ("REF", "M ID 2/3; O AN 1/80; O AN 1/80"),
    (
        "PER",
        "M ID 2/2; O AN 1/60; O ID 2/2; O AN 1/80; O ID 2/2; O AN 1/80; O ID 2/2; O AN 1/80; O AN 1/20",
    ),
    (
        "DTM",
        "M ID 3/3; O DT 8/8; O TM 4/8; O ID 2/2; O ID 2/3; O AN 1/35",
    ),
    (
        "N1",
        "M ID 2/3; O AN 1/60; O ID 1/2; O AN 2/80; O ID 2/2; O ID 2/3",
    ),
    ("N2", "M AN 1/60; O AN 1/60"),
    ("N3", "M AN 1/55; O AN 1/55"),
    (
        "N4",
        "O AN 2/30; O ID 2/2; O ID 3/15; O ID 2/3; O ID 1/2; O AN 1/30",
    ),
    (
        "PO1",
        "O AN 1/20; O R 1/15; O ID 2/2; O R 1/17; O ID 2/2; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48",
    ),
    (
        "PID",
        "M ID 1/1=F,S,X; O ID 2/3; O ID 2/2; O AN 1/12; O AN 1/80; O ID 2/2; O AN 1/15; O ID 1/1; O ID 2/3",
    ),
    (
        "CTT",
        "M N0 1/6; O R 1/10; O R 1/10; O ID 2/2; O R 1/8; O ID 2/2; O AN 1/80",
    ),
    ("AMT", "M ID 1/3; M R 1/18; O ID 1/1"),
    (
        "BQR",
        "M ID 2/2; M AN 1/45; M DT 8/8; O ID 3/3; O DT 8/8; O ID 2/2; O ID 2/2; O AN 1/8",
    ),
    (
        "BCH",
        "M ID 2/2; M ID 2/2; M AN 1/22; O AN 1/30; O AN 1/8; M DT 8/8; O AN 1/45; O AN 1/30; O DT 8/8; O DT 8/8; O ID 2/2",
    ),
    (
        "BCA",
        "M ID 2/2; M ID 2/2=AC,AD,AE,AK,AP,AT,NA,RD,RJ; M AN 1/22; O AN 1/30; O AN 1/8; M DT 8/8; O AN 1/45; O AN 1/30; O DT 8/8; O DT 8/8",
    ),
    (
        "POC",
        "M AN 1/20; M ID 2/2; O R 1/15; O R 1/9; O C[M ID 2/2|O R 1/15|O R 1/10|O ID 2/2|O R 1/15|O R 1/10|O ID 2/2|O R 1/15|O R 1/10|O ID 2/2|O R 1/15|O R 1/10|O ID 2/2|O R 1/15|O R 1/10]; O R 1/17; O ID 2/2; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48",
    ),
    (
        "N9",
        "M ID 2/3; O AN 1/50; O AN 1/45; O DT 8/8; O TM 4/8; O ID 2/2",
    ),
    (
        "BAK",
        "M ID 2/2; M ID 2/2=AC,AD,AE,AH,AK,AP,AT,NA,RD,RF,RJ,RN,RO,RV,ZZ; M AN 1/22; M DT 8/8; O AN 1/30; O AN 1/45; O AN 1/30; O AN 1/30; O DT 8/8; O ID 2/2",
    ),
    (
        "ACK",
        "M ID 2/2=AC,AR,BP,DR,IA,IB,IC,ID,IE,IF,IH,IP,IQ,IR,IS,IW,R1,R2,R3,R4,SP; O R 1/15; O ID 2/2; O ID 3/3; O DT 8/8; O AN 1/45; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/15; O AN 1/30",
    ),
    (
        "BSN",
        "M ID 2/2; M AN 2/30; M DT 8/8; M TM 4/8; O ID 4/4; O ID 2/2; O ID 3/3",
    ),
    ("HL", "M AN 1/12; O AN 1/12; M ID 1/2; O ID 1/1=0,1"),
    (
        "TD1",
        "O AN 3/5; O N0 1/7; O ID 1/1; O AN 1/30; O AN 1/50; O ID 1/2; O R 1/10; O ID 2/2; O R 1/8; O ID 2/2",
    ),
    (
        "TD5",
        "O ID 1/2; O ID 1/2; O AN 2/80; O ID 1/2; O AN 1/35; O ID 2/2; O ID 1/2; O AN 1/30; O ID 2/2; O ID 2/2; O R 1/4; O ID 2/2; O ID 2/2; O ID 2/2; O ID 2/3",
    ),
    (
        "PRF",
        "M AN 1/22; O AN 1/30; O AN 1/8; O DT 8/8; O AN 1/20; O AN 1/30; O ID 2/2",
    ),
    (
        "MAN",
        "M ID 1/2; M AN 1/48; O AN 1/48; O ID 1/2; O AN 1/48; O AN 1/48",
    ),
    (
        "LIN",
        "O AN 1/20; M ID 2/2; M AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48",
    ),
    (
        "SN1",
        "O AN 1/20; M R 1/10; M ID 2/2; O R 1/15; O R 1/15; O ID 2/2; O ID 1/2; O ID 2/2",
    ),
    (
        "BIG",
        "M DT 8/8; M AN 1/22; O DT 8/8; O AN 1/22; O AN 1/30; O AN 1/8; O ID 2/2; O ID 2/2; O ID 1/2; O AN 1/22",
    ),
    (
        "IT1",
        "O AN 1/20; O R 1/10; O ID 2/2; O R 1/17; O ID 2/2; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48; O ID 2/2; O AN 1/48",
    ),
    ("TDS", "M N2 1/15; O N2 1/15; O N2 1/15; O N2 1/15"),
    (
        "ITD",
        "O ID 2/2; O ID 1/2; O R 1/6; O DT 8/8; O N0 1/3; O DT 8/8; O N0 1/3; O N2 1/10; O DT 8/8; O N2 1/10; O R 1/5; O AN 1/80; O N0 1/2; O ID 1/2; O R 1/10",
    ),
    (
        "ISS",
        "O R 1/10; O ID 2/2; O R 1/10; O ID 2/2; O R 1/8; O ID 2/2; O R 1/15; O R 1/10",
    ),
    (
        "TXI",
        "M ID 2/2; O R 1/18; O R 1/10; O ID 2/2; O AN 1/10; O ID 1/1; O ID 1/1; O R 1/9; O AN 1/20; O AN 1/20",
    ),
    ("MSG", "M AN 1/264; O ID 2/2; O N0 1/9"),
    ("AK1", "M ID 2/2; M N0 1/9; O AN 1/12"),
    ("AK2", "M ID 3/3; M AN 4/9; O AN 1/35"),
    (
        "AK3",
        "M ID 2/3; M N0 1/10; O ID 1/4; O ID 1/3=1,2,3,4,5,6,7,8",
    ),
    (
        "AK4",
        "M C[M N0 1/2|O N0 1/2|O N0 1/4]; O N0 1/4; M ID 1/3=1,2,3,4,5,6,7,8,9,10,12,13; O AN 1/99",
    ),
    (
        "AK5",
        "M ID 1/1=A,E,M,R,W,X; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3",
    ),
    (
        "AK9",
        "M ID 1/1=A,E,M,P,R,W,X; M N0 1/6; M N0 1/6; M N0 1/6; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3",
    ),
    (
        "IK3",
        "M ID 2/3; M N0 1/10; O ID 1/4; O ID 1/3=1,2,3,4,5,6,7,8,I4,I6,I7,I8,I9",
    ),
    (
        "IK4",
        "M C[M N0 1/2|O N0 1/2|O N0 1/4]; O N0 1/4; M ID 1/3=1,2,3,4,5,6,7,8,9,10,12,13,I6,I9,I10,I11,I12,I13; O AN 1/99",
    ),
    (
        "IK5",
        "M ID 1/1=A,E,M,R,W,X; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3; O ID 1/3",
    ),
];

/// Segment ids of the X12 dictionary that the sets above do not use: reported as "not in
/// defined transaction set" (AK304 6) rather than "unrecognized" (1).
pub const OTHER_TAGS: &str = "ISA IEA GS GE ST SE TA1 AAA ACD ADX AIN AT1 AT2 AT3 AT4 AT5 AT6 \
    AT7 AT8 AT9 B1 B2 B3 B4 BCH BCO BEN BFR BGN BHT BIA BPR BPS BQT BRA BSI BSR BSS BTA BTP BX \
    CLM CLP CN1 CR1 CRC DMA DTP EB EQ G1 G62 HI HSD ICH IEA IK3 ISR ITA LX MTX N5 N7 NM1 NTE OID \
    PLA POC PRV Q2 QTY R4 RMR S5 SBR SV1 SV2 SVD TRN UIT W01 W12 W27 X1 X4";
