//! Support records (支援記録) entered in the browser: the form's values checked against the
//! vocabularies of the `interventions` table, and the row appended to the dataset's own
//! file, atomically (a temporary file in the same folder, then a rename).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_dataset::{INTERVENTIONS, Intervention, ParquetTableWriter, RowBatch, read_rows};
use ittai_model::PersonId;
use ittai_model::support::{Approach, Programme, RULE_IDS, Referral, Staff};

/// The values of the support form as entered (kept to show the form again after an error).
#[derive(Debug, Clone, Default)]
pub struct SupportForm {
    /// 事業 (code).
    pub programme: String,
    /// The list the person came from (R01 … R10), or empty.
    pub rule_id: String,
    /// 支援方法 (code).
    pub approach: String,
    /// 支援日 (YYYY-MM-DD).
    pub contact_date: String,
    /// 支援できた.
    pub reached: bool,
    /// 医療・介護等の支援が必要と把握.
    pub needs_referral: bool,
    /// つなぎ先 (code), or empty.
    pub referred_to: String,
    /// 従事者 (code), or empty.
    pub staff: String,
}

impl SupportForm {
    /// The form as posted (`name=value` pairs; a checkbox is present only when checked).
    pub fn from_pairs(pairs: &[(String, String)]) -> SupportForm {
        let get = |k: &str| {
            pairs
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let on = |k: &str| {
            pairs
                .iter()
                .any(|(n, v)| n == k && !v.is_empty() && v != "false")
        };
        SupportForm {
            programme: get("programme"),
            rule_id: get("rule_id"),
            approach: get("approach"),
            contact_date: get("contact_date"),
            reached: on("reached"),
            needs_referral: on("needs_referral"),
            referred_to: get("referred_to"),
            staff: get("staff"),
        }
    }

    /// An empty form for `today`, programme and rule preset from the person's first rule
    /// met (when known).
    pub fn blank(today: NaiveDate, rule: Option<&str>) -> SupportForm {
        SupportForm {
            programme: rule
                .and_then(Programme::for_rule)
                .map(|p| p.code().to_string())
                .unwrap_or_default(),
            rule_id: rule.unwrap_or_default().to_string(),
            contact_date: today.format("%Y-%m-%d").to_string(),
            reached: true,
            ..SupportForm::default()
        }
    }

    /// The row to store, or the problems in Japanese (one per field). `existing` are the
    /// person's records: a contact with the same programme, approach and date is the same
    /// contact and is refused (the validator would reject it as `duplicate_contact`).
    pub fn to_row(
        &self,
        person_id: &str,
        today: NaiveDate,
        existing: &[Intervention],
    ) -> Result<Intervention, Vec<(&'static str, String)>> {
        let mut errors: Vec<(&'static str, String)> = Vec::new();
        let programme = Programme::parse(&self.programme);
        if programme.is_none() {
            errors.push(("programme", "事業を選んでください。".into()));
        }
        let rule_id = if self.rule_id.is_empty() {
            None
        } else {
            match RULE_IDS
                .iter()
                .find(|(id, _)| id.eq_ignore_ascii_case(&self.rule_id))
            {
                Some((id, _)) => Some(id.to_string()),
                None => {
                    errors.push(("rule_id", "抽出条件（R01〜R10）を選んでください。".into()));
                    None
                }
            }
        };
        let approach = Approach::parse(&self.approach);
        if approach.is_none() {
            errors.push(("approach", "支援方法を選んでください。".into()));
        }
        let date = NaiveDate::parse_from_str(&self.contact_date, "%Y-%m-%d").ok();
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        match date {
            None => errors.push((
                "contact_date",
                "支援日を入力してください（例 2025-06-10）。".into(),
            )),
            Some(d) if d > today => {
                errors.push(("contact_date", "支援日が今日より後になっています。".into()))
            }
            Some(d) if d < earliest => errors.push(("contact_date", "支援日が古すぎます。".into())),
            Some(_) => {}
        }
        let referred_to = optional(&self.referred_to, Referral::parse, |r| r.code());
        if referred_to.is_err() {
            errors.push(("referred_to", "つなぎ先を一覧から選んでください。".into()));
        }
        let staff = optional(&self.staff, Staff::parse, |s| s.code());
        if staff.is_err() {
            errors.push(("staff", "従事者を一覧から選んでください。".into()));
        }
        let (Some(programme), Some(approach), Some(date), Ok(referred_to), Ok(staff)) =
            (programme, approach, date, referred_to, staff)
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let duplicate = existing.iter().any(|r| {
            r.programme == programme.code()
                && r.approach == approach.code()
                && r.contact_date == date
        });
        if duplicate {
            return Err(vec![(
                "contact_date",
                "同じ日・同じ事業・同じ支援方法の記録がすでにあります（1回の支援は1行です）。"
                    .into(),
            )]);
        }
        Ok(Intervention {
            person_id: PersonId::from(person_id),
            programme: programme.code().to_string(),
            rule_id,
            approach: approach.code().to_string(),
            contact_date: date,
            reached: self.reached,
            needs_referral: Some(self.needs_referral),
            referred_to,
            staff,
        })
    }
}

/// An optional code field: empty → `Ok(None)`, a known code or label → its code, else
/// `Err(())`.
fn optional<T>(
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    code: impl Fn(T) -> &'static str,
) -> Result<Option<String>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    parse(text).map(|v| Some(code(v).to_string())).ok_or(())
}

/// The value of column `name` of a row, as written to a CSV file: codes (not labels), dates
/// as YYYY-MM-DD, true/false; empty for null and for a column the contract does not have.
fn field(row: &Intervention, name: &str) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "person_id" => row.person_id.to_string(),
        "programme" => row.programme.clone(),
        "rule_id" => opt(&row.rule_id),
        "approach" => row.approach.clone(),
        "contact_date" => row.contact_date.format("%Y-%m-%d").to_string(),
        "reached" => row.reached.to_string(),
        "needs_referral" => row
            .needs_referral
            .map(|b| b.to_string())
            .unwrap_or_default(),
        "referred_to" => opt(&row.referred_to),
        "staff" => opt(&row.staff),
        _ => String::new(),
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The header names of a CSV file's first line (BOM, quotes and spaces removed).
fn header_names(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end])
        .trim_end_matches('\r')
        .split(',')
        .map(|h| h.trim().trim_matches('"').trim().to_string())
        .collect()
}

/// Appends `row` to the support records of the dataset in `data` and returns the file
/// written:
///
/// - `interventions.csv` exists: the file is rewritten with one more line, in the order of
///   its own header, its line ending and its encoding (UTF-8, or Shift_JIS when the file
///   is not UTF-8), everything before it kept byte for byte;
/// - else `interventions.parquet` exists: it is read and written again with the row added
///   (owner-only); a file with rows that cannot be read is left alone (an error);
/// - else `interventions.csv` is created: UTF-8 with BOM, the contract's header, codes.
///
/// The caller holds the state's write lock.
///
/// # Errors
/// I/O errors; a CSV header without a contract column; unreadable Parquet rows.
pub fn append(data: &Path, row: &Intervention) -> anyhow::Result<PathBuf> {
    let csv = data.join(format!("{}.csv", INTERVENTIONS.name));
    let parquet = data.join(format!("{}.parquet", INTERVENTIONS.name));
    let contract: Vec<&str> = INTERVENTIONS.columns.iter().map(|c| c.name).collect();
    if csv.is_file() {
        let mut bytes = std::fs::read(&csv)?;
        let header = header_names(&bytes);
        if let Some(missing) = contract.iter().find(|c| !header.iter().any(|h| h == *c)) {
            anyhow::bail!(
                "{}: the header has no column {missing} (見出しに {missing} がありません)",
                csv.display()
            );
        }
        let crlf = {
            let end = bytes.iter().position(|b| *b == b'\n');
            end.is_some_and(|i| i > 0 && bytes[i - 1] == b'\r')
        };
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let line = header
            .iter()
            .map(|h| csv_field(&field(row, h)))
            .collect::<Vec<_>>()
            .join(",");
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.extend_from_slice(eol);
        }
        if line.is_ascii() || std::str::from_utf8(&bytes).is_ok() {
            bytes.extend_from_slice(line.as_bytes());
        } else {
            bytes.extend_from_slice(&ittai_report::to_shift_jis(&line).0);
        }
        bytes.extend_from_slice(eol);
        write_atomic(&csv, &bytes, Visibility::Private)?;
        return Ok(csv);
    }
    if parquet.is_file() {
        let (mut rows, skipped) = read_rows::<Intervention>(data).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            skipped == 0,
            "{}: {skipped} row(s) cannot be read; the file is left as it is (run `ittai validate`)",
            parquet.display()
        );
        rows.push(row.clone());
        let mut batch = RowBatch::for_row::<Intervention>();
        for r in &rows {
            batch.push(r);
        }
        let mut w = ParquetTableWriter::for_table(data, batch.spec(), Visibility::Private)?;
        w.write(&batch.finish())?;
        w.finish()?;
        return Ok(parquet);
    }
    let mut text = String::from("\u{feff}");
    text.push_str(&contract.join(","));
    text.push('\n');
    let line = contract
        .iter()
        .map(|h| csv_field(&field(row, h)))
        .collect::<Vec<_>>()
        .join(",");
    text.push_str(&line);
    text.push('\n');
    write_atomic(&csv, text.as_bytes(), Visibility::Private)?;
    Ok(csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Intervention {
        Intervention {
            person_id: PersonId::from("P000123"),
            programme: "oral".into(),
            rule_id: Some("R02".into()),
            approach: "visit".into(),
            contact_date: NaiveDate::from_ymd_opt(2025, 6, 10).unwrap(),
            reached: true,
            needs_referral: Some(false),
            referred_to: None,
            staff: Some("dental_hygienist".into()),
        }
    }

    #[test]
    fn a_new_file_has_the_contract_header_and_codes() {
        let dir = tempfile::tempdir().unwrap();
        let p = append(dir.path(), &row()).unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        assert_eq!(
            text,
            "\u{feff}person_id,programme,rule_id,approach,contact_date,reached,needs_referral,referred_to,staff\n\
             P000123,oral,R02,visit,2025-06-10,true,false,,dental_hygienist\n"
        );
    }

    #[test]
    fn an_existing_file_keeps_its_lines_order_and_line_ending() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("interventions.csv");
        let before = "staff,person_id,programme,rule_id,approach,contact_date,reached,needs_referral,referred_to\r\n\
                      保健師,P1,低栄養,R01,訪問,2024-06-10,はい,いいえ,なし";
        std::fs::write(&p, before).unwrap();
        append(dir.path(), &row()).unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        assert_eq!(
            text,
            format!(
                "{before}\r\ndental_hygienist,P000123,oral,R02,visit,2025-06-10,true,false,\r\n"
            )
        );
    }

    #[test]
    fn the_form_is_checked() {
        let today = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let mut f = SupportForm::blank(today, Some("R02"));
        f.approach = "訪問".into();
        let r = f.to_row("P1", today, &[]).unwrap();
        assert_eq!(
            (r.programme.as_str(), r.approach.as_str()),
            ("oral", "visit")
        );
        let dup = f.to_row("P1", today, &[r]).unwrap_err();
        assert_eq!(dup[0].0, "contact_date");
        f.contact_date = "2025-07-02".into();
        f.staff = "医師".into();
        let e = f.to_row("P1", today, &[]).unwrap_err();
        let fields: Vec<_> = e.iter().map(|x| x.0).collect();
        assert_eq!(fields, ["contact_date", "staff"]);
    }
}
