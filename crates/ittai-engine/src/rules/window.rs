//! Windows relative to the extraction fiscal year: `FY`, `FY-1`, `FY-1..FY`,
//! `FY-3..FY-1` (docs/reference/time.md, docs/reference/rules.md).

use chrono::NaiveDate;
use ittai_model::{FiscalYear, first_of_month};

/// A range of fiscal years relative to the extraction FY: `from` ≤ `to` ≤ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// First FY offset (−3 for FY−3).
    pub from: i32,
    /// Last FY offset (0 for the FY itself).
    pub to: i32,
}

impl Window {
    /// The extraction FY itself.
    pub const FY: Window = Window { from: 0, to: 0 };

    /// Parses `FY`, `FY-2`, `FY-1..FY`, `FY-3..FY-1`.
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(s: &str) -> Result<Self, String> {
        let one = |t: &str| -> Result<i32, String> {
            let t = t.trim();
            if t == "FY" {
                return Ok(0);
            }
            t.strip_prefix("FY-")
                .and_then(|n| n.parse::<i32>().ok())
                .filter(|n| (1..=9).contains(n))
                .map(|n| -n)
                .ok_or_else(|| format!("bad window {s:?}: expected FY, FY-n or FY-n..FY-m (n ≤ 9), e.g. \"FY-3..FY-1\""))
        };
        let (a, b) = match s.split_once("..") {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let x = one(s)?;
                (x, x)
            }
        };
        if a > b {
            return Err(format!(
                "bad window {s:?}: the start must not be after the end"
            ));
        }
        Ok(Window { from: a, to: b })
    }

    /// Canonical text (`FY-3..FY-1`).
    pub fn text(&self) -> String {
        let one = |x: i32| {
            if x == 0 {
                "FY".to_string()
            } else {
                format!("FY{x}")
            }
        };
        if self.from == self.to {
            one(self.from)
        } else {
            format!("{}..{}", one(self.from), one(self.to))
        }
    }

    /// snake_case tag for column names (`fy_m3_m1`).
    pub fn tag(&self) -> String {
        let one = |x: i32| {
            if x == 0 {
                "fy".to_string()
            } else {
                format!("m{}", -x)
            }
        };
        if self.from == self.to {
            one(self.from)
        } else {
            format!("{}_{}", one(self.from), one(self.to))
        }
    }

    /// Japanese description (当該年度, 前年度から当該年度, …).
    pub fn label_ja(&self) -> String {
        let one = |x: i32| match x {
            0 => "当該年度".to_string(),
            -1 => "前年度".to_string(),
            n => format!("{}年度前", -n),
        };
        if self.from == self.to {
            one(self.from)
        } else {
            format!("{}から{}", one(self.from), one(self.to))
        }
    }

    /// First and last day of the window for extraction FY `fy`, the last day clipped to
    /// the reference date.
    pub fn days(&self, fy: FiscalYear, reference: NaiveDate) -> (NaiveDate, NaiveDate) {
        (
            fy.offset(self.from).start(),
            fy.offset(self.to).end().min(reference),
        )
    }

    /// First and last service month (first days) of the window.
    pub fn months(&self, fy: FiscalYear, reference: NaiveDate) -> (NaiveDate, NaiveDate) {
        let (a, b) = self.days(fy, reference);
        (first_of_month(a), first_of_month(b))
    }

    /// Number of service months in the window (before clipping).
    pub fn len_months(&self) -> i32 {
        12 * (self.to - self.from + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_resolve() {
        assert_eq!(Window::parse("FY").unwrap(), Window::FY);
        let w = Window::parse("FY-3..FY-1").unwrap();
        assert_eq!((w.from, w.to), (-3, -1));
        assert_eq!(w.text(), "FY-3..FY-1");
        assert_eq!(w.tag(), "m3_m1");
        assert_eq!(w.label_ja(), "3年度前から前年度");
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            w.days(FiscalYear(2024), d(2025, 3, 31)),
            (d(2021, 4, 1), d(2024, 3, 31))
        );
        assert_eq!(
            Window::FY.months(FiscalYear(2024), d(2024, 12, 15)),
            (d(2024, 4, 1), d(2024, 12, 1))
        );
        assert!(Window::parse("FY..FY-1").is_err());
        assert!(Window::parse("12m").is_err());
        assert!(Window::parse("FY+1").is_err());
    }
}
