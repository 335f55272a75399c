//! The synthetic register (台帳) beside a synthetic dataset, to try re-identification
//! (`ittai run --register`, docs/reference/privacy.md#re-identification-on-this-machine)
//! without real names: `OUT/register/台帳.csv` with one row per person and
//! `OUT/register/sample.key`, both owner-only (0600) in an owner-only folder (0700).
//!
//! `台帳.csv` is UTF-8 with a BOM and the header 保険者番号, 被保険者番号, 氏名, カナ, 住所, 電話,
//! 市町村コード: the 保険者番号 and 市町村コード of the person's latest coverage spell (a person
//! who moved between municipalities has one row, in the municipality moved to), the
//! 被保険者番号 `index + 1` in 8 digits ([`insured_number`]), a name drawn from small lists
//! of common family names and of given names of people born before 1950, with their
//! katakana readings (氏名 and カナ with an ideographic space U+3000 between family and given
//! name), a made-up address in the municipality (`<県><市町村><町名><n>丁目<n>-<n>`) and a
//! telephone number `0000-00-NNNN`, which no Japanese number begins with. Names and
//! addresses are common words put together at random; any likeness to a real person is
//! chance.
//!
//! For `ittai run --register` to find these persons, the dataset's person ids are the ids
//! of this register under the sample key ([`RegisterIds`]): `key.person_id(保険者番号, "",
//! 被保険者番号)` as `ittai ingest` computes them. The union's 保険者番号 of the first
//! municipality is used for every person: for a 後期 insurer the id depends only on `39` and
//! the prefecture (decision D51), so the register row's own 保険者番号 gives the same id.
//!
//! The sample key ([`SAMPLE_KEY_HEX`]) is published in this source file: it protects
//! nothing and must never be used for real data.

use std::path::{Path, PathBuf};

use ittai_dataset::atomic::{AtomicFile, Visibility, bom_csv, commit_csv, write_atomic};
use ittai_ingest::IdKey;
use ittai_model::{PersonId, Sex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::demography::splitmix;
use crate::world::World;

/// The sample key of synthetic registers: 64 hex digits (the SHA-256 of "ittai sample
/// key: synthetic data only, never for real data"), written to `register/sample.key`. It is
/// public, so it protects nothing: never use it for real data (make a key of your own with
/// `openssl rand -hex 32`).
pub const SAMPLE_KEY_HEX: &str = "5d852a5a5bc31fd7b72b4481299177e57ae45706eda2a0e3d957230edce62cb8";

/// Folder of the register, inside the dataset folder (`ittai validate` and `ittai run` read
/// only the table files at the top of the dataset folder, never this one).
pub const REGISTER_DIR: &str = "register";

/// File name of the register CSV.
pub const REGISTER_FILE: &str = "台帳.csv";

/// File name of the sample key.
pub const SAMPLE_KEY_FILE: &str = "sample.key";

/// Header row of the register CSV.
pub const REGISTER_HEADER: [&str; 7] = [
    "保険者番号",
    "被保険者番号",
    "氏名",
    "カナ",
    "住所",
    "電話",
    "市町村コード",
];

/// What `register/README.txt` says.
const README: &str = "\
register/ — 合成データ（ittai synth）の台帳 / the register of a synthetic dataset

台帳.csv    架空の氏名・カナ・住所・電話番号です（よくある姓と名、町名を無作為に組み合わせたもの。
            電話番号は 0000-00- で始まる実在しない番号）。実在の人物とは関係ありません。
            Made-up names, readings, addresses and telephone numbers (0000-00-NNNN).
sample.key  サンプル鍵です。ittai のソースコードに公開されているため何も守りません。実データには
            絶対に使わないでください（本番の鍵は `openssl rand -hex 32 > 鍵ファイル` で作り、
            安全に保管します）。
            A sample key, public in ittai's source code: it protects nothing. Never use it
            for real data.

名前を表示する（再識別） / names in the lists:
  ittai run --data <this dataset> --register <this dataset>/register/台帳.csv \\
            --id-key-file <this dataset>/register/sample.key [--municipality 市町村コード]
";

/// The sample key as `IdKey::load` reads [`SAMPLE_KEY_FILE`] (its hex text is the key
/// material).
pub fn sample_key() -> IdKey {
    IdKey::parse(SAMPLE_KEY_HEX.as_bytes()).expect("the sample key is 64 hex digits")
}

/// The 被保険者番号 of person `index` in the synthetic register: `index + 1` in 8 digits
/// (at most 50,000,000 persons, so it always fits).
pub fn insured_number(index: u64) -> String {
    format!("{:08}", index + 1)
}

/// The person ids of a dataset written with its register: the ids `ittai ingest` would give
/// the register's rows under the sample key.
#[derive(Debug, Clone)]
pub struct RegisterIds {
    key: IdKey,
    insurer: String,
}

impl RegisterIds {
    /// The ids under [`sample_key`] with the union's 保険者番号 `insurer`.
    pub fn sample(insurer: &str) -> Self {
        RegisterIds {
            key: sample_key(),
            insurer: insurer.to_string(),
        }
    }

    /// The person id of person `index`: `key.person_id(insurer, "", insured_number(index))`.
    pub fn person_id(&self, index: u64) -> PersonId {
        self.key
            .person_id(&self.insurer, "", &insured_number(index))
    }
}

/// What the register needs of a simulated person.
#[derive(Debug, Clone, Copy)]
pub struct RegisterPerson {
    /// Person index.
    pub index: u64,
    /// Municipality index of the latest coverage spell.
    pub municipality: usize,
    /// Sex (for the given name).
    pub sex: Sex,
}

/// Common family names (姓) with their readings.
const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];

/// Given names (名) common among men born before 1950, with their readings.
const MALE: &[(&str, &str)] = &[
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("博", "ヒロシ"),
    ("実", "ミノル"),
    ("勇", "イサム"),
    ("進", "ススム"),
    ("正", "タダシ"),
    ("三郎", "サブロウ"),
    ("一郎", "イチロウ"),
    ("修", "オサム"),
    ("武", "タケシ"),
    ("昭", "アキラ"),
    ("和夫", "カズオ"),
    ("正雄", "マサオ"),
    ("勝", "マサル"),
    ("豊", "ユタカ"),
];

/// Given names (名) common among women born before 1950, with their readings.
const FEMALE: &[(&str, &str)] = &[
    ("和子", "カズコ"),
    ("幸子", "サチコ"),
    ("節子", "セツコ"),
    ("洋子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("京子", "キョウコ"),
    ("美代子", "ミヨコ"),
    ("久子", "ヒサコ"),
    ("文子", "フミコ"),
    ("千代子", "チヨコ"),
    ("静子", "シズコ"),
    ("光子", "ミツコ"),
    ("正子", "マサコ"),
    ("弘子", "ヒロコ"),
    ("悦子", "エツコ"),
    ("澄子", "スミコ"),
];

/// Town names (町名) found in many municipalities.
const TOWNS: &[&str] = &[
    "本町", "栄町", "緑町", "旭町", "中央", "東町", "西町", "南町", "北町", "新町", "幸町", "若葉",
];

/// The register CSV being written, one chunk of persons at a time (in person order).
pub struct RegisterWriter {
    csv: csv::Writer<AtomicFile>,
    prefecture: String,
    rows: u64,
    path: PathBuf,
}

impl std::fmt::Debug for RegisterWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// Creates `dir` if missing, readable by the owner only (0700 on Unix).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

impl RegisterWriter {
    /// Creates `out/register/` (0700) with `sample.key` and `README.txt`, and starts
    /// `台帳.csv` (0600 when committed) with its header. `prefecture` is the union's
    /// prefecture name (鳥取県), the start of every address.
    ///
    /// # Errors
    /// I/O errors creating the folder or the files.
    pub fn create(out: &Path, prefecture: &str) -> std::io::Result<Self> {
        let dir = out.join(REGISTER_DIR);
        private_dir(&dir)?;
        write_atomic(
            &dir.join(SAMPLE_KEY_FILE),
            format!("{SAMPLE_KEY_HEX}\n").as_bytes(),
            Visibility::Private,
        )?;
        write_atomic(
            &dir.join("README.txt"),
            README.as_bytes(),
            Visibility::Private,
        )?;
        let path = dir.join(REGISTER_FILE);
        let csv = bom_csv(&path, Visibility::Private, &REGISTER_HEADER)?;
        Ok(RegisterWriter {
            csv,
            prefecture: prefecture.to_string(),
            rows: 0,
            path,
        })
    }

    /// Appends the rows of `persons` (in the order given).
    ///
    /// # Errors
    /// I/O errors writing.
    pub fn write(&mut self, world: &World, persons: &[RegisterPerson]) -> std::io::Result<()> {
        for p in persons {
            let row = register_row(world, &self.prefecture, p);
            self.csv.write_record(&row).map_err(std::io::Error::other)?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Moves `台帳.csv` into place; returns its rows and path.
    ///
    /// # Errors
    /// I/O errors flushing or renaming.
    pub fn finish(self) -> std::io::Result<(u64, PathBuf)> {
        commit_csv(self.csv)?;
        Ok((self.rows, self.path))
    }
}

/// The register row of one person (the columns of [`REGISTER_HEADER`]), drawn from a
/// random stream of the person's own that no table uses, so the tables are the same with
/// or without the register (person ids aside).
fn register_row(world: &World, prefecture: &str, p: &RegisterPerson) -> [String; 7] {
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(world.seed ^ 0x0DA1_C40E_5EED));
    rng.set_stream(p.index);
    let (family, family_kana) = FAMILY[rng.random_range(0..FAMILY.len())];
    let given_names = if p.sex == Sex::Male { MALE } else { FEMALE };
    let (given, given_kana) = given_names[rng.random_range(0..given_names.len())];
    let m = &world.municipalities[p.municipality];
    let town = TOWNS[rng.random_range(0..TOWNS.len())];
    let address = format!(
        "{prefecture}{}{town}{}丁目{}-{}",
        m.name,
        rng.random_range(1..=5),
        rng.random_range(1..=30),
        rng.random_range(1..=20)
    );
    let phone = format!("0000-00-{:04}", rng.random_range(0..10_000));
    [
        m.insurer.clone(),
        insured_number(p.index),
        format!("{family}\u{3000}{given}"),
        format!("{family_kana}\u{3000}{given_kana}"),
        address,
        phone,
        m.code.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_key_is_a_valid_key_file() {
        // As `ittai run --id-key-file register/sample.key` reads it: with its newline.
        let from_file = IdKey::parse(format!("{SAMPLE_KEY_HEX}\n").as_bytes()).expect("valid");
        assert_eq!(
            from_file.person_id("39312012", "", "1"),
            sample_key().person_id("39312012", "", "1")
        );
        assert_eq!(SAMPLE_KEY_HEX.len(), 64);
    }

    #[test]
    fn ids_are_those_of_the_register_rows() {
        let ids = RegisterIds::sample("39312012");
        // 米子市's 保険者番号: the same union, so the same id (D51).
        assert_eq!(
            ids.person_id(0),
            sample_key().person_id("39312020", "", "00000001")
        );
        assert_eq!(insured_number(41), "00000042");
        assert_ne!(ids.person_id(0), ids.person_id(1));
    }

    #[test]
    fn names_have_readings_and_an_ideographic_space() {
        for list in [FAMILY, MALE, FEMALE] {
            for (kanji, kana) in list {
                assert!(!kanji.is_empty() && !kanji.contains('\u{3000}'));
                assert!(
                    kana.chars().all(|c| ('\u{30A1}'..='\u{30FC}').contains(&c)),
                    "{kana}"
                );
            }
        }
    }
}
