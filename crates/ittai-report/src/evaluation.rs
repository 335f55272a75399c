//! Programme evaluation (個別事業の評価) and medical cost by disease group (疾病分類別医療費)
//! as published tables: Japanese headers, municipality names, suppressed cells blank and
//! flagged ※ (docs/reference/evaluation.md#outputs-and-suppression,
//! docs/reference/indicators.md#suppression).
//!
//! The engine marks the rows to suppress (`suppressed`, primary and secondary). The report
//! does not take that on trust: [`evaluation_hidden`] and [`disease_cost_hidden`] hide, on
//! top of the engine's flag, every row that would still print a count of 1–9 persons, and
//! repeat the documented secondary rules, so a row that arrives unsuppressed with 7 persons
//! is blank and marked ※ all the same. The tables here and the HTML report use the same
//! two functions.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use ittai_dataset::{Cells, Table};
use ittai_model::evaluation::{EvalUnit, EvaluationRow, Group, Measure, Period};
use ittai_model::icd10::{DiseaseCostRow, DiseaseGroup};
use ittai_model::indicators::Area;
use ittai_model::labels::column_ja;
use ittai_model::support::Programme;

use crate::indicators::{SUPPRESSED, area_name, small};

/// Header of the `measure` column: the 指標 of the indicator tables.
const MEASURE_HEADER: &str = "指標";
/// Header of the `persons` column of 疾病分類別医療費 (persons with a claim of the group).
const PERSONS_HEADER: &str = "人数";

/// The measures that count municipalities, not persons (union rows): exempt from the
/// small-count check — which municipalities run a programme is public, and a count of
/// 3 municipalities reveals no one. The engine's own `suppressed` still applies.
pub(crate) fn counts_municipalities(m: Measure) -> bool {
    matches!(
        m,
        Measure::MunicipalitiesRunning
            | Measure::MunicipalitiesDentalCheckups
            | Measure::MunicipalitiesQuestionnaireSupport
    )
}

/// Whether a row, as it stands, would print a count of 1–9 persons: its denominator
/// (persons; on difference rows the supported persons compared), its numerator (persons,
/// or the sum a mean is built on) or, for a share, its complement (denominator −
/// numerator). `change` rows are exempt on the numerator only: it is a net sum of −1/0/+1
/// per person (or of differences), not a count of persons, and it follows from the `pre`
/// and `post` rows anyway; their denominator is still checked. Rows that count
/// municipalities ([`counts_municipalities`]) are exempt.
fn evaluation_small(r: &EvaluationRow) -> bool {
    if counts_municipalities(r.measure) {
        return false;
    }
    if r.denominator.is_some_and(small) {
        return true;
    }
    if r.period == Period::Change || r.group == Group::Difference {
        return false;
    }
    if r.numerator.is_some_and(small) {
        return true;
    }
    if r.measure.unit() == EvalUnit::Persons && r.value.is_some_and(small) {
        return true;
    }
    r.measure.unit() == EvalUnit::Percent
        && matches!((r.numerator, r.denominator), (Some(n), Some(d)) if small(d - n))
}

/// The size a secondary suppression picks by: the row's persons (denominator, else
/// numerator); rows with nobody come last.
fn size(r: &EvaluationRow) -> (bool, f64) {
    let x = r.denominator.or(r.numerator).unwrap_or(0.0);
    (x <= 0.0, x)
}

/// Which evaluation rows are blank in every published output, index-aligned with `rows`.
///
/// A row is hidden when
/// 1. the engine suppressed it (`suppressed`), or it would print a count of 1–9 persons
///    (denominator, numerator or the complement of a share; not for the union counts of
///    municipalities);
/// 2. it is the `pre`, `post` or `change` row of a paired measure and another of the three
///    (same FY × programme × area × measure × group) is hidden — change = post − pre on
///    the same persons, so one of them follows from the other two;
/// 3. it is the smallest shown municipality of an FY × programme × measure × group ×
///    period with exactly one hidden municipality (the union minus the others would give
///    the hidden one back; docs/reference/evaluation.md#outputs-and-suppression); 2 and 3
///    repeat until stable;
/// 4. it is a difference row and the supported or the not-supported row it compares is
///    hidden.
///
/// When the engine has already applied the rules, only rule 1's flag matters and the
/// result is its `suppressed` column.
pub fn evaluation_hidden(rows: &[EvaluationRow]) -> Vec<bool> {
    type Triple<'a> = (i32, Option<Programme>, &'a Area, Measure, Group);
    type Set = (i32, Option<Programme>, Measure, Group, Period);
    let mut hidden: Vec<bool> = rows
        .iter()
        .map(|r| r.suppressed || evaluation_small(r))
        .collect();
    let mut triples: BTreeMap<Triple<'_>, Vec<usize>> = BTreeMap::new();
    let mut sets: BTreeMap<Set, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.group == Group::Difference {
            continue;
        }
        if r.measure.paired() && r.period != Period::None {
            triples
                .entry((r.fy, r.programme, &r.municipality_code, r.measure, r.group))
                .or_default()
                .push(i);
        }
        if !r.municipality_code.is_union() && !counts_municipalities(r.measure) {
            sets.entry((r.fy, r.programme, r.measure, r.group, r.period))
                .or_default()
                .push(i);
        }
    }
    for _ in 0..20 {
        let mut changed = false;
        for idx in triples.values() {
            if idx.iter().any(|&i| hidden[i]) {
                for &i in idx {
                    if !hidden[i] {
                        hidden[i] = true;
                        changed = true;
                    }
                }
            }
        }
        for idx in sets.values() {
            if idx.iter().filter(|&&i| hidden[i]).count() != 1 {
                continue;
            }
            let pick = idx
                .iter()
                .copied()
                .filter(|&i| !hidden[i])
                .min_by(|&a, &b| {
                    size(&rows[a])
                        .partial_cmp(&size(&rows[b]))
                        .unwrap_or(Ordering::Equal)
                });
            if let Some(i) = pick {
                hidden[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let index: HashMap<(i32, Option<Programme>, &Area, Measure, Group, Period), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                (
                    r.fy,
                    r.programme,
                    &r.municipality_code,
                    r.measure,
                    r.group,
                    r.period,
                ),
                i,
            )
        })
        .collect();
    for (i, r) in rows.iter().enumerate() {
        if r.group != Group::Difference || hidden[i] {
            continue;
        }
        let compared_hidden = [Group::Supported, Group::NotSupported].iter().any(|g| {
            index
                .get(&(
                    r.fy,
                    r.programme,
                    &r.municipality_code,
                    r.measure,
                    *g,
                    r.period,
                ))
                .is_some_and(|&j| hidden[j])
        });
        if compared_hidden {
            hidden[i] = true;
        }
    }
    hidden
}

/// Which 疾病分類別医療費 rows are blank in every published output, index-aligned with
/// `rows`: rows the engine suppressed, rows with 1–9 persons or 1–9 claims, and — where
/// exactly one municipality of an FY × disease group is hidden — the shown municipality
/// with the fewest persons (preferring one with persons), until stable (the union minus
/// the others would give the hidden one back; docs/reference/indicators.md#suppression).
pub fn disease_cost_hidden(rows: &[DiseaseCostRow]) -> Vec<bool> {
    let mut hidden: Vec<bool> = rows
        .iter()
        .map(|r| r.suppressed || small(r.persons as f64) || small(r.claims as f64))
        .collect();
    let mut sets: BTreeMap<(i32, DiseaseGroup), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if !r.municipality_code.is_union() {
            sets.entry((r.fy, r.disease_group)).or_default().push(i);
        }
    }
    for _ in 0..20 {
        let mut changed = false;
        for idx in sets.values() {
            if idx.iter().filter(|&&i| hidden[i]).count() != 1 {
                continue;
            }
            let pick = idx
                .iter()
                .copied()
                .filter(|&i| !hidden[i])
                .min_by_key(|&i| (rows[i].persons == 0, rows[i].persons));
            if let Some(i) = pick {
                hidden[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    hidden
}

/// The 単位 of a published evaluation value: 人, %, 平均, or ポイント for a change or a
/// difference of shares (percentage points).
pub(crate) fn unit_ja(measure: Measure, group: Group, period: Period) -> &'static str {
    match measure.unit() {
        EvalUnit::Percent if period == Period::Change || group == Group::Difference => "ポイント",
        u => u.label_ja(),
    }
}

fn round(v: Option<f64>, digits: i32) -> Option<f64> {
    let f = 10f64.powi(digits);
    v.map(|x| (x * f).round() / f)
}

/// The published evaluation table, one row per [`EvaluationRow`] in the given order.
///
/// Columns (name → header): fy 年度, programme 事業 (blank for the union counts that
/// belong to no programme), municipality_code 市町村コード (`union` for the union),
/// municipality 市町村名 (広域連合全体 for the union), measure 指標 ([`Measure::label_ja`]),
/// group 群 ([`Group::label_ja`]), period 期間 ([`Period::label_ja`], blank for outputs),
/// numerator 分子 (persons or a sum), denominator 分母 (persons), value 値 (% , mean or
/// persons, 2 decimals), unit 単位 (人, %, 平均, ポイント), standardised 標準化値 (the
/// comparison group's value standardised to the supported group's sex × age mix),
/// ci_low 95%CI下限 and ci_high 95%CI上限 (difference rows), suppressed 秘匿 (※).
///
/// A hidden row ([`evaluation_hidden`]) keeps its keys and the ※; numerator, denominator,
/// value, standardised value and CI are blank.
pub fn published_evaluation(rows: &[EvaluationRow], names: &BTreeMap<String, String>) -> Table {
    let hidden = evaluation_hidden(rows);
    let shown = |f: &dyn Fn(&EvaluationRow) -> Option<f64>, digits: i32| {
        Cells::Float(
            rows.iter()
                .zip(&hidden)
                .map(|(r, h)| if *h { None } else { round(f(r), digits) })
                .collect(),
        )
    };
    let text =
        |f: &dyn Fn(&EvaluationRow) -> Option<String>| Cells::Text(rows.iter().map(f).collect());
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(rows.iter().map(|r| Some(r.fy as i64)).collect()),
    );
    t.add(
        "programme",
        text(&|r| r.programme.map(|p| p.label_ja().to_string())),
    );
    t.add(
        "municipality_code",
        text(&|r| Some(r.municipality_code.as_str().to_string())),
    );
    t.add(
        "municipality",
        text(&|r| Some(area_name(&r.municipality_code, names))),
    );
    t.push(
        "measure",
        MEASURE_HEADER,
        text(&|r| Some(r.measure.label_ja().to_string())),
    );
    t.add("group", text(&|r| Some(r.group.label_ja().to_string())));
    t.add(
        "period",
        text(&|r| Some(r.period.label_ja().to_string()).filter(|s| !s.is_empty())),
    );
    t.add("numerator", shown(&|r| r.numerator, 2));
    t.add("denominator", shown(&|r| r.denominator, 2));
    t.add("value", shown(&|r| r.value, 2));
    t.add(
        "unit",
        text(&|r| Some(unit_ja(r.measure, r.group, r.period).to_string())),
    );
    t.add("standardised", shown(&|r| r.standardised, 2));
    t.add("ci_low", shown(&|r| r.ci_low, 2));
    t.add("ci_high", shown(&|r| r.ci_high, 2));
    t.add(
        "suppressed",
        Cells::Text(
            hidden
                .iter()
                .map(|h| h.then(|| SUPPRESSED.to_string()))
                .collect(),
        ),
    );
    t
}

/// The published 疾病分類別医療費 table, one row per [`DiseaseCostRow`] in the given order.
///
/// Columns (name → header): fy 年度, municipality_code 市町村コード, municipality 市町村名
/// (広域連合全体 for the union), disease_group 疾病分類 ([`DiseaseGroup::label_ja`], e.g.
/// `IX 循環器系の疾患`), claims 件数, persons 人数, yen 医療費（円）(whole yen),
/// yen_per_insured 1人当たり医療費（円）(yen per insured person-year, whole yen), share
/// 構成比（%）(share of the area's medical cost, 2 decimals), suppressed 秘匿 (※).
///
/// A hidden row ([`disease_cost_hidden`]) keeps its keys and the ※; its counts, cost,
/// cost per insured and share are blank.
pub fn published_disease_costs(rows: &[DiseaseCostRow], names: &BTreeMap<String, String>) -> Table {
    let hidden = disease_cost_hidden(rows);
    let int = |f: &dyn Fn(&DiseaseCostRow) -> i64| {
        Cells::Int(
            rows.iter()
                .zip(&hidden)
                .map(|(r, h)| (!*h).then(|| f(r)))
                .collect(),
        )
    };
    let float = |f: &dyn Fn(&DiseaseCostRow) -> Option<f64>, digits: i32| {
        Cells::Float(
            rows.iter()
                .zip(&hidden)
                .map(|(r, h)| if *h { None } else { round(f(r), digits) })
                .collect(),
        )
    };
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(rows.iter().map(|r| Some(r.fy as i64)).collect()),
    );
    t.add(
        "municipality_code",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.municipality_code.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "municipality",
        Cells::Text(
            rows.iter()
                .map(|r| Some(area_name(&r.municipality_code, names)))
                .collect(),
        ),
    );
    t.add(
        "disease_group",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.disease_group.label_ja()))
                .collect(),
        ),
    );
    t.add("claims", int(&|r| r.claims as i64));
    t.push("persons", PERSONS_HEADER, int(&|r| r.persons as i64));
    t.add("yen", int(&|r| r.yen.round() as i64));
    t.add("yen_per_insured", float(&|r| r.yen_per_insured, 0));
    t.add("share", float(&|r| r.share, 2));
    t.add(
        "suppressed",
        Cells::Text(
            hidden
                .iter()
                .map(|h| h.then(|| SUPPRESSED.to_string()))
                .collect(),
        ),
    );
    t
}

/// The cells of the column of `t` with Japanese header `header`.
fn column<'t>(t: &'t Table, header: &str) -> Option<&'t Cells> {
    t.columns
        .iter()
        .find(|c| c.header_ja == header)
        .map(|c| &c.cells)
}

/// The person and claim counts of a published table ([`published_evaluation`] or
/// [`published_disease_costs`]) that lie in 1–9: `(row, header, value)` for each, empty
/// when the table is safe to publish. Looks at 分子 and 分母 on rows that count persons
/// (not the union counts of municipalities, not the net numerator of a change), and at
/// 件数 and 人数.
pub fn small_published_counts(t: &Table) -> Vec<(usize, String, f64)> {
    let measure = column(t, MEASURE_HEADER);
    let period = column(t, column_ja("period").unwrap_or("期間"));
    let municipal: Vec<String> = Measure::ALL
        .iter()
        .filter(|m| counts_municipalities(**m))
        .map(|m| m.label_ja().to_string())
        .collect();
    let change = Period::Change.label_ja();
    let mut out = Vec::new();
    for header in ["分子", "分母", "件数", PERSONS_HEADER] {
        let Some(cells) = column(t, header) else {
            continue;
        };
        for i in 0..cells.len() {
            if measure.is_some_and(|m| municipal.contains(&m.text(i))) {
                continue;
            }
            if header == "分子" && period.is_some_and(|p| p.text(i) == change) {
                continue;
            }
            let x = match cells {
                Cells::Int(v) => v[i].map(|x| x as f64),
                Cells::Float(v) => v[i],
                _ => None,
            };
            if let Some(x) = x.filter(|x| small(*x)) {
                out.push((i, header.to_string(), x));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An evaluation row of 口腔, FY2024, with its value computed from numerator and
    /// denominator in the measure's unit.
    pub(crate) fn erow(
        m: Area,
        measure: Measure,
        group: Group,
        period: Period,
        num: Option<f64>,
        den: Option<f64>,
    ) -> EvaluationRow {
        let value = match (num, den) {
            (Some(n), Some(d)) if d > 0.0 => Some(match measure.unit() {
                EvalUnit::Percent => 100.0 * n / d,
                EvalUnit::Mean => n / d,
                EvalUnit::Persons => n,
            }),
            (Some(n), None) if measure.unit() == EvalUnit::Persons => Some(n),
            _ => None,
        };
        EvaluationRow {
            fy: 2024,
            programme: Some(Programme::Oral),
            municipality_code: m,
            measure,
            group,
            period,
            numerator: num,
            denominator: den,
            value,
            standardised: None,
            ci_low: None,
            ci_high: None,
            suppressed: false,
        }
    }

    fn muni(code: &str) -> Area {
        Area::Municipality(code.into())
    }

    fn cell(t: &Table, header: &str, row: usize) -> String {
        column(t, header)
            .unwrap_or_else(|| panic!("no column {header}"))
            .text(row)
    }

    /// A row the engine suppressed keeps its keys and shows ※, with every number blank.
    #[test]
    fn a_suppressed_row_is_blank_and_flagged() {
        let mut r = erow(
            muni("312011"),
            Measure::Supported,
            Group::All,
            Period::None,
            Some(40.0),
            Some(120.0),
        );
        r.suppressed = true;
        let shown = erow(
            Area::Union,
            Measure::Supported,
            Group::All,
            Period::None,
            Some(45.0),
            Some(150.0),
        );
        let names = BTreeMap::from([("312011".to_string(), "鳥取市".to_string())]);
        let t = published_evaluation(&[r, shown], &names);
        let headers: Vec<&str> = t.columns.iter().map(|c| c.header_ja.as_str()).collect();
        assert_eq!(
            headers,
            [
                "年度",
                "事業",
                "市町村コード",
                "市町村名",
                "指標",
                "群",
                "期間",
                "分子",
                "分母",
                "値",
                "単位",
                "標準化値",
                "95%CI下限",
                "95%CI上限",
                "秘匿"
            ]
        );
        assert_eq!(column_ja("indicator"), Some(MEASURE_HEADER));
        assert_eq!(cell(&t, "市町村名", 0), "鳥取市");
        assert_eq!(cell(&t, "事業", 0), "口腔");
        assert_eq!(cell(&t, "指標", 0), Measure::Supported.label_ja());
        for h in ["分子", "分母", "値", "標準化値", "95%CI下限", "95%CI上限"] {
            assert_eq!(cell(&t, h, 0), "", "{h}");
        }
        assert_eq!(cell(&t, "秘匿", 0), "※");
        assert_eq!(cell(&t, "市町村名", 1), "広域連合全体");
        assert_eq!(cell(&t, "市町村コード", 1), "union");
        assert_eq!(
            (cell(&t, "分子", 1), cell(&t, "分母", 1), cell(&t, "値", 1)),
            ("45.0".to_string(), "150.0".to_string(), "30.0".to_string())
        );
        assert_eq!(cell(&t, "単位", 1), "%");
        assert_eq!(cell(&t, "秘匿", 1), "");
        assert!(small_published_counts(&t).is_empty());
    }

    /// A row that arrives unsuppressed with 7 persons is blanked and flagged anyway; so is
    /// a share whose complement is 7 (20 of 27), and — the only other municipality of the
    /// same set — the one left (secondary suppression: the union minus it would give the 7
    /// back). The union's row stays.
    #[test]
    fn seven_persons_are_blanked_even_when_the_engine_missed_them() {
        let rows = vec![
            erow(
                Area::Union,
                Measure::Contacted,
                Group::All,
                Period::None,
                Some(60.0),
                Some(150.0),
            ),
            erow(
                muni("312011"),
                Measure::Contacted,
                Group::All,
                Period::None,
                Some(53.0),
                Some(120.0),
            ),
            erow(
                muni("312029"),
                Measure::Contacted,
                Group::All,
                Period::None,
                Some(7.0),
                Some(30.0),
            ),
            erow(
                muni("312037"),
                Measure::Supported,
                Group::All,
                Period::None,
                Some(20.0),
                Some(27.0),
            ),
        ];
        assert_eq!(evaluation_hidden(&rows), [false, true, true, true]);
        let t = published_evaluation(&rows, &BTreeMap::new());
        for i in 1..4 {
            assert_eq!(cell(&t, "分子", i), "", "row {i}");
            assert_eq!(cell(&t, "秘匿", i), "※", "row {i}");
        }
        assert_eq!(cell(&t, "分子", 0), "60.0");
        assert!(small_published_counts(&t).is_empty());
        // The check itself sees a 7 when it is printed.
        let mut raw = published_evaluation(&rows[..1], &BTreeMap::new());
        if let Some(c) = raw.columns.iter_mut().find(|c| c.header_ja == "分子") {
            c.cells = Cells::Float(vec![Some(7.0)]);
        }
        assert_eq!(small_published_counts(&raw), [(0, "分子".to_string(), 7.0)]);
    }

    /// Paired rows go together (post − pre = change on the same persons), a difference goes
    /// with the groups it compares, and the union counts of municipalities (2 of 3) are not
    /// person counts: shown.
    #[test]
    fn paired_rows_differences_and_municipality_counts() {
        let u = || Area::Union;
        let mut rows = vec![
            erow(
                u(),
                Measure::Q05Yes,
                Group::Supported,
                Period::Pre,
                Some(3.0),
                Some(45.0),
            ),
            erow(
                u(),
                Measure::Q05Yes,
                Group::Supported,
                Period::Post,
                Some(12.0),
                Some(45.0),
            ),
            erow(
                u(),
                Measure::Q05Yes,
                Group::Supported,
                Period::Change,
                Some(9.0),
                Some(45.0),
            ),
            erow(
                u(),
                Measure::Q05Yes,
                Group::NotSupported,
                Period::Change,
                Some(-4.0),
                Some(100.0),
            ),
            erow(
                u(),
                Measure::Q05Yes,
                Group::Difference,
                Period::Change,
                None,
                Some(45.0),
            ),
            erow(
                u(),
                Measure::MunicipalitiesRunning,
                Group::All,
                Period::None,
                Some(2.0),
                Some(3.0),
            ),
        ];
        rows[4].value = Some(24.0);
        rows[4].ci_low = Some(10.0);
        rows[4].ci_high = Some(38.0);
        assert_eq!(
            evaluation_hidden(&rows),
            [true, true, true, false, true, false]
        );
        let t = published_evaluation(&rows, &BTreeMap::new());
        assert_eq!(cell(&t, "95%CI下限", 4), "");
        assert_eq!(cell(&t, "単位", 3), "ポイント");
        assert_eq!(cell(&t, "分子", 3), "-4.0");
        assert_eq!(
            (cell(&t, "分子", 5), cell(&t, "分母", 5)),
            ("2.0".to_string(), "3.0".to_string())
        );
        assert!(small_published_counts(&t).is_empty());
    }

    fn drow(m: Area, g: DiseaseGroup, persons: u64, suppressed: bool) -> DiseaseCostRow {
        DiseaseCostRow {
            fy: 2024,
            municipality_code: m,
            disease_group: g,
            claims: persons * 3,
            persons,
            yen: persons as f64 * 25_000.4,
            yen_per_insured: Some(persons as f64 * 12.345),
            share: Some(12.3456),
            suppressed,
        }
    }

    /// 疾病分類別医療費: headers; a suppressed row and an unsuppressed row with 6 persons are
    /// blank and flagged; the one other municipality of that chapter goes too.
    #[test]
    fn disease_costs_are_blanked_like_the_indicators() {
        let circ = DiseaseGroup::parse("IX").unwrap();
        let resp = DiseaseGroup::parse("X").unwrap();
        let rows = vec![
            drow(Area::Union, circ, 1200, false),
            drow(muni("312011"), circ, 1194, false),
            drow(muni("312029"), circ, 6, false),
            drow(Area::Union, resp, 500, false),
            drow(muni("312011"), resp, 300, true),
            drow(muni("312029"), resp, 200, false),
        ];
        assert_eq!(
            disease_cost_hidden(&rows),
            [false, true, true, false, true, true]
        );
        let names = BTreeMap::from([("312011".to_string(), "鳥取市".to_string())]);
        let t = published_disease_costs(&rows, &names);
        let headers: Vec<&str> = t.columns.iter().map(|c| c.header_ja.as_str()).collect();
        assert_eq!(
            headers,
            [
                "年度",
                "市町村コード",
                "市町村名",
                "疾病分類",
                "件数",
                "人数",
                "医療費（円）",
                "1人当たり医療費（円）",
                "構成比（%）",
                "秘匿"
            ]
        );
        assert_eq!(cell(&t, "疾病分類", 0), "IX 循環器系の疾患");
        assert_eq!(
            (
                cell(&t, "件数", 0),
                cell(&t, "人数", 0),
                cell(&t, "医療費（円）", 0),
                cell(&t, "1人当たり医療費（円）", 0),
                cell(&t, "構成比（%）", 0),
            ),
            (
                "3600".to_string(),
                "1200".to_string(),
                "30000480".to_string(),
                "14814.0".to_string(),
                "12.35".to_string()
            )
        );
        for i in [1, 2, 4, 5] {
            for h in [
                "件数",
                "人数",
                "医療費（円）",
                "1人当たり医療費（円）",
                "構成比（%）",
            ] {
                assert_eq!(cell(&t, h, i), "", "row {i} {h}");
            }
            assert_eq!(cell(&t, "秘匿", i), "※");
        }
        assert_eq!(cell(&t, "市町村名", 1), "鳥取市");
        assert!(small_published_counts(&t).is_empty());
    }
}
