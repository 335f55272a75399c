//! Drug classes (by YJ-code prefix) and disease classes (by ICD-10 prefix), defined as
//! data in `queries/classes/drugs.toml` and `queries/classes/diseases.toml`.
//!
//! The defaults are compiled into the binary; a user may pass their own files. Source of
//! the default lists: docs/reference/dataset.md#drug-classes, docs/reference/dataset.md#disease-classes (see the comments in the TOML files).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The default drug-class file, `queries/classes/drugs.toml`.
pub const DEFAULT_DRUG_CLASSES: &str = include_str!("../../../queries/classes/drugs.toml");
/// The default disease-class file, `queries/classes/diseases.toml`.
pub const DEFAULT_DISEASE_CLASSES: &str = include_str!("../../../queries/classes/diseases.toml");

/// A YJ-code prefix with a human note, written `["2171022", "アムロジピン"]` in TOML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Prefix(pub String, pub String);

/// A named group of extra prefixes a rule may switch on (e.g. `etizolam` for hypnotics).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassOption {
    /// Whether the option is on when the rule does not say.
    pub default: bool,
    /// What switching it on means, in Japanese.
    pub label_ja: String,
    /// Why the option exists.
    #[serde(default)]
    pub note: String,
    /// The extra prefixes.
    pub include: Vec<Prefix>,
}

/// One drug class: the YJ prefixes that define it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrugClass {
    /// Japanese name (睡眠薬 …).
    pub name_ja: String,
    /// English name.
    pub name_en: String,
    /// Document and section the list comes from.
    pub source: String,
    /// Prefixes always included.
    pub include: Vec<Prefix>,
    /// Optional prefix groups by name.
    #[serde(default)]
    pub options: BTreeMap<String, ClassOption>,
}

impl DrugClass {
    /// The prefixes in force when the options named in `enabled` are on (options not
    /// named take their default unless `enabled` names them with `false`).
    pub fn prefixes(&self, enabled: &BTreeMap<String, bool>) -> Vec<String> {
        let mut out: Vec<String> = self.include.iter().map(|p| p.0.clone()).collect();
        for (name, opt) in &self.options {
            if *enabled.get(name).unwrap_or(&opt.default) {
                out.extend(opt.include.iter().map(|p| p.0.clone()));
            }
        }
        out
    }
    /// True when `yj` starts with one of the prefixes in force (see [`DrugClass::prefixes`]).
    pub fn matches(&self, yj: &str, enabled: &BTreeMap<String, bool>) -> bool {
        self.prefixes(enabled)
            .iter()
            .any(|p| yj.starts_with(p.as_str()))
    }
}

/// One disease class: ICD-10 prefixes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiseaseClass {
    /// Japanese name (心不全 …).
    pub name_ja: String,
    /// English name.
    pub name_en: String,
    /// Document and section the list comes from.
    pub source: String,
    /// ICD-10 prefixes without dots ("I50").
    pub icd10: Vec<String>,
}

impl DiseaseClass {
    /// True when `icd10` (no dot) starts with one of the class's prefixes.
    pub fn matches(&self, icd10: &str) -> bool {
        self.icd10.iter().any(|p| icd10.starts_with(p.as_str()))
    }
}

/// Error reading a class file: the TOML error carries line and column.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ClassFileError {
    /// File name or `<built-in …>`.
    pub origin: String,
    /// The parser's message, with line, column and key.
    pub message: String,
}

/// Parses a drug-class file (`drugs.toml` format).
///
/// # Errors
/// [`ClassFileError`] naming `origin` with the line and key of an unknown field, a wrong
/// type or a prefix that is not 3–12 ASCII alphanumerics.
pub fn parse_drug_classes(
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, DrugClass>, ClassFileError> {
    let classes: BTreeMap<String, DrugClass> =
        toml::from_str(text).map_err(|e| ClassFileError {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    for (id, c) in &classes {
        let all = c
            .include
            .iter()
            .chain(c.options.values().flat_map(|o| o.include.iter()));
        for p in all {
            if !(3..=12).contains(&p.0.len()) || !p.0.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ClassFileError {
                    origin: origin.to_string(),
                    message: format!(
                        "class `{id}`: YJ prefix {:?} must be 3–12 letters or digits",
                        p.0
                    ),
                });
            }
        }
    }
    Ok(classes)
}

/// Parses a disease-class file (`diseases.toml` format).
///
/// # Errors
/// [`ClassFileError`] naming `origin` with line and key, or an ICD-10 prefix that does
/// not start with a letter followed by two digits.
pub fn parse_disease_classes(
    text: &str,
    origin: &str,
) -> Result<BTreeMap<String, DiseaseClass>, ClassFileError> {
    let classes: BTreeMap<String, DiseaseClass> =
        toml::from_str(text).map_err(|e| ClassFileError {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    for (id, c) in &classes {
        for p in &c.icd10 {
            let b = p.as_bytes();
            if b.len() < 3
                || !b[0].is_ascii_uppercase()
                || !b[1..3].iter().all(u8::is_ascii_digit)
                || !b.iter().all(u8::is_ascii_alphanumeric)
            {
                return Err(ClassFileError {
                    origin: origin.to_string(),
                    message: format!(
                        "class `{id}`: ICD-10 prefix {p:?} must look like \"I50\" (no dot)"
                    ),
                });
            }
        }
    }
    Ok(classes)
}

/// The built-in drug classes (`queries/classes/drugs.toml`).
pub fn default_drug_classes() -> BTreeMap<String, DrugClass> {
    parse_drug_classes(
        DEFAULT_DRUG_CLASSES,
        "<built-in queries/classes/drugs.toml>",
    )
    .expect("built-in drug classes parse")
}

/// The built-in disease classes (`queries/classes/diseases.toml`).
pub fn default_disease_classes() -> BTreeMap<String, DiseaseClass> {
    parse_disease_classes(
        DEFAULT_DISEASE_CLASSES,
        "<built-in queries/classes/diseases.toml>",
    )
    .expect("built-in disease classes parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_spec_traps() {
        let d = default_drug_classes();
        let off = BTreeMap::new();
        let hyp = &d["hypnotic"];
        // YJ codes of real products (SSK master 2024-03): マイスリー 1129009F1025,
        // ベルソムラ 1190023F1024, デパス 1179025F1026, アムロジン 2171022F1045, ジャヌビア 3969010F1034.
        assert!(hyp.matches("1129009F1025", &off));
        assert!(hyp.matches("1190023F1024", &off));
        assert!(!hyp.matches("1179025F1026", &off));
        let on = BTreeMap::from([("etizolam".to_string(), true)]);
        assert!(hyp.matches("1179025F1026", &on));
        assert!(d["hypertension"].matches("2171022F1045", &off));
        assert!(
            !d["hypertension"].matches("2171010F1020", &off),
            "other 2171 vasodilators are not antihypertensives"
        );
        assert!(d["diabetes"].matches("3969010F1034", &off));
        let dis = default_disease_classes();
        assert!(dis["heart_failure"].matches("I500"));
        assert!(dis["diabetes"].matches("E119"));
        assert!(!dis["diabetes"].matches("E15"));
        assert!(dis["dementia"].matches("G309"));
    }

    #[test]
    fn bad_files_name_line_and_key() {
        let err = parse_drug_classes(
            "[x]\nname_ja = \"a\"\nname_en = \"b\"\nsource = \"c\"\ninclude = []\ncolour = 1\n",
            "my.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("my.toml"), "{err}");
        assert!(err.contains("line 6"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let err = parse_disease_classes(
            "[x]\nname_ja=\"a\"\nname_en=\"b\"\nsource=\"c\"\nicd10=[\"I50.0\"]\n",
            "d.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("I50.0") && err.contains("no dot"), "{err}");
    }
}
