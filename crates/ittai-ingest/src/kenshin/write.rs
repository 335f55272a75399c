//! Writing canonical checkups (with the 健診 questionnaire) as 健診結果情報 documents
//! valid against the MHLW V08 schema (reference/kenshin/xsd_v08/hc08_V08.xsd), and
//! packing them into submission-style zip archives (`<root>/DATA/h….xml`).
//!
//! The document follows the structure of a 2024 submission (header ids and OIDs
//! as summarised in docs/INGEST.md): 報告区分 10,
//! 健診プログラム 020 (広域連合の保健事業), one section 01010 with one flat observation per
//! value. Blood pressure is written as the representative value (その他); a fasting TG or
//! glucose comes with 採血時間 2 (食後10時間以上). Names are not written.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use ittai_model::Sex;

use super::{Field, ITEMS, Item, METHOD_OID, Value};
use ittai_dataset::atomic::{AtomicFile, Visibility};
use ittai_dataset::{Checkup, Questionnaire};

fn ymd(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn first_item(f: Field) -> &'static Item {
    ITEMS
        .iter()
        .find(|i| i.field == f)
        .expect("every field has an item")
}

fn observation(out: &mut String, it: &Item, value: f64) {
    out.push_str("<entry><observation classCode=\"OBS\" moodCode=\"EVN\">");
    out.push_str(&format!(
        "<code code=\"{}\" codeSystem=\"{}\" displayName=\"{}\"/>",
        it.code,
        super::ITEM_OID,
        esc(it.name)
    ));
    match it.value {
        Value::Pq(unit) => out.push_str(&format!(
            "<value xsi:type=\"PQ\" value=\"{value}\" unit=\"{}\"/>",
            esc(unit)
        )),
        Value::Co(oid) => out.push_str(&format!(
            "<value xsi:type=\"CO\" code=\"{}\" codeSystem=\"{oid}\"/>",
            value as u8
        )),
        Value::Cd(oid) => out.push_str(&format!(
            "<value xsi:type=\"CD\" code=\"{}\" codeSystem=\"{oid}\"/>",
            value as u8
        )),
    }
    if let Some(m) = it.method {
        out.push_str(&format!(
            "<methodCode code=\"{m}\" codeSystem=\"{METHOD_OID}\"/>"
        ));
    }
    out.push_str("</observation></entry>\n");
}

/// The identity written into recordTarget.
#[derive(Debug, Clone, Copy)]
pub struct ExamIdentity<'a> {
    /// 保険者番号 (8 digits).
    pub insurer: &'a str,
    /// 被保険者証等番号.
    pub number: &'a str,
    /// 性別 (written as its code, 1 男 / 2 女).
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
}

/// One document for a checkup and, when given, the questionnaire answered at it.
pub fn document(
    id: &ExamIdentity<'_>,
    institution: &str,
    c: &Checkup,
    q: Option<&Questionnaire>,
) -> String {
    let mut body = String::new();
    let mut put = |f: Field, v: Option<f64>| {
        if let Some(v) = v {
            observation(&mut body, first_item(f), v);
        }
    };
    put(Field::Height, c.height_cm);
    put(Field::Weight, c.weight_kg);
    put(Field::Bmi, c.bmi);
    put(Field::Waist, c.waist_cm);
    put(Field::SbpOther, c.sbp);
    put(Field::DbpOther, c.dbp);
    if c.tg.is_some() || c.fasting_glucose.is_some() {
        put(Field::SamplingTime, Some(2.0));
    }
    put(Field::TgFasting, c.tg);
    put(Field::Hdl, c.hdl);
    put(Field::Ldl, c.ldl);
    put(Field::Ast, c.ast);
    put(Field::Alt, c.alt);
    put(Field::Ggt, c.ggt);
    put(Field::Creatinine, c.creatinine);
    put(Field::Egfr, c.egfr);
    put(Field::FastingGlucose, c.fasting_glucose);
    put(Field::Hba1c, c.hba1c);
    put(Field::UrineGlucose, c.urine_glucose.map(f64::from));
    put(Field::UrineProtein, c.urine_protein.map(f64::from));
    let yes_no = |b: Option<bool>| b.map(|b| if b { 1.0 } else { 2.0 });
    put(Field::MedBp, yes_no(c.med_bp));
    put(Field::MedDm, yes_no(c.med_dm));
    put(Field::MedLipid, yes_no(c.med_lipid));
    if let Some(q) = q {
        let answers = [
            q.q01, q.q02, q.q03, q.q04, q.q05, q.q06, q.q07, q.q08, q.q09, q.q10, q.q11, q.q12,
            q.q13, q.q14, q.q15,
        ];
        for (i, a) in answers.iter().enumerate() {
            put(Field::Question(i as u8 + 1), a.map(f64::from));
        }
    }
    let date = ymd(c.exam_date);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:hl7-org:v3 ../XSD/hc08_V08.xsd">
<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
<id nullFlavor="NI"/>
<code code="10" codeSystem="1.2.392.200119.6.1001"/>
<effectiveTime value="{date}"/>
<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
<recordTarget><patientRole>
<id root="{ins_root}" extension="{insurer}"/>
<id root="{num_root}" extension="{number}"/>
<patient><administrativeGenderCode code="{sex}" codeSystem="1.2.392.200119.6.1104"/><birthTime value="{birth}"/></patient>
</patientRole></recordTarget>
<author><time value="{date}"/><assignedAuthor><id nullFlavor="NI"/><representedOrganization><id root="1.2.392.200119.6.102" extension="{institution}"/><name>＊＊健診機関</name></representedOrganization></assignedAuthor></author>
<custodian><assignedCustodian><representedCustodianOrganization><id nullFlavor="NI"/></representedCustodianOrganization></assignedCustodian></custodian>
<documentationOf><serviceEvent><code code="020" codeSystem="1.2.392.200119.6.1002"/><effectiveTime value="{date}"/>
<performer typeCode="PRF"><assignedEntity><id nullFlavor="NI"/><representedOrganization><id root="1.2.392.200119.6.102" extension="{institution}"/><name>＊＊健診機関</name></representedOrganization></assignedEntity></performer>
</serviceEvent></documentationOf>
<component><structuredBody><component><section>
<code code="01010" codeSystem="1.2.392.200119.6.1010" displayName="特定健診検査・問診セクション"/>
<text/>
{body}</section></component></structuredBody></component>
</ClinicalDocument>
"#,
        ins_root = super::INSURER_ROOT,
        num_root = super::NUMBER_ROOT,
        insurer = esc(id.insurer),
        number = esc(id.number),
        sex = id.sex.code_text(),
        birth = ymd(id.birth_date),
    )
}

/// Writes documents into a zip archive at `path` as `<stem>/DATA/h<NNNNNN>.xml` (the
/// submission layout; no index or claims files), atomically and owner-only.
///
/// # Errors
/// I/O or zip errors.
pub fn write_archive(path: &Path, docs: &[String]) -> std::io::Result<()> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "kenshin".into());
    let f = AtomicFile::create(path, Visibility::Private)?;
    let mut z = zip::ZipWriter::new(f);
    let opts: zip::write::SimpleFileOptions = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (i, d) in docs.iter().enumerate() {
        z.start_file(format!("{stem}/DATA/h{:06}.xml", i + 1), opts)
            .map_err(std::io::Error::other)?;
        z.write_all(d.as_bytes())?;
    }
    let f = z.finish().map_err(std::io::Error::other)?;
    f.commit()
}
