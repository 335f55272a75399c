//! The target list as the page shows it: the table of `ittai run` (Japanese labels),
//! filtered by 市町村, 年齢階級, 性別, 要介護度 and 該当ルール数, sorted, one page at a time.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use ittai_dataset::{Cells, Column, Table};

/// Rows per page of the list.
pub const PAGE_ROWS: usize = 1000;

/// The value a filter uses for an empty cell (no certification, …).
pub const NONE_VALUE: &str = "-";

/// The filters of the list page: query name, column, label.
pub const FILTERS: [(&str, &str, &str); 4] = [
    ("f_muni", "municipality_code", "市町村"),
    ("f_age", "age_band", "年齢階級"),
    ("f_sex", "sex", "性別"),
    ("f_care", "care_level", "要介護度"),
];

/// The query name of the 該当ルール数 filter (at least this many rules).
pub const MIN_RULES: &str = "f_n";

/// Position of column `name`.
pub fn col(t: &Table, name: &str) -> Option<usize> {
    t.columns.iter().position(|c| c.name == name)
}

fn pick(cells: &Cells, rows: &[usize]) -> Cells {
    match cells {
        Cells::Text(v) => Cells::Text(rows.iter().map(|&i| v[i].clone()).collect()),
        Cells::Int(v) => Cells::Int(rows.iter().map(|&i| v[i]).collect()),
        Cells::Float(v) => Cells::Float(rows.iter().map(|&i| v[i]).collect()),
        Cells::Date(v) => Cells::Date(rows.iter().map(|&i| v[i]).collect()),
    }
}

/// The table with only `rows`, in that order.
pub fn take(t: &Table, rows: &[usize]) -> Table {
    Table {
        columns: t
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                header_ja: c.header_ja.clone(),
                cells: pick(&c.cells, rows),
            })
            .collect(),
    }
}

/// Compares two rows of a column (empty cells first).
fn compare(cells: &Cells, a: usize, b: usize) -> Ordering {
    match cells {
        Cells::Text(v) => v[a].cmp(&v[b]),
        Cells::Int(v) => v[a].cmp(&v[b]),
        Cells::Float(v) => v[a].partial_cmp(&v[b]).unwrap_or(Ordering::Equal),
        Cells::Date(v) => v[a].cmp(&v[b]),
    }
}

/// Row order by the given (column, descending) keys; rows equal on every key keep their
/// order.
pub fn order(t: &Table, keys: &[(usize, bool)]) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..t.rows()).collect();
    rows.sort_by(|&a, &b| {
        keys.iter()
            .map(|&(c, desc)| {
                let o = compare(&t.columns[c].cells, a, b);
                if desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    rows
}

/// A cell as the filters compare it: its text, or `NONE_VALUE` when empty.
pub fn filter_value(cells: &Cells, i: usize) -> String {
    let s = cells.text(i);
    if s.is_empty() {
        NONE_VALUE.to_string()
    } else {
        s
    }
}

/// The distinct filter values of column `c`, sorted.
pub fn distinct(t: &Table, c: usize) -> Vec<String> {
    let cells = &t.columns[c].cells;
    (0..t.rows())
        .map(|i| filter_value(cells, i))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The rows passing every filter: (column, wanted value) pairs, and a minimum of column
/// `n_rules` when given.
pub fn filtered(
    t: &Table,
    equal: &[(usize, String)],
    min_rules: Option<(usize, i64)>,
) -> Vec<usize> {
    (0..t.rows())
        .filter(|&i| {
            equal
                .iter()
                .all(|(c, want)| filter_value(&t.columns[*c].cells, i) == *want)
        })
        .filter(|&i| match min_rules {
            Some((c, n)) => match &t.columns[c].cells {
                Cells::Int(v) => v[i].unwrap_or(0) >= n,
                other => other.text(i).parse::<i64>().unwrap_or(0) >= n,
            },
            None => true,
        })
        .collect()
}

/// True for a column of numbers (sorted as numbers by app.js too).
pub fn numeric(c: &Column) -> bool {
    matches!(c.cells, Cells::Int(_) | Cells::Float(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::default();
        t.push(
            "person_id",
            "ID",
            Cells::Text(vec![Some("a".into()), Some("b".into()), Some("c".into())]),
        );
        t.push("n_rules", "n", Cells::Int(vec![Some(1), Some(3), Some(2)]));
        t.push(
            "care_level",
            "要介護度",
            Cells::Text(vec![None, Some("要介護1".into()), None]),
        );
        t
    }

    #[test]
    fn rows_are_filtered_and_ordered() {
        let t = table();
        assert_eq!(order(&t, &[(1, true)]), [1, 2, 0]);
        assert_eq!(distinct(&t, 2), [NONE_VALUE, "要介護1"]);
        assert_eq!(filtered(&t, &[(2, NONE_VALUE.into())], None), [0, 2]);
        assert_eq!(filtered(&t, &[], Some((1, 2))), [1, 2]);
        let picked = take(&t, &[2, 0]);
        assert_eq!(picked.columns[0].cells.text(0), "c");
        assert_eq!(picked.rows(), 2);
    }
}
