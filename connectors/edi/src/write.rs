//! Writing interchanges: a caller-built [`Envelope`] (partner ids and qualifiers, version,
//! separators, the control number handed out by the store) around [`Document`]s (the body
//! segments of each transaction set). The writer adds ISA/GS/ST..SE/GE/IEA or
//! UNA/UNB/UNH..UNT/UNZ with correct counts and control numbers, trims trailing empty elements
//! and components, escapes `? ' + :` (and the repetition separator) with the EDIFACT release
//! character, and refuses X12 values that contain a separator (X12 has no escape).

use chrono::NaiveDateTime;

use crate::envelope::PartnerId;
use crate::error::EdiError;
use crate::syntax::{Separators, Standard, Version};

/// One segment to write: tag and elements, each element a list of components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutSegment {
    pub tag: &'static str,
    pub elements: Vec<Vec<String>>,
}

impl OutSegment {
    pub fn new(tag: &'static str) -> Self {
        OutSegment {
            tag,
            elements: Vec::new(),
        }
    }
    /// Appends a simple element.
    pub fn el(mut self, value: impl Into<String>) -> Self {
        self.elements.push(vec![value.into()]);
        self
    }
    /// Appends a composite element.
    pub fn comp<S: Into<String>>(mut self, parts: impl IntoIterator<Item = S>) -> Self {
        self.elements
            .push(parts.into_iter().map(Into::into).collect());
        self
    }
    /// Appends `n` empty elements.
    pub fn skip(mut self, n: usize) -> Self {
        for _ in 0..n {
            self.elements.push(vec![String::new()]);
        }
        self
    }
}

/// One transaction set / message to write: its id (`855`, `ORDRSP`), an optional version
/// (X12: ST03 and GS08, e.g. `005010X231A1`; EDIFACT: S009 after the type, e.g. `D:96A:UN:EAN008`),
/// and its body segments (without ST/SE, UNH/UNT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub set_id: String,
    pub version: Option<String>,
    pub segments: Vec<OutSegment>,
}

/// The envelope of an outbound interchange, built from the partner profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub version: Version,
    pub separators: Separators,
    /// ISA05/06, UNB S002 (id and qualifier, e.g. `ZZ`, `14`).
    pub sender: PartnerId,
    /// ISA07/08, UNB S003.
    pub receiver: PartnerId,
    /// ISA13 / GS06 / UNB 0020, from the store's per-partner counter (1..=999999999 for X12).
    pub control_number: u64,
    pub timestamp: NaiveDateTime,
    /// ISA15 `T` / UNB 0035 `1`.
    pub test: bool,
    /// ISA14 `1` / UNB 0031 `1`.
    pub ack_requested: bool,
    /// GS02/GS03 application codes; the interchange ids when `None`.
    pub app_sender: Option<String>,
    pub app_receiver: Option<String>,
    /// EDIFACT syntax identifier (`UNOC` when empty).
    pub syntax_id: String,
    /// Write a line break after every segment terminator.
    pub newline: bool,
}

impl Envelope {
    /// An envelope with the usual separators of the version's standard.
    pub fn new(
        version: Version,
        sender: PartnerId,
        receiver: PartnerId,
        control_number: u64,
        timestamp: NaiveDateTime,
    ) -> Self {
        let separators = match version.standard() {
            Standard::X12 if version == Version::X12_4010 => Separators {
                repetition: None,
                ..Separators::X12
            },
            Standard::X12 => Separators::X12,
            Standard::Edifact => Separators::EDIFACT,
        };
        Envelope {
            version,
            separators,
            sender,
            receiver,
            control_number,
            timestamp,
            test: false,
            ack_requested: false,
            app_sender: None,
            app_receiver: None,
            syntax_id: String::new(),
            newline: true,
        }
    }
}

/// Writes one interchange holding `docs` (one functional group for X12: all documents must
/// share a GS01 functional id).
pub fn write(env: &Envelope, docs: &[Document]) -> Result<Vec<u8>, EdiError> {
    if docs.is_empty() {
        return Err(werr("interchange", "no documents"));
    }
    match env.version.standard() {
        Standard::X12 => write_x12(env, docs),
        Standard::Edifact => write_edifact(env, docs),
    }
}

fn werr(what: impl Into<String>, reason: impl Into<String>) -> EdiError {
    EdiError::Write {
        what: what.into(),
        reason: reason.into(),
    }
}

struct Out<'e> {
    buf: Vec<u8>,
    seps: Separators,
    newline: bool,
    count: usize,
    _env: &'e Envelope,
}

impl Out<'_> {
    fn value(&mut self, tag: &str, v: &str) -> Result<(), EdiError> {
        let s = self.seps;
        match s.release {
            Some(r) => {
                for b in v.bytes() {
                    if b == r
                        || b == s.element
                        || b == s.component
                        || b == s.segment
                        || Some(b) == s.repetition
                    {
                        self.buf.push(r);
                    }
                    self.buf.push(b);
                }
            }
            None => {
                if let Some(b) = v.bytes().find(|&b| {
                    b == s.element || b == s.component || b == s.segment || Some(b) == s.repetition
                }) {
                    return Err(werr(
                        format!("{tag} value {v:?}"),
                        format!("contains separator {:?}", b as char),
                    ));
                }
                self.buf.extend_from_slice(v.as_bytes());
            }
        }
        Ok(())
    }

    fn segment(&mut self, seg: &OutSegment) -> Result<(), EdiError> {
        self.buf.extend_from_slice(seg.tag.as_bytes());
        let last = seg
            .elements
            .iter()
            .rposition(|e| e.iter().any(|c| !c.is_empty()));
        for el in seg.elements.iter().take(last.map_or(0, |l| l + 1)) {
            self.buf.push(self.seps.element);
            let lastc = el.iter().rposition(|c| !c.is_empty()).map_or(0, |l| l + 1);
            for (j, c) in el.iter().take(lastc).enumerate() {
                if j > 0 {
                    self.buf.push(self.seps.component);
                }
                self.value(seg.tag, c)?;
            }
        }
        self.end();
        Ok(())
    }

    fn end(&mut self) {
        self.buf.push(self.seps.segment);
        if self.newline && self.seps.segment != b'\n' && self.seps.segment != b'\r' {
            self.buf.push(b'\n');
        }
        self.count += 1;
    }
}

fn pad(v: &str, width: usize, what: &str) -> Result<String, EdiError> {
    if v.len() > width {
        return Err(werr(what, format!("{v:?} longer than {width}")));
    }
    Ok(format!("{v:<width$}"))
}

fn write_x12(env: &Envelope, docs: &[Document]) -> Result<Vec<u8>, EdiError> {
    let s = env.separators;
    let fid = crate::envelope::x12_functional_id(&docs[0].set_id).ok_or_else(|| {
        werr(
            format!("set {}", docs[0].set_id),
            "unknown functional group",
        )
    })?;
    if docs
        .iter()
        .any(|d| crate::envelope::x12_functional_id(&d.set_id) != Some(fid))
    {
        return Err(werr("group", "documents of different functional groups"));
    }
    let is5010 = env.version == Version::X12_5010;
    let ts = env.timestamp;
    let isa = isa_header(env)?;
    let mut out = Out {
        buf: Vec::with_capacity(1024),
        seps: s,
        newline: env.newline,
        count: 0,
        _env: env,
    };
    out.buf.extend_from_slice(isa.as_bytes());
    out.end();
    let ctl = env.control_number.to_string();
    let gs08 = docs[0]
        .version
        .clone()
        // absent: a document without its own version is sent in the interchange version.
        .unwrap_or_else(|| if is5010 { "005010" } else { "004010" }.into());
    let gs = OutSegment::new("GS")
        .el(fid)
        .el(env
            // absent: without application ids in the partner profile GS02/GS03 repeat the ISA ids.
            .app_sender
            .clone()
            .unwrap_or_else(|| env.sender.id.clone()))
        .el(env
            .app_receiver
            .clone()
            .unwrap_or_else(|| env.receiver.id.clone()))
        .el(ts.format("%Y%m%d").to_string())
        .el(ts.format("%H%M").to_string())
        .el(ctl.clone())
        .el("X")
        .el(gs08);
    out.segment(&gs)?;
    for (i, d) in docs.iter().enumerate() {
        let st02 = format!("{:04}", i + 1);
        let mut st = OutSegment::new("ST").el(d.set_id.clone()).el(st02.clone());
        if is5010 && let Some(v) = &d.version {
            st = st.el(v.clone());
        }
        let before = out.count;
        out.segment(&st)?;
        for seg in &d.segments {
            out.segment(seg)?;
        }
        let n = out.count - before + 1;
        out.segment(&OutSegment::new("SE").el(n.to_string()).el(st02))?;
    }
    out.segment(&OutSegment::new("GE").el(docs.len().to_string()).el(ctl))?;
    out.segment(
        &OutSegment::new("IEA")
            .el("1")
            .el(format!("{:09}", env.control_number)),
    )?;
    Ok(out.buf)
}

/// The ISA segment (without terminator) of an X12 envelope.
fn isa_header(env: &Envelope) -> Result<String, EdiError> {
    let s = env.separators;
    if env.control_number == 0 || env.control_number > 999_999_999 {
        return Err(werr(
            "ISA13",
            format!("{} outside 1..=999999999", env.control_number),
        ));
    }
    let is5010 = env.version == Version::X12_5010;
    let rep = match (is5010, s.repetition) {
        (true, Some(r)) => r as char,
        (true, None) => return Err(werr("ISA11", "5010 needs a repetition separator")),
        (false, _) => 'U',
    };
    let e = s.element as char;
    let ts = env.timestamp;
    let isa = format!(
        "ISA{e}00{e}{}{e}00{e}{}{e}{}{e}{}{e}{}{e}{}{e}{}{e}{}{e}{rep}{e}{}{e}{:09}{e}{}{e}{}{e}{}",
        " ".repeat(10),
        " ".repeat(10),
        pad(&env.sender.qualifier, 2, "ISA05")?,
        pad(&env.sender.id, 15, "ISA06")?,
        pad(&env.receiver.qualifier, 2, "ISA07")?,
        pad(&env.receiver.id, 15, "ISA08")?,
        ts.format("%y%m%d"),
        ts.format("%H%M"),
        if is5010 { "00501" } else { "00401" },
        env.control_number,
        if env.ack_requested { '1' } else { '0' },
        if env.test { 'T' } else { 'P' },
        s.component as char,
    );
    Ok(isa)
}

/// Writes an X12 interchange holding one TA1 (interchange acknowledgment) and no group:
/// ISA, TA1, IEA with IEA01 = 0.
pub fn write_ta1(env: &Envelope, ta1: &OutSegment) -> Result<Vec<u8>, EdiError> {
    if env.version.standard() != Standard::X12 {
        return Err(werr("TA1", "a TA1 is an X12 interchange"));
    }
    let isa = isa_header(env)?;
    let mut out = Out {
        buf: Vec::with_capacity(256),
        seps: env.separators,
        newline: env.newline,
        count: 0,
        _env: env,
    };
    out.buf.extend_from_slice(isa.as_bytes());
    out.end();
    out.segment(ta1)?;
    out.segment(
        &OutSegment::new("IEA")
            .el("0")
            .el(format!("{:09}", env.control_number)),
    )?;
    Ok(out.buf)
}

fn write_edifact(env: &Envelope, docs: &[Document]) -> Result<Vec<u8>, EdiError> {
    let s = env.separators;
    let rel = s
        .release
        .ok_or_else(|| werr("UNA", "EDIFACT output needs a release character"))?;
    let mut out = Out {
        buf: Vec::with_capacity(1024),
        seps: s,
        newline: env.newline,
        count: 0,
        _env: env,
    };
    out.buf.extend_from_slice(b"UNA");
    out.buf.extend_from_slice(&[
        s.component,
        s.element,
        s.decimal,
        rel,
        // absent: UNA position 5 is a reserved space before syntax version 4.
        s.repetition.unwrap_or(b' '),
        s.segment,
    ]);
    if env.newline {
        out.buf.push(b'\n');
    }
    let ts = env.timestamp;
    let ctl = env.control_number.to_string();
    if ctl.len() > 14 {
        return Err(werr("UNB 0020", "longer than 14"));
    }
    let syntax = if env.syntax_id.is_empty() {
        "UNOC"
    } else {
        env.syntax_id.as_str()
    };
    let unb = OutSegment::new("UNB")
        .comp([syntax, "3"])
        .comp([env.sender.id.as_str(), env.sender.qualifier.as_str()])
        .comp([env.receiver.id.as_str(), env.receiver.qualifier.as_str()])
        .comp([
            ts.format("%y%m%d").to_string(),
            ts.format("%H%M").to_string(),
        ])
        .el(ctl.clone())
        .skip(3)
        .el(if env.ack_requested { "1" } else { "" })
        .el("")
        .el(if env.test { "1" } else { "" });
    out.segment(&unb)?;
    let default_version = match env.version {
        Version::D01B => "D:01B:UN",
        _ => "D:96A:UN",
    };
    for (i, d) in docs.iter().enumerate() {
        let reference = (i + 1).to_string();
        // absent: a document without its own version is sent in the interchange directory.
        let version = d.version.as_deref().unwrap_or(default_version);
        let mut s009 = vec![d.set_id.clone()];
        s009.extend(version.split(':').map(str::to_string));
        let before = out.count;
        out.segment(&OutSegment::new("UNH").el(reference.clone()).comp(s009))?;
        for seg in &d.segments {
            out.segment(seg)?;
        }
        let n = out.count - before + 1;
        out.segment(&OutSegment::new("UNT").el(n.to_string()).el(reference))?;
    }
    out.segment(&OutSegment::new("UNZ").el(docs.len().to_string()).el(ctl))?;
    Ok(out.buf)
}
