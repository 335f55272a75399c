//! The lists for people, with 市町村名 beside 市町村コード, and with names (`ittai run
//! --register`): the rows of the listed persons a municipality's register has, with 氏名,
//! カナ, 住所 and 電話 after the person id, written to OUT/named/ (docs/reference/privacy.md,
//! re-identification on this machine).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use ittai_dataset::{Cells, Column, Table};
use ittai_ingest::IdKey;
use ittai_ingest::names::{Register, RegisterOptions};

/// Folder of the named lists under `--out`.
pub const NAMED_DIR: &str = "named";

/// What the xlsx sheets of the named lists begin with: the workbook is personal data that
/// names persons (個人情報), and says so on every tab.
pub const SHEET_PREFIX: &str = "個人情報 ";

/// The municipality names of the vendored code list: 全国地方公共団体コード (6 digits) →
/// 市町村名 (`ittai_dataset::reference::municipalities`, wards of designated cities
/// included as "札幌市 中央区").
pub fn municipality_names() -> HashMap<String, String> {
    ittai_dataset::reference::municipalities()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect()
}

/// Adds 市町村名 (`municipality`) right after 市町村コード (`municipality_code`) to a table
/// that has that column and not yet a `municipality` one; a code not in the list gives an
/// empty cell. Other tables are left as they are.
pub fn add_municipality_names(t: &mut Table, names: &HashMap<String, String>) {
    if t.columns.iter().any(|c| c.name == "municipality") {
        return;
    }
    let Some(at) = t.columns.iter().position(|c| c.name == "municipality_code") else {
        return;
    };
    let codes = &t.columns[at].cells;
    let cells = Cells::Text(
        (0..codes.len())
            .map(|i| names.get(&codes.text(i)).cloned())
            .collect(),
    );
    t.columns.insert(
        at + 1,
        Column {
            name: "municipality".to_string(),
            header_ja: ittai_model::labels::column_ja("municipality")
                .unwrap_or("市町村名")
                .to_string(),
            cells,
        },
    );
}

/// `cells` at the rows `rows`, in that order.
fn take_rows(cells: &Cells, rows: &[usize]) -> Cells {
    match cells {
        Cells::Text(v) => Cells::Text(rows.iter().map(|&i| v[i].clone()).collect()),
        Cells::Int(v) => Cells::Int(rows.iter().map(|&i| v[i]).collect()),
        Cells::Float(v) => Cells::Float(rows.iter().map(|&i| v[i]).collect()),
        Cells::Date(v) => Cells::Date(rows.iter().map(|&i| v[i]).collect()),
    }
}

/// The named list of a list for people: the rows whose person the register has (in the
/// list's order), with 氏名, カナ, 住所 and 電話 right after the person id; every other
/// column as in the list. The person ids of the rows named are added to `named`.
pub fn named_table(list: &Table, register: &Register, named: &mut HashSet<String>) -> Table {
    let pid = list.columns.iter().position(|c| c.name == "person_id");
    let rows: Vec<usize> = match pid {
        Some(p) => {
            let ids = &list.columns[p].cells;
            (0..list.rows())
                .filter(|&i| register.get(&ids.text(i)).is_some())
                .collect()
        }
        // Without person ids no one can be named.
        None => Vec::new(),
    };
    // 氏名, カナ, 住所, 電話 of each row kept (an empty cell of the register stays empty).
    let mut names: [Vec<Option<String>>; 4] = Default::default();
    if let Some(p) = pid {
        let ids = &list.columns[p].cells;
        for &i in &rows {
            let e = register.get(&ids.text(i));
            let values = e.map(|e| [&e.name, &e.kana, &e.address, &e.phone]);
            for (k, column) in names.iter_mut().enumerate() {
                column.push(values.map(|v| v[k].clone()).filter(|s| !s.is_empty()));
            }
        }
    }
    let mut names = Some(names);
    let add_names = |out: &mut Table, names: &mut Option<[Vec<Option<String>>; 4]>| {
        if let Some(columns) = names.take() {
            let keys = [
                "person_name",
                "person_kana",
                "person_address",
                "person_phone",
            ];
            for (key, cells) in keys.into_iter().zip(columns) {
                out.add(key, Cells::Text(cells));
            }
        }
    };
    let mut out = Table::default();
    if pid.is_none() {
        add_names(&mut out, &mut names);
    }
    for (k, c) in list.columns.iter().enumerate() {
        out.push(&c.name, &c.header_ja, take_rows(&c.cells, &rows));
        if Some(k) == pid {
            add_names(&mut out, &mut names);
        }
    }
    if let Some(p) = pid {
        let ids = &list.columns[p].cells;
        named.extend(rows.iter().map(|&i| ids.text(i)));
    }
    out
}

/// Creates `dir` if missing and makes it readable by the owner only (0700 on Unix), also
/// when it existed with other permissions.
///
/// # Errors
/// I/O errors.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", dir.display()))?;
    }
    Ok(())
}

/// What `--register` and its options ask for.
#[derive(Debug, Clone)]
pub struct RegisterArgs {
    /// The register CSV.
    pub register: PathBuf,
    /// The key used at ingest.
    pub key: PathBuf,
    /// `--municipality`.
    pub municipality: Option<String>,
    /// `--insurer`.
    pub insurer: Option<String>,
}

/// Reads the key and the register, prints the key's warnings and what the register gave
/// (counts, and the first rows left out by line and column, never their values). The key
/// is dropped once the ids are computed.
///
/// # Errors
/// The key or the register cannot be used.
pub fn load_register(a: &RegisterArgs) -> anyhow::Result<Register> {
    let (key, warnings) = IdKey::load(&a.key)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let register = Register::load_with(
        &a.register,
        &key,
        &RegisterOptions {
            municipality: a.municipality.clone(),
            insurer: a.insurer.clone(),
        },
    )?;
    drop(key);
    let c = register.counts();
    let only = register
        .municipality()
        .map(|m| format!(" of municipality {m}"))
        .unwrap_or_default();
    eprintln!(
        "register {}: {} person(s){only} from {} row(s); {} of another municipality skipped, {} left out, {} repeated",
        a.register.display(),
        crate::ui::thousands(c.persons),
        crate::ui::thousands(c.rows),
        crate::ui::thousands(c.other_municipality),
        crate::ui::thousands(c.rejected),
        crate::ui::thousands(c.duplicates),
    );
    for p in register.problems().iter().take(5) {
        eprintln!("  {}, {p}", a.register.display());
    }
    if c.rejected > 5 {
        eprintln!("  … {} more row(s) left out", c.rejected - 5);
    }
    if register.is_empty() {
        eprintln!(
            "warning: no person of the register was kept: the named lists will be empty (check --municipality, --insurer and that --id-key-file is the key used at ingest)"
        );
    }
    Ok(register)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Table {
        let mut t = Table::default();
        t.add(
            "person_id",
            Cells::Text(vec![
                Some("pa".into()),
                Some("pb".into()),
                Some("pc".into()),
            ]),
        );
        t.add(
            "municipality_code",
            Cells::Text(vec![
                Some("312011".into()),
                Some("999999".into()),
                Some("312029".into()),
            ]),
        );
        t.add("age", Cells::Int(vec![Some(80), Some(81), Some(82)]));
        t
    }

    #[test]
    fn named_lists_keep_the_persons_of_the_register_with_their_names() {
        let key = IdKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("key");
        let text = "保険者番号,被保険者番号,氏名,カナ,住所,電話\n\
                    39312012,1,佐藤　花子,サトウ　ハナコ,鳥取県鳥取市栄町1丁目2-3,0000-00-0001\n\
                    39312012,2,鈴木　一郎,,,\n";
        let register = Register::from_bytes(
            Path::new("台帳.csv"),
            text.as_bytes(),
            &key,
            &RegisterOptions::default(),
        )
        .expect("register");
        let (a, b) = (
            key.person_id("39312012", "", "1").to_string(),
            key.person_id("39312012", "", "2").to_string(),
        );
        let mut t = Table::default();
        t.add(
            "person_id",
            Cells::Text(vec![
                Some(b.clone()),
                Some("p-unknown".into()),
                Some(a.clone()),
            ]),
        );
        t.add("age", Cells::Int(vec![Some(90), Some(85), Some(80)]));
        let mut named = HashSet::new();
        let n = named_table(&t, &register, &mut named);
        let cols: Vec<&str> = n.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            cols,
            [
                "person_id",
                "person_name",
                "person_kana",
                "person_address",
                "person_phone",
                "age"
            ]
        );
        let headers: Vec<&str> = n.columns.iter().map(|c| c.header_ja.as_str()).collect();
        assert_eq!(&headers[1..5], ["氏名", "カナ", "住所", "電話"]);
        // The list's order, without the person the register does not have.
        assert_eq!(
            n.columns[0].cells,
            Cells::Text(vec![Some(b.clone()), Some(a.clone())])
        );
        assert_eq!(
            n.columns[1].cells,
            Cells::Text(vec![Some("鈴木　一郎".into()), Some("佐藤　花子".into())])
        );
        assert_eq!(
            n.columns[2].cells,
            Cells::Text(vec![None, Some("サトウ　ハナコ".into())])
        );
        assert_eq!(n.columns[5].cells, Cells::Int(vec![Some(90), Some(80)]));
        assert_eq!(named, HashSet::from([a, b]));
    }

    #[test]
    fn municipality_names_go_right_after_the_code() {
        let mut t = list();
        let names = municipality_names();
        add_municipality_names(&mut t, &names);
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            cols,
            ["person_id", "municipality_code", "municipality", "age"]
        );
        assert_eq!(t.columns[2].header_ja, "市町村名");
        assert_eq!(
            t.columns[2].cells,
            Cells::Text(vec![Some("鳥取市".into()), None, Some("米子市".into())])
        );
        // Once only; a table without codes is left alone.
        add_municipality_names(&mut t, &names);
        assert_eq!(t.columns.len(), 4);
        let mut other = Table::default();
        other.add("age", Cells::Int(vec![Some(1)]));
        add_municipality_names(&mut other, &names);
        assert_eq!(other.columns.len(), 1);
    }
}
