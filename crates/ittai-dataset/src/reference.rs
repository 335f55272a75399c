//! Vendored reference data compiled into the binary: municipality and prefecture codes
//! and the 2020 census population by sex and age. Origins: `reference/SOURCES.md`.

use ittai_model::Sex;

const MUNICIPALITIES_CSV: &str = include_str!("../../../reference/codes/localgovjp-utf8.csv");
const PREFECTURES_CSV: &str = include_str!("../../../reference/codes/prefjp-utf8.csv");
const PYRAMID_CSV: &str = include_str!("../../../reference/stats/jlstat_pyramid_total.csv");

/// A municipality (市区町村) with its 全国地方公共団体コード.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// 6-digit code with check digit (e.g. 312011 鳥取市).
    pub code: String,
    /// Prefecture number 1–47.
    pub prefecture_code: u8,
    /// Prefecture name (鳥取県).
    pub prefecture: String,
    /// Name (鳥取市; wards are "札幌市 中央区").
    pub name: String,
    /// Reading in hiragana.
    pub kana: String,
    /// True for a ward of a designated city (政令市の区). Such cities are one municipality
    /// in the 後期 data, so wards are not used as municipalities by the generator.
    pub is_ward: bool,
}

/// A prefecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefecture {
    /// Number 1–47.
    pub code: u8,
    /// Name with suffix (鳥取県).
    pub name: String,
    /// Short name (鳥取).
    pub short: String,
    /// English name (Tottori).
    pub name_en: String,
}

fn csv_rows(text: &'static str) -> impl Iterator<Item = csv::StringRecord> {
    csv::ReaderBuilder::new()
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .into_records()
        .map(|r| r.expect("vendored CSV parses"))
}

/// All 1,916 municipalities of `reference/codes/localgovjp-utf8.csv` (including wards).
pub fn municipalities() -> Vec<Municipality> {
    // pid,pref,cid,city,citykana,lat,lng,url,phrase,lgcode
    csv_rows(MUNICIPALITIES_CSV)
        .map(|r| Municipality {
            code: r[9].to_string(),
            prefecture_code: r[0].parse().expect("pid"),
            prefecture: r[1].to_string(),
            name: r[3].to_string(),
            kana: r[4].to_string(),
            is_ward: r[3].contains(' '),
        })
        .collect()
}

/// The 47 prefectures.
pub fn prefectures() -> Vec<Prefecture> {
    // pid,pref,prefkana,prefshort,prefshortkana,pref_en,...
    csv_rows(PREFECTURES_CSV)
        .map(|r| Prefecture {
            code: r[0].parse().expect("pid"),
            name: r[1].to_string(),
            short: r[3].to_string(),
            name_en: r[5].to_string(),
        })
        .collect()
}

/// Finds a prefecture by number (`31`), Japanese name (`鳥取県`, `鳥取`) or English name
/// (`Tottori`, any case).
pub fn find_prefecture(key: &str) -> Option<Prefecture> {
    let k = key.trim();
    prefectures().into_iter().find(|p| {
        k.parse::<u8>().ok() == Some(p.code)
            || p.name == k
            || p.short == k
            || p.name_en.eq_ignore_ascii_case(k)
    })
}

/// One cell of the census population: sex × 5-year age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CensusCell {
    /// Sex.
    pub sex: Sex,
    /// First age of the band (0, 5, …, 100).
    pub age_from: u8,
    /// Last age of the band; `None` for 100歳以上.
    pub age_to: Option<u8>,
    /// Persons.
    pub count: u64,
}

/// Population by sex × 5-year band in census year `year` (1920 … 2020, every 5 years).
/// Source: 国勢調査 via JLSTAT (`reference/stats/jlstat_pyramid_total.csv`).
pub fn census(year: u16) -> Vec<CensusCell> {
    csv_rows(PYRAMID_CSV)
        .filter(|r| r[0].parse::<u16>().ok() == Some(year))
        .filter_map(|r| {
            let sex = match &r[1] {
                "男性" => Sex::Male,
                "女性" => Sex::Female,
                _ => return None,
            };
            let age = r[2].trim_end_matches('歳').trim_end_matches("歳以上");
            let (from, to) = if let Some(x) = r[2].strip_suffix("歳以上") {
                (x.parse().ok()?, None)
            } else {
                let (a, b) = age.split_once('~')?;
                (a.parse().ok()?, Some(b.parse().ok()?))
            };
            Some(CensusCell {
                sex,
                age_from: from,
                age_to: to,
                count: r[3].parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ittai_model::check_digit::is_valid_municipality_code;

    #[test]
    fn municipalities_are_valid_codes() {
        let m = municipalities();
        assert_eq!(m.len(), 1916);
        assert!(
            m.iter().all(|x| is_valid_municipality_code(&x.code)),
            "every code passes the check digit"
        );
        let tottori: Vec<_> = m.iter().filter(|x| x.prefecture_code == 31).collect();
        assert_eq!(tottori.len(), 19);
        assert_eq!(tottori[0].name, "鳥取市");
        assert_eq!(tottori[0].code, "312011");
        assert!(m.iter().any(|x| x.is_ward && x.name == "札幌市 中央区"));
        assert_eq!(find_prefecture("tottori").unwrap().code, 31);
        assert_eq!(find_prefecture("鳥取県").unwrap().code, 31);
        assert_eq!(find_prefecture("31").unwrap().name, "鳥取県");
    }

    #[test]
    fn census_2020_75_plus() {
        let c = census(2020);
        let m7579 = c
            .iter()
            .find(|x| x.sex == Sex::Male && x.age_from == 75)
            .unwrap();
        assert_eq!(m7579.count, 3_092_860); // 国勢調査 2020, 男性 75~79歳
        let f100 = c
            .iter()
            .find(|x| x.sex == Sex::Female && x.age_from == 100)
            .unwrap();
        assert_eq!((f100.age_to, f100.count), (None, 69_757));
        let total_75: u64 = c.iter().filter(|x| x.age_from >= 75).map(|x| x.count).sum();
        assert_eq!(total_75, 18_248_742);
    }
}
