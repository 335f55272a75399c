//! Abridged life table and the Sullivan method: life expectancy (平均余命) and the
//! average period of independence (平均自立期間, life expectancy free of 要介護2+) at the
//! first age of the table, with 95 % confidence intervals. Pure arithmetic, no polars.
//!
//! Method (docs/reference/indicators.md):
//! - death rates m = D / P from deaths and person-years of each age interval;
//! - q = n·m / (1 + (1 − a)·n·m) with a = 0.5 (Chiang); the last interval is open (q = 1);
//! - l from a radix of 100,000; L = n·(l − (1 − a)·d) for closed intervals, L = l / m for the
//!   open one; e = T / l;
//! - Sullivan: healthy person-years (1 − π)·L with π the prevalence of 要介護2+ in the
//!   interval; health expectancy H = Σ (1 − π)·L / l.
//!
//! Variances by the delta method:
//! - Var(q) = q²·(1 − q) / D (Chiang 1984) for closed intervals; for the open interval
//!   Var(e_w) = Var(1/m_w) = 1 / (m_w²·D_w) (Poisson deaths);
//! - Var(e_x) = [Σ_closed l_i²·((1 − a)·n + e_{i+1})²·Var(q_i) + l_w²·Var(e_w)] / l_x²
//!   (Chiang's formula);
//! - Var(H_x) = [Σ_i L_i²·Var(π_i) + Σ_closed l_i²·((1 − a)·n·(1 − π_i) + H_{i+1})²·Var(q_i) +
//!   l_w²·(1 − π_w)²·Var(e_w)] / l_x², with Var(π) = π·(1 − π) / N: the prevalence term of
//!   the Sullivan guide (Jagger, Van Oyen, Robine, EHLEIS 2014) plus the mortality terms,
//!   derived the same way as Chiang's (∂ΣhL/∂q_i = −l_i·((1 − a)·n·h_i + H_{i+1})).
//!
//! CI = estimate ± 1.96·√Var.

/// The input of one age interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgeInterval {
    /// Width in years (ignored for the last, open interval).
    pub width: f64,
    /// Deaths in the interval.
    pub deaths: f64,
    /// Person-years lived in the interval.
    pub person_years: f64,
    /// Persons in the prevalence sample (insured on the reference date).
    pub sample: f64,
    /// Of them, dependent (要介護2–5).
    pub dependent: f64,
}

/// One row of the computed life table.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LifeTableRow {
    /// Death rate m = D / P.
    pub m: f64,
    /// Probability of dying in the interval.
    pub q: f64,
    /// Survivors at the start (radix 100,000).
    pub l: f64,
    /// Person-years lived in the interval.
    pub big_l: f64,
    /// Prevalence of dependency π.
    pub prevalence: f64,
    /// Life expectancy at the start of the interval.
    pub e: f64,
    /// Health expectancy (free of dependency) at the start.
    pub h: f64,
}

/// An estimate with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// Point estimate (years).
    pub value: f64,
    /// Standard error.
    pub se: f64,
    /// Lower bound of the 95 % CI.
    pub lower: f64,
    /// Upper bound of the 95 % CI.
    pub upper: f64,
}

impl Estimate {
    fn new(value: f64, var: f64) -> Self {
        let se = var.max(0.0).sqrt();
        Estimate {
            value,
            se,
            lower: value - 1.96 * se,
            upper: value + 1.96 * se,
        }
    }
}

/// The result: the table and the two expectancies at its first age.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifeTable {
    /// Rows in age order.
    pub rows: Vec<LifeTableRow>,
    /// 平均余命 at the first age.
    pub life_expectancy: Estimate,
    /// 平均自立期間 at the first age.
    pub independence: Estimate,
}

/// Why a life table cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifeTableError {
    /// No intervals.
    #[error("no age intervals")]
    Empty,
    /// An interval has no person-years.
    #[error("age interval {0} has no person-years")]
    NoExposure(usize),
    /// The open interval has no deaths, so its life expectancy (1/m) is unbounded.
    #[error("the open age interval has no deaths")]
    NoDeathsInOpenInterval,
}

const A: f64 = 0.5;
const RADIX: f64 = 100_000.0;

/// Computes the abridged life table and the Sullivan expectancies of `intervals` (the
/// last one open-ended).
///
/// # Errors
/// [`LifeTableError`] when an interval has no person-years or the open interval no deaths.
pub fn life_table(intervals: &[AgeInterval]) -> Result<LifeTable, LifeTableError> {
    let k = intervals.len();
    if k == 0 {
        return Err(LifeTableError::Empty);
    }
    for (i, x) in intervals.iter().enumerate() {
        if x.person_years <= 0.0 {
            return Err(LifeTableError::NoExposure(i));
        }
    }
    let w = k - 1;
    if intervals[w].deaths <= 0.0 {
        return Err(LifeTableError::NoDeathsInOpenInterval);
    }
    let m: Vec<f64> = intervals
        .iter()
        .map(|x| x.deaths / x.person_years)
        .collect();
    let q: Vec<f64> = (0..k)
        .map(|i| {
            if i == w {
                1.0
            } else {
                let nm = intervals[i].width * m[i];
                nm / (1.0 + (1.0 - A) * nm)
            }
        })
        .collect();
    let mut l = vec![RADIX; k];
    for i in 1..k {
        l[i] = l[i - 1] * (1.0 - q[i - 1]);
    }
    let big_l: Vec<f64> = (0..k)
        .map(|i| {
            if i == w {
                l[w] / m[w]
            } else {
                intervals[i].width * (l[i] - (1.0 - A) * l[i] * q[i])
            }
        })
        .collect();
    let prevalence: Vec<f64> = intervals
        .iter()
        .map(|x| {
            if x.sample > 0.0 {
                x.dependent / x.sample
            } else {
                0.0
            }
        })
        .collect();
    let mut e = vec![0.0; k + 1];
    let mut h = vec![0.0; k + 1];
    let (mut t, mut th) = (0.0, 0.0);
    for i in (0..k).rev() {
        t += big_l[i];
        th += (1.0 - prevalence[i]) * big_l[i];
        e[i] = t / l[i];
        h[i] = th / l[i];
    }
    // Variances at the first age.
    let var_q: Vec<f64> = (0..w)
        .map(|i| {
            if intervals[i].deaths > 0.0 {
                q[i] * q[i] * (1.0 - q[i]) / intervals[i].deaths
            } else {
                0.0
            }
        })
        .collect();
    let var_e_open = 1.0 / (m[w] * m[w] * intervals[w].deaths);
    let mut ve = l[w] * l[w] * var_e_open;
    let mut vh = l[w] * l[w] * (1.0 - prevalence[w]).powi(2) * var_e_open;
    for i in 0..w {
        let n = intervals[i].width;
        ve += l[i] * l[i] * ((1.0 - A) * n + e[i + 1]).powi(2) * var_q[i];
        vh += l[i] * l[i] * ((1.0 - A) * n * (1.0 - prevalence[i]) + h[i + 1]).powi(2) * var_q[i];
    }
    for i in 0..k {
        let s = intervals[i].sample;
        if s > 0.0 {
            vh += big_l[i] * big_l[i] * prevalence[i] * (1.0 - prevalence[i]) / s;
        }
    }
    let l0 = l[0] * l[0];
    let rows = (0..k)
        .map(|i| LifeTableRow {
            m: m[i],
            q: q[i],
            l: l[i],
            big_l: big_l[i],
            prevalence: prevalence[i],
            e: e[i],
            h: h[i],
        })
        .collect();
    Ok(LifeTable {
        rows,
        life_expectancy: Estimate::new(e[0], ve / l0),
        independence: Estimate::new(h[0], vh / l0),
    })
}

#[cfg(test)]
/// The Sullivan health expectancy at the first age from a published life table: survivors
/// `l`, person-years `big_l` and the proportion free of the condition in each interval.
pub fn sullivan(l0: f64, big_l: &[f64], healthy_share: &[f64]) -> f64 {
    big_l
        .iter()
        .zip(healthy_share)
        .map(|(bl, s)| bl * s)
        .sum::<f64>()
        / l0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// A worked example computed by hand (n = 5, a = 0.5, ages 75–79 … 95+):
    ///
    /// | age | D | P | m | q = 5m/(1+2.5m) | π = dependent/N |
    /// |---|---|---|---|---|---|
    /// | 75 | 20 | 2000 | 0.01 | 0.05/1.025 = 0.0487805 | 100/2000 = 0.05 |
    /// | 80 | 30 | 1500 | 0.02 | 0.10/1.05 = 0.0952381 | 225/1500 = 0.15 |
    /// | 85 | 40 | 1000 | 0.04 | 0.20/1.10 = 0.1818182 | 300/1000 = 0.30 |
    /// | 90 | 30 | 400 | 0.075 | 0.375/1.1875 = 0.3157895 | 200/400 = 0.50 |
    /// | 95+ | 20 | 100 | 0.2 | 1 | 70/100 = 0.70 |
    ///
    /// l = 100000, 95121.95, 86062.72, 70414.95, 48178.65 (l·(1 − q) down the table);
    /// L = 2.5·(l_i + l_{i+1}) = 487804.88, 452961.67, 391194.17, 296484.00, and the open
    /// interval L = l/m = 48178.65/0.2 = 240893.25; T = 1869337.98, e75 = 18.693 years.
    /// Healthy years (1 − π)·L = 463414.63, 385017.42, 273835.92, 148242.00, 72267.98;
    /// sum 1342777.95, H75 = 13.428 years.
    ///
    /// Variance of e75: Var(q) = q²(1 − q)/D, Var(e_w) = 1/(m²D) = 1/(0.04·20) = 1.25;
    /// Σ l_i²((2.5 + e_{i+1})²)Var(q_i) + l_w²·1.25 over l_0² gives SE 0.6939, CI
    /// 17.333–20.053. Var(H75) adds Σ L_i²·π(1 − π)/N and uses (2.5(1 − π_i) + H_{i+1}):
    /// SE 0.3168, CI 12.807–14.049.
    #[test]
    fn hand_worked_example() {
        let iv = |d, p, dep, width| AgeInterval {
            width,
            deaths: d,
            person_years: p,
            sample: p,
            dependent: dep,
        };
        let t = life_table(&[
            iv(20.0, 2000.0, 100.0, 5.0),
            iv(30.0, 1500.0, 225.0, 5.0),
            iv(40.0, 1000.0, 300.0, 5.0),
            iv(30.0, 400.0, 200.0, 5.0),
            iv(20.0, 100.0, 70.0, f64::INFINITY),
        ])
        .unwrap();
        assert!(close(t.rows[1].q, 0.10 / 1.05, 1e-12));
        assert!(close(t.rows[3].l, 70414.95, 0.01));
        assert!(close(t.rows[4].big_l, 240893.25, 0.01));
        assert!(
            close(t.life_expectancy.value, 18.693, 0.0005),
            "{}",
            t.life_expectancy.value
        );
        assert!(
            close(t.independence.value, 13.428, 0.0005),
            "{}",
            t.independence.value
        );
        assert!(
            close(t.life_expectancy.se, 0.6939, 0.00005),
            "{}",
            t.life_expectancy.se
        );
        assert!(
            close(t.life_expectancy.lower, 17.333, 0.0005)
                && close(t.life_expectancy.upper, 20.053, 0.0005)
        );
        assert!(
            close(t.independence.se, 0.3168, 0.00005),
            "{}",
            t.independence.se
        );
        assert!(
            close(t.independence.lower, 12.807, 0.0005)
                && close(t.independence.upper, 14.049, 0.0005)
        );
    }

    /// Published example: Euro-REVES, E. Hauet, "Practical Guide on Health Expectancy
    /// Calculation: Sullivan Method" (June 1996, revised 1997), section "An application",
    /// table 1 (French life table 1991 and the 1991 health survey): l_x and L_x for ages 65,
    /// 70, 75, 80, 85+ and the disability-free person-years; published disability-free life
    /// expectancy 12.3 years at 65 and 5.8 at 75.
    #[test]
    fn published_euro_reves_example() {
        let l = [89_367.0, 84_968.0, 78_012.0, 66_625.0, 48_532.0];
        let big_l = [436_589.0, 408_793.0, 364_013.0, 290_533.0, 289_068.0];
        let healthy_years = [350_877.0, 291_942.0, 229_175.0, 141_559.0, 83_967.0];
        let share: Vec<f64> = healthy_years
            .iter()
            .zip(&big_l)
            .map(|(h, bl)| h / bl)
            .collect();
        let at65 = sullivan(l[0], &big_l, &share);
        let at75 = sullivan(l[2], &big_l[2..], &share[2..]);
        assert_eq!(format!("{at65:.1}"), "12.3");
        assert_eq!(format!("{at75:.1}"), "5.8");
    }

    #[test]
    fn open_interval_without_deaths_is_an_error() {
        let iv = AgeInterval {
            width: 5.0,
            deaths: 1.0,
            person_years: 10.0,
            sample: 10.0,
            dependent: 0.0,
        };
        let open = AgeInterval { deaths: 0.0, ..iv };
        assert_eq!(
            life_table(&[iv, open]),
            Err(LifeTableError::NoDeathsInOpenInterval)
        );
        assert_eq!(life_table(&[]), Err(LifeTableError::Empty));
    }
}
