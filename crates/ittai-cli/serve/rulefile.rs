//! Saving a rule with changed parameters as a rule file: the rule's own text with the
//! `value = …` line of each changed `[params.NAME]` section rewritten, so that its comments,
//! labels, source and condition stay as written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_engine::rules::{LoadOptions, Rule, load_rules, parse_rule};
use ittai_model::classes::{DiseaseClass, DrugClass};

/// A value as TOML writes it (`15`, `8.0`, `"FY"`, `["oral", "as_needed"]`).
///
/// # Errors
/// A value TOML cannot hold (NaN, infinity) or a table.
pub fn toml_repr(v: &toml::Value) -> Result<String, String> {
    Ok(match v {
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) if f.is_finite() => {
            let s = format!("{f:?}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        toml::Value::Float(f) => return Err(format!("{f} cannot be written in a rule file")),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 || c == '\u{7f}' => {
                        out.push_str(&format!("\\u{:04X}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        toml::Value::Array(a) => {
            let items = a.iter().map(toml_repr).collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", items.join(", "))
        }
        other => {
            return Err(format!(
                "a {} cannot be a parameter value here",
                other.type_str()
            ));
        }
    })
}

/// Net `[` minus `]` of a line of TOML, outside strings and comments.
fn bracket_delta(s: &str) -> i32 {
    let (mut depth, mut quote, mut escaped) = (0, None::<char>, false);
    for c in s.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' => break,
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            },
        }
    }
    depth
}

/// The name of a `[params.NAME]` header line, `None` for any other header.
fn params_section(header: &str) -> Option<String> {
    let inner = header.strip_prefix('[')?.split(']').next()?.trim();
    let name = inner.strip_prefix("params.")?.trim();
    Some(name.trim_matches('"').to_string())
}

/// `text` with the value of each parameter in `values` (name → value) replaced: the first
/// `value = …` line of its `[params.NAME]` section (with the lines of a multi-line array)
/// becomes `value = <new value>`. Everything else is kept byte for byte.
///
/// # Errors
/// A parameter with no `value` line in a `[params.NAME]` section, or a value TOML cannot
/// hold.
pub fn with_values(text: &str, values: &BTreeMap<String, toml::Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut section: Option<String> = None;
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut skipping = 0;
    for line in text.split_inclusive('\n') {
        if skipping > 0 {
            skipping += bracket_delta(line);
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            section = params_section(trimmed);
            out.push_str(line);
            continue;
        }
        let rhs = trimmed
            .strip_prefix("value")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('='));
        if let (Some(name), Some(rhs)) = (section.as_deref(), rhs)
            && let Some((key, v)) = values.get_key_value(name)
            && !done.contains(key.as_str())
        {
            let indent = &line[..line.len() - trimmed.len()];
            let eol = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out.push_str(indent);
            out.push_str("value = ");
            out.push_str(&toml_repr(v)?);
            out.push_str(eol);
            skipping = bracket_delta(rhs).max(0);
            done.insert(key.as_str());
            continue;
        }
        out.push_str(line);
    }
    let missing: Vec<&str> = values
        .keys()
        .map(String::as_str)
        .filter(|k| !done.contains(k))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no `value = …` line under [params.{}] in the rule file",
            missing.join("], [params.")
        ));
    }
    Ok(out)
}

/// What `save` wrote.
#[derive(Debug)]
pub struct Saved {
    /// The folder of rule files.
    pub dir: PathBuf,
    /// The rule's file.
    pub file: PathBuf,
    /// Rule files of the other rules written now (they were not in the folder yet).
    pub copied: Vec<PathBuf>,
    /// Other `*.toml` files in the folder, not written by ittai serve (they are read too by
    /// `ittai run --rules`).
    pub others: Vec<PathBuf>,
}

/// Saves `rule` (with its parameters as they are now) as `dir/<id>.toml`, its text being
/// `default`'s text with the changed values. The folder is made a complete rule set: each
/// other rule of `all` whose `<id>.toml` is not there yet is written from its own text (a
/// rule saved there before keeps its changes). The new file is checked by parsing it
/// again, and the folder by loading it as `ittai run --rules DIR` would.
///
/// # Errors
/// A value that cannot be written, a file that does not read back with the values, I/O
/// errors, a folder that does not load.
pub fn save(
    dir: &Path,
    rule: &Rule,
    default: &Rule,
    all: &[Rule],
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> anyhow::Result<Saved> {
    let changed: BTreeMap<String, toml::Value> = rule
        .params
        .iter()
        .filter(|(k, p)| default.params.get(*k).is_none_or(|d| d.value != p.value))
        .map(|(k, p)| (k.clone(), p.value.clone()))
        .collect();
    let text = with_values(&default.text, &changed).map_err(anyhow::Error::msg)?;
    let file = dir.join(format!("{}.toml", rule.id));
    let back = parse_rule(
        &text,
        &file.display().to_string(),
        &BTreeMap::new(),
        drug_classes,
        disease_classes,
    )?;
    for (k, v) in &changed {
        anyhow::ensure!(
            back.params.get(k).is_some_and(|p| p.value == *v),
            "the saved file does not read back with {k} = {v}"
        );
    }
    write_atomic(&file, text.as_bytes(), Visibility::Shared)?;
    let mut copied = Vec::new();
    for other in all.iter().filter(|r| r.id != rule.id) {
        let p = dir.join(format!("{}.toml", other.id));
        if !p.exists() {
            write_atomic(&p, other.text.as_bytes(), Visibility::Shared)?;
            copied.push(p);
        }
    }
    let ours: BTreeSet<String> = all.iter().map(|r| format!("{}.toml", r.id)).collect();
    let mut others: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| !ours.contains(n))
        })
        .collect();
    others.sort();
    let opts = LoadOptions {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    load_rules(&opts, drug_classes, disease_classes)?;
    Ok(Saved {
        dir: dir.to_path_buf(),
        file,
        copied,
        others,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_in_their_sections_only() {
        let text = "id = \"R99\"\n\n[params.threshold]\nvalue = 15  # 剤\nlabel_ja = \"x\"\n\n[params.routes]\nvalue = [\n  \"oral\",\n]\nlabel_ja = \"y\"\n\n[condition]\nvalue = \"$threshold\"\n";
        let values = BTreeMap::from([
            ("threshold".to_string(), toml::Value::Integer(20)),
            (
                "routes".to_string(),
                toml::Value::Array(vec!["oral".into(), "as_needed".into()]),
            ),
        ]);
        let out = with_values(text, &values).unwrap();
        assert_eq!(
            out,
            "id = \"R99\"\n\n[params.threshold]\nvalue = 20\nlabel_ja = \"x\"\n\n[params.routes]\nvalue = [\"oral\", \"as_needed\"]\nlabel_ja = \"y\"\n\n[condition]\nvalue = \"$threshold\"\n"
        );
        let missing = BTreeMap::from([("nope".to_string(), toml::Value::Boolean(true))]);
        assert!(with_values(text, &missing).is_err());
    }

    #[test]
    fn values_are_written_as_toml() {
        assert_eq!(toml_repr(&toml::Value::Float(8.0)).unwrap(), "8.0");
        assert_eq!(toml_repr(&toml::Value::Float(7.5)).unwrap(), "7.5");
        assert_eq!(
            toml_repr(&toml::Value::String("a\"b".into())).unwrap(),
            "\"a\\\"b\""
        );
        assert!(toml_repr(&toml::Value::Float(f64::NAN)).is_err());
    }

    #[test]
    fn a_built_in_rule_saves_and_reads_back() {
        let drugs = ittai_model::classes::default_drug_classes();
        let diseases = ittai_model::classes::default_disease_classes();
        let all = load_rules(&LoadOptions::default(), &drugs, &diseases).unwrap();
        let default = all.iter().find(|r| r.id == "R03").unwrap();
        let set = BTreeMap::from([(
            "R03".to_string(),
            BTreeMap::from([("threshold".to_string(), "20".to_string())]),
        )]);
        let opts = LoadOptions {
            only: vec!["R03".into()],
            set,
            ..Default::default()
        };
        let changed = load_rules(&opts, &drugs, &diseases).unwrap().remove(0);
        let dir = tempfile::tempdir().unwrap();
        let saved = save(dir.path(), &changed, default, &all, &drugs, &diseases).unwrap();
        assert_eq!(saved.copied.len(), all.len() - 1);
        let again = load_rules(
            &LoadOptions {
                dir: Some(dir.path().to_path_buf()),
                only: vec!["R03".into()],
                ..Default::default()
            },
            &drugs,
            &diseases,
        )
        .unwrap();
        assert_eq!(again[0].params["threshold"].value, toml::Value::Integer(20));
    }
}
