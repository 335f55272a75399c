//! Reading one 健診結果情報 document: the person's insurance ids (raw — pseudonymise at
//! once), sex, birth date, the exam date and the values of [`super::ITEMS`], searched
//! through every observation including those nested in entryRelationship groups.

use chrono::NaiveDate;
use ittai_model::Sex;
use ittai_model::time::parse_yyyymmdd;

use super::{Field, HL7, INSURER_ROOT, Item, NUMBER_ROOT, SYMBOL_ROOT, Value, item_of, max_answer};

/// The values of one exam, by canonical field (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExamValues {
    /// height_cm.
    pub height_cm: Option<f64>,
    /// weight_kg.
    pub weight_kg: Option<f64>,
    /// bmi.
    pub bmi: Option<f64>,
    /// waist_cm.
    pub waist_cm: Option<f64>,
    /// sbp (mmHg), by the blood-pressure rule of the module docs.
    pub sbp: Option<f64>,
    /// dbp (mmHg).
    pub dbp: Option<f64>,
    /// hba1c (%).
    pub hba1c: Option<f64>,
    /// fasting_glucose (mg/dL).
    pub fasting_glucose: Option<f64>,
    /// tg (mg/dL): fasting, else random.
    pub tg: Option<f64>,
    /// hdl.
    pub hdl: Option<f64>,
    /// ldl.
    pub ldl: Option<f64>,
    /// ast.
    pub ast: Option<f64>,
    /// alt.
    pub alt: Option<f64>,
    /// ggt.
    pub ggt: Option<f64>,
    /// creatinine.
    pub creatinine: Option<f64>,
    /// egfr.
    pub egfr: Option<f64>,
    /// urine_protein 1–5.
    pub urine_protein: Option<u8>,
    /// urine_glucose 1–5.
    pub urine_glucose: Option<u8>,
    /// med_bp.
    pub med_bp: Option<bool>,
    /// med_dm.
    pub med_dm: Option<bool>,
    /// med_lipid.
    pub med_lipid: Option<bool>,
    /// q01 … q15 answers.
    pub questions: [Option<u8>; 15],
}

/// One document.
#[derive(Debug, Clone, PartialEq)]
pub struct RawExam {
    /// 保険者番号 (raw).
    pub insurer: String,
    /// 被保険者証等記号 (raw).
    pub symbol: String,
    /// 被保険者証等番号 (raw).
    pub number: String,
    /// 1 男, 2 女.
    pub sex: Option<Sex>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// 健診実施年月日.
    pub exam_date: NaiveDate,
    /// Values.
    pub values: ExamValues,
}

/// A problem in a document: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlIssue {
    /// 1-based line.
    pub line: u64,
    /// Element or item code.
    pub record: String,
    /// What is wrong (no personal values).
    pub detail: String,
}

/// Why a document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocError {
    /// Not well-formed XML (line and message).
    NotXml(u64, String),
    /// XML but not a 健診結果 ClinicalDocument.
    NotCheckup(String),
    /// A required part is missing or invalid (line, message).
    Invalid(u64, String),
}

fn hl7<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children().find(|c| {
        c.is_element()
            && c.tag_name().name() == name
            && c.tag_name().namespace().is_none_or(|ns| ns == HL7)
    })
}

fn xsi_type<'a>(n: roxmltree::Node<'a, 'a>) -> Option<&'a str> {
    n.attribute(("http://www.w3.org/2001/XMLSchema-instance", "type"))
        .map(|t| t.rsplit(':').next().unwrap_or(t))
}

/// Parses a document. Values that fail their type are reported in `issues` and left out;
/// the document is still used.
///
/// # Errors
/// [`DocError`] when the text is not XML, not a 健診結果 document, or lacks the exam date.
pub fn parse(text: &str, issues: &mut Vec<XmlIssue>) -> Result<RawExam, DocError> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| DocError::NotXml(e.pos().row as u64, e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ClinicalDocument" || root.tag_name().namespace() != Some(HL7) {
        return Err(DocError::NotCheckup(format!(
            "the root element is {:?}, not an HL7 ClinicalDocument",
            root.tag_name().name()
        )));
    }
    if let Some(code) = hl7(root, "code").and_then(|c| c.attribute("code"))
        && code != "10"
    {
        return Err(DocError::NotCheckup(format!(
            "報告区分 {code}: not 10 (特定健診情報)"
        )));
    }
    let p = patient(root);
    let exam_date = exam_date_of(&doc, root)?;
    let seen = observations(&doc, root, issues);
    Ok(RawExam {
        insurer: p.insurer,
        symbol: p.symbol,
        number: p.number,
        sex: p.sex,
        birth_date: p.birth_date,
        exam_date,
        values: exam_values(&seen),
    })
}

/// The 1-based line of a node.
fn line_of(doc: &roxmltree::Document, n: roxmltree::Node) -> u64 {
    doc.text_pos_at(n.range().start).row as u64
}

/// The person of a document, as in `recordTarget/patientRole`.
#[derive(Default)]
struct Patient {
    insurer: String,
    symbol: String,
    number: String,
    sex: Option<Sex>,
    birth_date: Option<NaiveDate>,
}

/// Reads `recordTarget/patientRole`: the `id` elements by their root OID (保険者番号,
/// 被保険者証等記号, 被保険者証等番号, each its `extension`), and in `patient` the
/// `administrativeGenderCode` (1 男, 2 女, else none) and `birthTime` (first 8 characters
/// as YYYYMMDD, else none). Missing parts are left empty.
fn patient(root: roxmltree::Node) -> Patient {
    let mut p = Patient::default();
    if let Some(pr) = hl7(root, "recordTarget").and_then(|r| hl7(r, "patientRole")) {
        for id in pr
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "id")
        {
            let ext = id.attribute("extension").unwrap_or("").to_string();
            match id.attribute("root") {
                Some(INSURER_ROOT) => p.insurer = ext,
                Some(SYMBOL_ROOT) => p.symbol = ext,
                Some(NUMBER_ROOT) => p.number = ext,
                _ => {}
            }
        }
        if let Some(pt) = hl7(pr, "patient") {
            p.sex = hl7(pt, "administrativeGenderCode")
                .and_then(|g| g.attribute("code"))
                .and_then(Sex::parse);
            p.birth_date = hl7(pt, "birthTime")
                .and_then(|b| b.attribute("value"))
                .and_then(|v| v.get(..8))
                .and_then(|v| parse_yyyymmdd(v).ok());
        }
    }
    p
}

/// The 健診実施年月日 from `documentationOf/serviceEvent/effectiveTime/@value` (first 8
/// characters as YYYYMMDD).
///
/// # Errors
/// [`DocError::Invalid`] when it is missing or not a date.
fn exam_date_of(doc: &roxmltree::Document, root: roxmltree::Node) -> Result<NaiveDate, DocError> {
    let event = hl7(root, "documentationOf").and_then(|d| hl7(d, "serviceEvent"));
    let date_node = event.and_then(|e| hl7(e, "effectiveTime"));
    match date_node.and_then(|t| t.attribute("value")) {
        Some(v) => v
            .get(..8)
            .and_then(|v| parse_yyyymmdd(v).ok())
            .ok_or_else(|| {
                DocError::Invalid(
                    date_node.map(|n| line_of(doc, n)).unwrap_or(1),
                    format!("健診実施年月日 {v:?} is not a date YYYYMMDD"),
                )
            }),
        None => Err(DocError::Invalid(
            line_of(doc, root),
            "no 健診実施年月日 (documentationOf/serviceEvent/effectiveTime)".into(),
        )),
    }
}

/// The values of every `observation` of the document (at any depth) whose code is in
/// [`super::ITEMS`], in document order, keeping the first value of each field. Skipped:
/// `negationInd="true"` (未実施), no `value`, or a `nullFlavor` value (測定不能); values
/// that fail their type go to `issues` (see [`observation_value`]).
fn observations(
    doc: &roxmltree::Document,
    root: roxmltree::Node,
    issues: &mut Vec<XmlIssue>,
) -> Vec<(Field, f64)> {
    let mut seen: Vec<(Field, f64)> = Vec::new();
    for obs in root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "observation")
    {
        let Some(code) = hl7(obs, "code").and_then(|c| c.attribute("code")) else {
            continue;
        };
        let Some(it) = item_of(code) else { continue };
        if obs.attribute("negationInd") == Some("true") {
            continue; // 未実施
        }
        let Some(v) = hl7(obs, "value") else { continue };
        if v.attribute("nullFlavor").is_some() {
            continue; // 測定不能
        }
        let x = observation_value(doc, it, code, v, issues);
        if let Some(x) = x
            && !seen.iter().any(|(f, _)| *f == it.field)
        {
            seen.push((it.field, x));
        }
    }
    seen
}

/// The value of one observation of item `it` (code `code`) from its `value` element `v`:
/// PQ → `@value` as a finite number; CO/CD → `@code` as an answer code 1–max (questions:
/// [`max_answer`]; urine 5; sampling time 4; others 2). Anything else is reported in
/// `issues` with the line of `v` and gives `None`.
fn observation_value(
    doc: &roxmltree::Document,
    it: &Item,
    code: &str,
    v: roxmltree::Node,
    issues: &mut Vec<XmlIssue>,
) -> Option<f64> {
    let bad = |d: String| XmlIssue {
        line: line_of(doc, v),
        record: code.to_string(),
        detail: d,
    };
    match it.value {
        Value::Pq(_) => match v.attribute("value").map(|s| s.trim().parse::<f64>()) {
            Some(Ok(x)) if x.is_finite() => Some(x),
            _ => {
                issues.push(bad(format!(
                    "{} ({}): the value is not a number; left empty",
                    it.name,
                    xsi_type(v).unwrap_or("?")
                )));
                None
            }
        },
        Value::Co(_) | Value::Cd(_) => {
            let c = v.attribute("code").and_then(|c| c.parse::<u8>().ok());
            let max = match it.field {
                Field::Question(q) => max_answer(q),
                Field::UrineProtein | Field::UrineGlucose => 5,
                Field::SamplingTime => 4,
                _ => 2,
            };
            match c {
                Some(c) if (1..=max).contains(&c) => Some(c as f64),
                _ => {
                    issues.push(bad(format!(
                        "{}: answer code {:?} is not 1–{max}; left empty",
                        it.name,
                        v.attribute("code").unwrap_or("")
                    )));
                    None
                }
            }
        }
    }
}

/// The canonical exam values from the first value of each field: blood pressure is the
/// その他 reading, else the mean of readings 1 and 2 (or the one present); TG fasting,
/// else random; medication flags are answer 1 (yes); codes are the answer codes.
fn exam_values(seen: &[(Field, f64)]) -> ExamValues {
    let get = |f: Field| seen.iter().find(|(g, _)| *g == f).map(|(_, x)| *x);
    let bp = |other: Field, a: Field, b: Field| {
        get(other).or_else(|| match (get(a), get(b)) {
            (Some(x), Some(y)) => Some((x + y) / 2.0),
            (x, y) => x.or(y),
        })
    };
    let flag = |f: Field| get(f).map(|x| x == 1.0);
    let code = |f: Field| get(f).map(|x| x as u8);
    let mut questions = [None; 15];
    for (i, q) in questions.iter_mut().enumerate() {
        *q = code(Field::Question(i as u8 + 1));
    }
    ExamValues {
        height_cm: get(Field::Height),
        weight_kg: get(Field::Weight),
        bmi: get(Field::Bmi),
        waist_cm: get(Field::Waist),
        sbp: bp(Field::SbpOther, Field::Sbp1, Field::Sbp2),
        dbp: bp(Field::DbpOther, Field::Dbp1, Field::Dbp2),
        hba1c: get(Field::Hba1c),
        fasting_glucose: get(Field::FastingGlucose),
        tg: get(Field::TgFasting).or_else(|| get(Field::TgRandom)),
        hdl: get(Field::Hdl),
        ldl: get(Field::Ldl),
        ast: get(Field::Ast),
        alt: get(Field::Alt),
        ggt: get(Field::Ggt),
        creatinine: get(Field::Creatinine),
        egfr: get(Field::Egfr),
        urine_protein: code(Field::UrineProtein),
        urine_glucose: code(Field::UrineGlucose),
        med_bp: flag(Field::MedBp),
        med_dm: flag(Field::MedDm),
        med_lipid: flag(Field::MedLipid),
        questions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<code code="10" codeSystem="1.2.392.200119.6.1001"/>
<recordTarget><patientRole><id root="1.2.392.200119.6.101" extension="39312012"/><id root="1.2.392.200119.6.205" extension="00001234"/>
<patient><administrativeGenderCode code="2" codeSystem="1.2.392.200119.6.1104"/><birthTime value="19440601"/></patient></patientRole></recordTarget>
<documentationOf><serviceEvent><code code="020" codeSystem="1.2.392.200119.6.1002"/><effectiveTime value="20240715"/></serviceEvent></documentationOf>
<component><structuredBody><component><section>{body}</section></component></structuredBody></component></ClinicalDocument>"#
        )
    }

    fn obs(code: &str, value: &str) -> String {
        format!(
            r#"<entry><observation classCode="OBS" moodCode="EVN"><code code="{code}"/>{value}</observation></entry>"#
        )
    }

    /// Two readings and no representative value: the mean; a nested creatinine group;
    /// coded answers; an invalid answer code reported and left empty.
    #[test]
    fn values_blood_pressure_and_questionnaire() {
        let body = [
            obs("9A751000000000001", r#"<value xsi:type="PQ" value="162" unit="mm[Hg]"/>"#),
            obs("9A752000000000001", r#"<value xsi:type="PQ" value="157" unit="mm[Hg]"/>"#),
            obs("9A765000000000001", r#"<value xsi:type="PQ" value="88" unit="mm[Hg]"/>"#),
            obs("9A761000000000001", r#"<value xsi:type="PQ" value="100" unit="mm[Hg]"/>"#),
            r#"<entry><observation classCode="OBS" moodCode="EVN"><code nullFlavor="NA"/><entryRelationship typeCode="COMP"><observation classCode="OBS" moodCode="EVN"><code code="3C015000002327101"/><value xsi:type="PQ" value="0.82" unit="mg/dL"/></observation></entryRelationship></observation></entry>"#.to_string(),
            obs("1A010000000191111", r#"<value xsi:type="CO" code="3" codeSystem="1.2.392.200119.6.2102"/>"#),
            obs("9N701000000000011", r#"<value xsi:type="CD" code="1" codeSystem="1.2.392.200119.6.2003"/>"#),
            obs("9N932000000000011", r#"<value xsi:type="CD" code="4" codeSystem="1.2.392.200119.6.19010"/>"#),
            obs("9N943000000000011", r#"<value xsi:type="CD" code="9" codeSystem="1.2.392.200119.6.19120"/>"#),
            obs("3D046000001906202", r#"<value xsi:type="PQ" nullFlavor="NI"/>"#),
        ]
        .join("\n");
        let mut issues = Vec::new();
        let e = parse(&doc(&body), &mut issues).unwrap();
        assert_eq!(
            (e.insurer.as_str(), e.number.as_str(), e.sex),
            ("39312012", "00001234", Some(Sex::Female))
        );
        assert_eq!(e.exam_date, NaiveDate::from_ymd_opt(2024, 7, 15).unwrap());
        // SBP (162 + 157) / 2 = 159.5 (no その他); DBP その他 88 wins over the 1st reading.
        assert_eq!((e.values.sbp, e.values.dbp), (Some(159.5), Some(88.0)));
        assert_eq!(e.values.creatinine, Some(0.82));
        assert_eq!(
            (e.values.urine_protein, e.values.med_bp),
            (Some(3), Some(true))
        );
        assert_eq!(e.values.questions[0], Some(4));
        assert_eq!(e.values.questions[11], None);
        assert_eq!(e.values.hba1c, None);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].detail.contains("answer code \"9\""), "{issues:?}");
    }

    #[test]
    fn not_xml_and_not_a_checkup() {
        let mut i = Vec::new();
        assert!(matches!(
            parse("<a><b></a>", &mut i),
            Err(DocError::NotXml(1, _))
        ));
        assert!(matches!(
            parse("<index xmlns=\"x\"/>", &mut i),
            Err(DocError::NotCheckup(_))
        ));
        let no_date = doc("").replace("<effectiveTime value=\"20240715\"/>", "");
        assert!(matches!(
            parse(&no_date, &mut i),
            Err(DocError::Invalid(_, _))
        ));
    }
}
