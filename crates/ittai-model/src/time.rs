//! Fiscal years, service months, ages, age bands and 和暦 (Japanese era) dates.
//!
//! Source: docs/reference/README.md, docs/reference/time.md (FY2024 = 2024-04-01 .. 2025-03-31; age = full years at the
//! reference date; bands <75, 75–79, …, 95+); 和暦 era codes from レセ電 記録条件仕様
//! 別表 元号 (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A Japanese fiscal year (年度): FY `n` runs from `n`-04-01 to `n+1`-03-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The FY containing `date` (April–December → same year, January–March → year − 1).
    pub fn of(date: NaiveDate) -> Self {
        if date.month() >= 4 {
            FiscalYear(date.year())
        } else {
            FiscalYear(date.year() - 1)
        }
    }
    /// First day (April 1).
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).expect("valid FY start")
    }
    /// Last day (March 31 of the next calendar year); the default 基準日.
    pub fn end(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).expect("valid FY end")
    }
    /// True when `date` lies in the FY (inclusive of both ends).
    pub fn contains(self, date: NaiveDate) -> bool {
        date >= self.start() && date <= self.end()
    }
    /// The twelve service months (first days), April … March.
    pub fn months(self) -> [NaiveDate; 12] {
        std::array::from_fn(|i| add_months(self.start(), i as i32))
    }
    /// The FY `n` years later (negative for earlier).
    pub fn offset(self, n: i32) -> Self {
        FiscalYear(self.0 + n)
    }
}

impl std::fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FY{}", self.0)
    }
}

/// First day of the month containing `date` (a 診療年月 / service month).
pub fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists")
}

/// `date` moved by `months` calendar months, clamped to the month's last day
/// (Jan 31 + 1 month = Feb 28/29).
pub fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months;
    let (y, m0) = (total.div_euclid(12), total.rem_euclid(12));
    let mut d = date.day();
    loop {
        if let Some(x) = NaiveDate::from_ymd_opt(y, m0 as u32 + 1, d) {
            return x;
        }
        d -= 1;
    }
}

/// Age in full years at `at` for someone born on `birth` (満年齢). A person born on
/// Feb 29 turns a year older on Mar 1 in non-leap years, as under 年齢計算ニ関スル法律
/// the age increases at the end of the day before the birthday; for statistics the
/// birthday itself is used, as KDB does.
pub fn age_at(birth: NaiveDate, at: NaiveDate) -> i32 {
    let mut age = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Age band of the indicators and target lists (docs/reference/time.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBand {
    /// Under 75 (障害認定 insured aged 65–74).
    Under75,
    /// 75–79.
    A75to79,
    /// 80–84.
    A80to84,
    /// 85–89.
    A85to89,
    /// 90–94.
    A90to94,
    /// 95 and over.
    A95plus,
}

impl AgeBand {
    /// All bands in order.
    pub const ALL: [AgeBand; 6] = [
        AgeBand::Under75,
        AgeBand::A75to79,
        AgeBand::A80to84,
        AgeBand::A85to89,
        AgeBand::A90to94,
        AgeBand::A95plus,
    ];
    /// Band of an age in full years.
    pub fn of_age(age: i32) -> Self {
        match age {
            i32::MIN..=74 => AgeBand::Under75,
            75..=79 => AgeBand::A75to79,
            80..=84 => AgeBand::A80to84,
            85..=89 => AgeBand::A85to89,
            90..=94 => AgeBand::A90to94,
            _ => AgeBand::A95plus,
        }
    }
    /// Label used in outputs (`<75`, `75-79`, …, `95+`).
    pub fn label(self) -> &'static str {
        match self {
            AgeBand::Under75 => "<75",
            AgeBand::A75to79 => "75-79",
            AgeBand::A80to84 => "80-84",
            AgeBand::A85to89 => "85-89",
            AgeBand::A90to94 => "90-94",
            AgeBand::A95plus => "95+",
        }
    }
    /// Japanese label (75～79歳 …).
    pub fn label_ja(self) -> &'static str {
        match self {
            AgeBand::Under75 => "75歳未満",
            AgeBand::A75to79 => "75～79歳",
            AgeBand::A80to84 => "80～84歳",
            AgeBand::A85to89 => "85～89歳",
            AgeBand::A90to94 => "90～94歳",
            AgeBand::A95plus => "95歳以上",
        }
    }
    /// Lowest age of the band (0 for `<75`).
    pub fn lower(self) -> i32 {
        match self {
            AgeBand::Under75 => 0,
            AgeBand::A75to79 => 75,
            AgeBand::A80to84 => 80,
            AgeBand::A85to89 => 85,
            AgeBand::A90to94 => 90,
            AgeBand::A95plus => 95,
        }
    }
    /// Highest age of the band in full years (`None` for the open band `95+`): one less
    /// than the next band's [`AgeBand::lower`].
    pub fn upper(self) -> Option<i32> {
        let i = Self::ALL.iter().position(|b| *b == self).expect("in ALL");
        Self::ALL.get(i + 1).map(|next| next.lower() - 1)
    }
    /// Parses an output label (`<75`, `75-79`, …, `95+`; see [`AgeBand::label`]).
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.label() == label)
    }
}

/// A Japanese era (元号) with its code in レセ電 records and its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    /// Era code in レセ電 (1 明治 … 5 令和).
    pub code: u8,
    /// Name (明治, 大正, 昭和, 平成, 令和).
    pub name: &'static str,
    /// Gregorian year of 元年 (year 1 of the era).
    pub first_year: i32,
    /// First day of the era.
    pub first_day: (i32, u32, u32),
}

/// The five eras of 和暦 codes, oldest first.
pub const ERAS: [Era; 5] = [
    Era {
        code: 1,
        name: "明治",
        first_year: 1868,
        first_day: (1868, 1, 25),
    },
    Era {
        code: 2,
        name: "大正",
        first_year: 1912,
        first_day: (1912, 7, 30),
    },
    Era {
        code: 3,
        name: "昭和",
        first_year: 1926,
        first_day: (1926, 12, 25),
    },
    Era {
        code: 4,
        name: "平成",
        first_year: 1989,
        first_day: (1989, 1, 8),
    },
    Era {
        code: 5,
        name: "令和",
        first_year: 2019,
        first_day: (2019, 5, 1),
    },
];

/// Error from parsing a 和暦 or 西暦 date field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateFieldError {
    /// Wrong length or non-digits.
    #[error("expected {expected} digits, found {found:?}")]
    Format {
        /// What was expected, e.g. "GYYMM (5)".
        expected: &'static str,
        /// The field as found.
        found: String,
    },
    /// Era code outside 1–5.
    #[error("unknown era code {0} (expected 1 明治 … 5 令和)")]
    Era(u8),
    /// Month or day out of range.
    #[error("no such date: {0}")]
    NoSuchDate(String),
}

fn digits(s: &str, n: usize, expected: &'static str) -> Result<Vec<u32>, DateFieldError> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateFieldError::Format {
            expected,
            found: s.to_string(),
        });
    }
    Ok(s.bytes().map(|b| (b - b'0') as u32).collect())
}

fn era(code: u32) -> Result<Era, DateFieldError> {
    ERAS.iter()
        .copied()
        .find(|e| e.code as u32 == code)
        .ok_or(DateFieldError::Era(code as u8))
}

/// Parses a 和暦 year-month `GYYMM` (e.g. `43101` = 平成31年1月 = 2019-01) to the first
/// day of that month.
///
/// # Errors
/// [`DateFieldError`] for wrong length, unknown era or month outside 1–12.
pub fn parse_wareki_month(s: &str) -> Result<NaiveDate, DateFieldError> {
    let d = digits(s, 5, "GYYMM (5)")?;
    let e = era(d[0])?;
    let (yy, mm) = (d[1] * 10 + d[2], d[3] * 10 + d[4]);
    NaiveDate::from_ymd_opt(e.first_year + yy as i32 - 1, mm, 1)
        .filter(|_| yy >= 1)
        .ok_or_else(|| DateFieldError::NoSuchDate(s.to_string()))
}

/// Parses a 和暦 date `GYYMMDD` (e.g. `3220315` = 昭和22年3月15日 = 1947-03-15).
///
/// # Errors
/// [`DateFieldError`] for wrong length, unknown era or an impossible date.
pub fn parse_wareki_date(s: &str) -> Result<NaiveDate, DateFieldError> {
    let d = digits(s, 7, "GYYMMDD (7)")?;
    let e = era(d[0])?;
    let (yy, mm, dd) = (d[1] * 10 + d[2], d[3] * 10 + d[4], d[5] * 10 + d[6]);
    NaiveDate::from_ymd_opt(e.first_year + yy as i32 - 1, mm, dd)
        .filter(|_| yy >= 1)
        .ok_or_else(|| DateFieldError::NoSuchDate(s.to_string()))
}

/// Parses a 西暦 year-month `YYYYMM` to the first day of the month.
///
/// # Errors
/// [`DateFieldError`] for wrong length or month outside 1–12.
pub fn parse_yyyymm(s: &str) -> Result<NaiveDate, DateFieldError> {
    let d = digits(s, 6, "YYYYMM (6)")?;
    let y = (d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]) as i32;
    NaiveDate::from_ymd_opt(y, d[4] * 10 + d[5], 1)
        .ok_or_else(|| DateFieldError::NoSuchDate(s.to_string()))
}

/// Parses a 西暦 date `YYYYMMDD`.
///
/// # Errors
/// [`DateFieldError`] for wrong length or an impossible date.
pub fn parse_yyyymmdd(s: &str) -> Result<NaiveDate, DateFieldError> {
    let d = digits(s, 8, "YYYYMMDD (8)")?;
    let y = (d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]) as i32;
    NaiveDate::from_ymd_opt(y, d[4] * 10 + d[5], d[6] * 10 + d[7])
        .ok_or_else(|| DateFieldError::NoSuchDate(s.to_string()))
}

/// Parses a date cell of a CSV input: the one date parser of the CSV files users prepare
/// (the canonical dataset's CSV tables, and in ingest the insured register and the
/// 要介護認定 file), which may have been saved by Excel. Surrounding whitespace is
/// ignored. Accepted forms:
///
/// - `YYYY-MM-DD` or `YYYY/MM/DD` with a month and day of one or two digits, `-` or `/`
///   in each place: `2024-01-05`, `2024/1/5` (as Japanese Excel saves a date), `2024-1-5`;
/// - `YYYYMMDD`: `20240105`;
/// - 和暦 `GYYMMDD` (era code 1 明治 … 5 令和, as in レセ電; see [`parse_wareki_date`]):
///   `5060105` = 令和6年1月5日 = 2024-01-05.
///
/// The year has exactly four digits and every part is ASCII digits (no sign, no inner
/// spaces). `None` for anything else: empty text, `01/05/2024`, `2024-01-05T00:00`, or an
/// impossible date (`2024/13/01`, `2024-02-30`).
///
/// These are the forms the dataset reader and the register reader accepted before they
/// shared this function (the dataset: ISO, `YYYY/M/D`, `YYYYMMDD`; the register: ISO,
/// `YYYY/MM/DD`, `YYYYMMDD`, 和暦), now accepted by both.
pub fn parse_csv_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.len() {
            8 => parse_yyyymmdd(t).ok(),
            7 => parse_wareki_date(t).ok(),
            _ => None,
        };
    }
    let mut parts = t.split(['-', '/']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let ok = y.len() == 4 && m.len() <= 2 && d.len() <= 2 && [y, m, d].into_iter().all(digits);
    if parts.next().is_some() || !ok {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Formats a date as 和暦 `GYYMMDD` (the era in force on that day).
pub fn to_wareki_date(date: NaiveDate) -> String {
    let e = ERAS
        .iter()
        .rev()
        .find(|e| {
            let (y, m, d) = e.first_day;
            date >= NaiveDate::from_ymd_opt(y, m, d).expect("era start")
        })
        .copied()
        .unwrap_or(ERAS[0]);
    format!(
        "{}{:02}{:02}{:02}",
        e.code,
        date.year() - e.first_year + 1,
        date.month(),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fiscal_year_bounds() {
        let fy = FiscalYear(2024);
        assert_eq!(fy.start(), d(2024, 4, 1));
        assert_eq!(fy.end(), d(2025, 3, 31));
        assert_eq!(FiscalYear::of(d(2025, 3, 31)), fy);
        assert_eq!(FiscalYear::of(d(2025, 4, 1)), FiscalYear(2025));
        assert_eq!(fy.months()[0], d(2024, 4, 1));
        assert_eq!(fy.months()[11], d(2025, 3, 1));
    }

    #[test]
    fn ages_and_bands() {
        assert_eq!(age_at(d(1949, 3, 31), d(2024, 3, 31)), 75);
        assert_eq!(age_at(d(1949, 4, 1), d(2024, 3, 31)), 74);
        assert_eq!(AgeBand::of_age(74), AgeBand::Under75);
        assert_eq!(AgeBand::of_age(79), AgeBand::A75to79);
        assert_eq!(AgeBand::of_age(95), AgeBand::A95plus);
        for b in AgeBand::ALL {
            assert_eq!(AgeBand::of_age(b.lower()), b);
            if let Some(u) = b.upper() {
                assert_eq!(AgeBand::of_age(u), b);
                assert_ne!(AgeBand::of_age(u + 1), b);
            }
            assert_eq!(AgeBand::from_label(b.label()), Some(b));
        }
        assert_eq!(AgeBand::A95plus.upper(), None);
        assert_eq!(add_months(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(add_months(d(2024, 1, 15), -13), d(2022, 12, 15));
    }

    #[test]
    fn wareki() {
        // ORCA samples: 43101 = 平成31年1月.
        assert_eq!(parse_wareki_month("43101").unwrap(), d(2019, 1, 1));
        assert_eq!(parse_wareki_date("3220315").unwrap(), d(1947, 3, 15));
        assert_eq!(parse_wareki_date("5010501").unwrap(), d(2019, 5, 1));
        assert!(matches!(
            parse_wareki_month("43113"),
            Err(DateFieldError::NoSuchDate(_))
        ));
        assert!(matches!(
            parse_wareki_month("93101"),
            Err(DateFieldError::Era(9))
        ));
        assert!(parse_wareki_date("322031").is_err());
        assert_eq!(to_wareki_date(d(1947, 3, 15)), "3220315");
        assert_eq!(to_wareki_date(d(2019, 4, 30)), "4310430");
        assert_eq!(to_wareki_date(d(2019, 5, 1)), "5010501");
        assert!(parse_yyyymm("202413").is_err());
        assert_eq!(parse_yyyymmdd("20240229").unwrap(), d(2024, 2, 29));
    }

    #[test]
    fn csv_dates_in_every_accepted_form() {
        let jan5 = Some(d(2024, 1, 5));
        assert_eq!(parse_csv_date("2024-01-05"), jan5);
        assert_eq!(parse_csv_date("2024/01/05"), jan5);
        assert_eq!(parse_csv_date("2024/1/5"), jan5); // Excel
        assert_eq!(parse_csv_date("2024-1-5"), jan5);
        assert_eq!(parse_csv_date("2024/01-05"), jan5); // mixed separators
        assert_eq!(parse_csv_date("20240105"), jan5);
        assert_eq!(parse_csv_date("5060105"), jan5); // 令和6年1月5日
        assert_eq!(parse_csv_date("4310430"), Some(d(2019, 4, 30))); // 平成31年4月30日
        assert_eq!(parse_csv_date("2024/12/31"), Some(d(2024, 12, 31)));
        assert_eq!(parse_csv_date("2024-02-29"), Some(d(2024, 2, 29))); // leap day
        // Surrounding whitespace (ASCII or 全角 space) is ignored.
        assert_eq!(parse_csv_date("  2024/1/5 "), jan5);
        assert_eq!(parse_csv_date("\t20240105\u{3000}"), jan5);
    }

    #[test]
    fn csv_dates_rejected() {
        for bad in [
            "",
            "   ",
            "2024/13/01",  // no month 13
            "2024-02-30",  // no Feb 30
            "2023-02-29",  // not a leap year
            "2024/0/5",    // month 0
            "2024/1/0",    // day 0
            "20241301",    // YYYYMMDD, month 13
            "6060105",     // era code 6
            "24/1/5",      // two-digit year
            "01/05/2024",  // day-first order
            "2024/001/05", // three-digit month
            "2024/1/5/1",  // four parts
            "2024/1",      // year-month only
            "2024//5",     // empty month
            "2024/+1/5",   // signs are not digits
            "2024/ 1/5",   // inner space
            "2024.1.5",    // other separator
            "2024-01-05T00:00",
        ] {
            assert_eq!(parse_csv_date(bad), None, "{bad:?}");
        }
    }
}
