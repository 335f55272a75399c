//! The canonical dataset contract (docs/reference/dataset.md): ten tables (nine required), their columns, types,
//! nullability and value checks.
//!
//! Each table is declared once below; the declaration generates the row struct used by
//! writers (synthetic population, ingest), the [`TableSpec`] used by the reader and the
//! validator, and the column order of every file we write. The table of plausible ranges
//! and what happens to a bad value is documented for users in `docs/VALIDATION.md`.

use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;
use ittai_model::support::{Approach, Programme, RULE_IDS, Referral, Staff};
use ittai_model::{ClaimKind, LossReason, PersonId, QuestionnaireSetting, Route, Sex, UrineTest};

use super::column::{ColumnBuilder, ColumnValue};

/// Physical type of a canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 string (codes keep their leading zeros).
    Str,
    /// Unsigned 8-bit code.
    U8,
    /// 32-bit integer (days).
    I32,
    /// 64-bit integer (points, units).
    I64,
    /// 64-bit float (measurements).
    F64,
    /// Boolean.
    Bool,
    /// Calendar date (ISO `YYYY-MM-DD` in CSV, Date32 in Parquet).
    Date,
}

impl ColType {
    /// Arrow type written to Parquet.
    pub fn arrow(self) -> DataType {
        match self {
            ColType::Str => DataType::Utf8,
            ColType::U8 => DataType::UInt8,
            ColType::I32 => DataType::Int32,
            ColType::I64 => DataType::Int64,
            ColType::F64 => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Date => DataType::Date32,
        }
    }
    /// Name used in messages and docs (`str`, `u8`, `i32`, `i64`, `f64`, `bool`, `date`).
    pub fn name(self) -> &'static str {
        match self {
            ColType::Str => "str",
            ColType::U8 => "u8",
            ColType::I32 => "i32",
            ColType::I64 => "i64",
            ColType::F64 => "f64",
            ColType::Bool => "bool",
            ColType::Date => "date",
        }
    }
}

/// The value check of a column. Dates are checked against the validation's `as_of` day
/// (the data end); see `docs/VALIDATION.md` for the table in words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// No check beyond the type.
    Unchecked,
    /// An identifier: non-empty, at most 64 bytes, no control characters.
    Id,
    /// A u8 code in the listed set.
    Codes(&'static [u8]),
    /// A questionnaire answer code in 1..=max.
    Answer(u8),
    /// 6-digit 全国地方公共団体コード with a valid check digit.
    Municipality,
    /// 8-digit 保険者番号 with a valid 検証番号.
    Insurer,
    /// Exactly n ASCII digits.
    Digits(usize),
    /// Exactly n ASCII letters or digits.
    Alnum(usize),
    /// ICD-10 without a dot: a capital letter, two digits, up to two more letters, digits or
    /// `-` (the SSK master has forms such as `T08-0` and `Q999b`).
    Icd10,
    /// A care-need level code (01, 06, 11, 12, 13, 21–25).
    CareLevel,
    /// A 2-character サービス種類コード (letters or digits).
    ServiceType,
    /// A 12-character YJ code whose first 7 characters are digits (薬効分類 4 + 成分 3).
    Yj,
    /// A number within [min, max] (plausible range, unit in the column doc).
    Range(f64, f64),
    /// A date from 1900-01-01 to the data end.
    PastDate,
    /// A date from 1900-01-01 to five years after the data end (validity periods).
    FutureDate,
    /// A service month: the first day of a month, from 1900-01 to the data end.
    ServiceMonth,
    /// A code of a vocabulary ([`Vocab`]): the code, its Japanese label or an alias is
    /// accepted and the validator stores the code.
    Vocabulary(Vocab),
}

/// A vocabulary of a code column of the `interventions` table: its (code, Japanese label)
/// pairs and the normaliser that maps a code, a label or an alias to the code.
///
/// A named vocabulary rather than a slice and a function pointer: [`Check`] is compared
/// (`==`) and printed (`{:?}`, the contract fingerprint of validation stamps), and a
/// function pointer is neither reliably comparable nor printable the same way in every
/// build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocab {
    /// 事業 ([`Programme`]).
    Programme,
    /// The list a record came from: R01 … R10 ([`RULE_IDS`]).
    RuleId,
    /// 支援方法 ([`Approach`]).
    Approach,
    /// つなぎ先 ([`Referral`]).
    Referral,
    /// 従事者 ([`Staff`]).
    Staff,
}

impl Vocab {
    /// Every (code, Japanese label) pair, in code-table order.
    pub fn codes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Vocab::Programme => Programme::CODES,
            Vocab::RuleId => RULE_IDS,
            Vocab::Approach => Approach::CODES,
            Vocab::Referral => Referral::CODES,
            Vocab::Staff => Staff::CODES,
        }
    }

    /// The code of `text` — a code (any case), a Japanese label or an alias of the model's
    /// `parse`, with surrounding spaces (ASCII or 全角) ignored — or `None` when it is none
    /// of them. A rule id is `R01` … `R10` in any case, also in full-width characters
    /// (`Ｒ０１`), or the Japanese name of its list (`低栄養`).
    ///
    /// ```
    /// use ittai_dataset::Vocab;
    /// assert_eq!(Vocab::Approach.normalise("訪問"), Some("visit"));
    /// assert_eq!(Vocab::Programme.normalise(" Undernutrition "), Some("undernutrition"));
    /// assert_eq!(Vocab::RuleId.normalise("ｒ０３"), Some("R03"));
    /// assert_eq!(Vocab::Programme.normalise("栄養指導"), None);
    /// ```
    pub fn normalise(self, text: &str) -> Option<&'static str> {
        match self {
            Vocab::Programme => Programme::parse(text).map(Programme::code),
            Vocab::RuleId => rule_id(text),
            Vocab::Approach => Approach::parse(text).map(Approach::code),
            Vocab::Referral => Referral::parse(text).map(Referral::code),
            Vocab::Staff => Staff::parse(text).map(Staff::code),
        }
    }
}

/// The rule id of `text`: `R01` … `R10` in any case, full-width letters and digits read as
/// their ASCII forms, or the exact Japanese name of the list; surrounding spaces (ASCII or
/// 全角) ignored.
fn rule_id(text: &str) -> Option<&'static str> {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    // Full-width ASCII (U+FF01–U+FF5E) is the ASCII character plus 0xFEE0.
    let ascii: String = t
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    RULE_IDS
        .iter()
        .find(|(code, ja)| ascii.eq_ignore_ascii_case(code) || t == *ja)
        .map(|(code, _)| *code)
}

/// What happens to a row whose value fails its check or does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBad {
    /// The whole row goes to the rejects file (keys, codes, dates).
    RejectRow,
    /// The value is set to null in the clean data and recorded in the rejects file with
    /// its original text; the rest of the row is kept (measurements, answers).
    NullValue,
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// snake_case name.
    pub name: &'static str,
    /// Physical type.
    pub ty: ColType,
    /// Whether null is allowed.
    pub nullable: bool,
    /// Value check.
    pub check: Check,
    /// Consequence of a failed check.
    pub on_bad: OnBad,
    /// One-line description with unit.
    pub doc: &'static str,
}

/// One canonical table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// File stem (`persons` → `persons.parquet` / `persons.csv`).
    pub name: &'static str,
    /// What one row is.
    pub row: &'static str,
    /// Columns in file order.
    pub columns: &'static [ColumnSpec],
    /// The date column summarised as the table's date range.
    pub date_column: &'static str,
    /// Pairs (start, end) of date columns where end must not precede start
    /// (`strict` = end must be after start).
    pub intervals: &'static [(&'static str, &'static str, bool)],
    /// Whether a dataset must hold this table. An optional table (`interventions`) may be
    /// absent; then the commands that need it say so and skip that part.
    pub required: bool,
    /// Nullable columns added to the contract after datasets were written: a file without
    /// such a column is read as if the column were all null.
    pub added_columns: &'static [&'static str],
}

impl TableSpec {
    /// Position of a column by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    /// The Arrow schema of the table's contract columns.
    pub fn arrow_schema(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
                .collect::<Vec<_>>(),
        )
    }
}

/// A row struct of a canonical table.
pub trait Row {
    /// The table this row belongs to.
    const SPEC: &'static TableSpec;
    /// Appends this row's values to one builder per column (in column order).
    fn append_to(&self, columns: &mut [ColumnBuilder]);
    /// Row `i` of a batch whose first columns are the table's contract columns in order
    /// (as [`super::read::open`] gives them); `None` when a required value is null.
    fn from_columns(columns: &[arrow_array::ArrayRef], i: usize) -> Option<Self>
    where
        Self: Sized;
}

const fn on_bad(nullable: bool, explicit: Option<OnBad>) -> OnBad {
    match explicit {
        Some(x) => x,
        None if nullable => OnBad::NullValue,
        None => OnBad::RejectRow,
    }
}

macro_rules! explicit {
    () => {
        ::core::option::Option::None
    };
    ($x:ident) => {
        ::core::option::Option::Some(OnBad::$x)
    };
}

macro_rules! canonical_tables {
    ($(
        #[doc = $tdoc:literal]
        $Row:ident, $SPEC:ident => $table:literal, date = $date:literal,
        intervals = [$(($s:literal, $e:literal, $strict:literal)),*],
        required = $required:literal, added = [$($added:literal),*] {
            $( #[doc = $fdoc:literal] $field:ident : $rty:ty => $check:expr $(, $ob:ident)? ; )*
        }
    )*) => {
        $(
            #[doc = $tdoc]
            #[doc = ""]
            #[doc = concat!("Row of the `", $table, "` table; fields in file order.")]
            #[derive(Debug, Clone, PartialEq)]
            pub struct $Row {
                $( #[doc = $fdoc] pub $field: $rty, )*
            }

            #[doc = concat!("Contract of the `", $table, "` table.")]
            pub static $SPEC: TableSpec = TableSpec {
                name: $table,
                row: $tdoc,
                columns: &[$(ColumnSpec {
                    name: stringify!($field),
                    ty: <$rty as ColumnValue>::TYPE,
                    nullable: <$rty as ColumnValue>::NULLABLE,
                    check: $check,
                    on_bad: on_bad(<$rty as ColumnValue>::NULLABLE, explicit!($($ob)?)),
                    doc: $fdoc,
                }),*],
                date_column: $date,
                intervals: &[$(($s, $e, $strict)),*],
                required: $required,
                added_columns: &[$($added),*],
            };

            impl Row for $Row {
                const SPEC: &'static TableSpec = &$SPEC;
                fn append_to(&self, columns: &mut [ColumnBuilder]) {
                    let mut it = columns.iter_mut();
                    $( self.$field.append_to(it.next().expect("one builder per column")); )*
                }
                fn from_columns(columns: &[arrow_array::ArrayRef], i: usize) -> Option<Self> {
                    let mut it = columns.iter();
                    Some($Row { $( $field: <$rty as ColumnValue>::get(it.next()?.as_ref(), i)?, )* })
                }
            }
        )*

        /// All ten tables, in the order the validator reads them (persons first, claims
        /// before their lines, support records last). Nine are required; `interventions`
        /// is optional ([`TableSpec::required`]).
        pub static TABLES: [&TableSpec; 10] = [$(&$SPEC),*];
    };
}

use Check::*;

// The code sets of the u8 code columns, from the model's code types.
const SEX: &[u8] = &Sex::CODES;
const LOSS_REASON: &[u8] = &LossReason::CODES;
const URINE: &[u8] = &UrineTest::CODES;
const SETTING: &[u8] = &QuestionnaireSetting::CODES;
const CLAIM_KIND: &[u8] = &ClaimKind::CODES;
const ROUTE: &[u8] = &Route::CODES;

canonical_tables! {
    /// One coverage spell (資格) of an insured person.
    Person, PERSONS => "persons", date = "coverage_start",
    intervals = [("coverage_start", "coverage_end", true)], required = true, added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 性別: 1 男, 2 女 (u8).
        sex: u8 => Codes(SEX);
        /// 生年月日 (date).
        birth_date: NaiveDate => PastDate;
        /// 全国地方公共団体コード, 6 digits with check digit (str).
        municipality_code: String => Municipality;
        /// 保険者番号, 8 digits with 検証番号 (str).
        insurer_number: String => Insurer;
        /// 資格取得日, first covered day (date).
        coverage_start: NaiveDate => PastDate;
        /// 資格喪失日, first day without coverage; null = still covered (date).
        coverage_end: Option<NaiveDate> => FutureDate, RejectRow;
        /// 喪失事由: 1 死亡, 2 転出, 3 生活保護, 9 other (u8).
        loss_reason: Option<u8> => Codes(LOSS_REASON);
    }

    /// One health checkup (後期高齢者健康診査).
    Checkup, CHECKUPS => "checkups", date = "exam_date", intervals = [], required = true,
    added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 健診実施日 (date).
        exam_date: NaiveDate => PastDate;
        /// 身長, cm (f64).
        height_cm: Option<f64> => Range(100.0, 220.0);
        /// 体重, kg (f64).
        weight_kg: Option<f64> => Range(20.0, 200.0);
        /// BMI, kg/m² (f64); derived from height and weight when null.
        bmi: Option<f64> => Range(10.0, 60.0);
        /// 腹囲, cm (f64).
        waist_cm: Option<f64> => Range(40.0, 200.0);
        /// 収縮期血圧, mmHg (f64).
        sbp: Option<f64> => Range(60.0, 300.0);
        /// 拡張期血圧, mmHg (f64).
        dbp: Option<f64> => Range(30.0, 200.0);
        /// HbA1c, % NGSP (f64).
        hba1c: Option<f64> => Range(3.0, 20.0);
        /// 空腹時血糖, mg/dL (f64).
        fasting_glucose: Option<f64> => Range(30.0, 800.0);
        /// 中性脂肪, mg/dL (f64).
        tg: Option<f64> => Range(10.0, 5000.0);
        /// HDL コレステロール, mg/dL (f64).
        hdl: Option<f64> => Range(5.0, 250.0);
        /// LDL コレステロール, mg/dL (f64).
        ldl: Option<f64> => Range(10.0, 600.0);
        /// AST (GOT), U/L (f64).
        ast: Option<f64> => Range(1.0, 5000.0);
        /// ALT (GPT), U/L (f64).
        alt: Option<f64> => Range(1.0, 5000.0);
        /// γ-GT, U/L (f64).
        ggt: Option<f64> => Range(1.0, 5000.0);
        /// 血清クレアチニン, mg/dL (f64).
        creatinine: Option<f64> => Range(0.1, 20.0);
        /// eGFR, mL/min/1.73m² (f64).
        egfr: Option<f64> => Range(1.0, 200.0);
        /// 尿蛋白: 1 −, 2 ±, 3 +, 4 ++, 5 +++ (u8).
        urine_protein: Option<u8> => Codes(URINE);
        /// 尿糖: 1 −, 2 ±, 3 +, 4 ++, 5 +++ (u8).
        urine_glucose: Option<u8> => Codes(URINE);
        /// 服薬1 (血圧) (bool).
        med_bp: Option<bool> => Unchecked;
        /// 服薬2 (血糖) (bool).
        med_dm: Option<bool> => Unchecked;
        /// 服薬3 (脂質) (bool).
        med_lipid: Option<bool> => Unchecked;
    }

    /// One dental checkup (後期高齢者歯科健康診査).
    DentalCheckup, DENTAL_CHECKUPS => "dental_checkups", date = "exam_date", intervals = [],
    required = true, added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 歯科健診実施日 (date).
        exam_date: NaiveDate => PastDate;
    }

    /// One administration of the 15-item 後期高齢者の質問票.
    Questionnaire, QUESTIONNAIRES => "questionnaires", date = "answer_date", intervals = [],
    required = true, added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 回答日 (date).
        answer_date: NaiveDate => PastDate;
        /// 実施場所: 1 健診, 2 通いの場, 3 医療機関, 9 other (u8).
        setting: u8 => Codes(SETTING);
        /// Q1 健康状態: 1 よい … 5 よくない (u8).
        q01: Option<u8> => Answer(5);
        /// Q2 生活満足度: 1 満足 … 4 不満 (u8).
        q02: Option<u8> => Answer(4);
        /// Q3 1日3食: 1 はい, 2 いいえ (u8).
        q03: Option<u8> => Answer(2);
        /// Q4 固いものが食べにくい: 1 はい, 2 いいえ (u8).
        q04: Option<u8> => Answer(2);
        /// Q5 むせる: 1 はい, 2 いいえ (u8).
        q05: Option<u8> => Answer(2);
        /// Q6 体重減少: 1 はい, 2 いいえ (u8).
        q06: Option<u8> => Answer(2);
        /// Q7 歩く速度が遅くなった: 1 はい, 2 いいえ (u8).
        q07: Option<u8> => Answer(2);
        /// Q8 1年間に転んだ: 1 はい, 2 いいえ (u8).
        q08: Option<u8> => Answer(2);
        /// Q9 週1回以上の運動: 1 はい, 2 いいえ (u8).
        q09: Option<u8> => Answer(2);
        /// Q10 物忘れを指摘される: 1 はい, 2 いいえ (u8).
        q10: Option<u8> => Answer(2);
        /// Q11 今日の日付がわからない: 1 はい, 2 いいえ (u8).
        q11: Option<u8> => Answer(2);
        /// Q12 喫煙: 1 吸っている, 2 吸っていない, 3 やめた (u8).
        q12: Option<u8> => Answer(3);
        /// Q13 週1回以上の外出: 1 はい, 2 いいえ (u8).
        q13: Option<u8> => Answer(2);
        /// Q14 家族や友人との付き合い: 1 はい, 2 いいえ (u8).
        q14: Option<u8> => Answer(2);
        /// Q15 相談できる人: 1 はい, 2 いいえ (u8).
        q15: Option<u8> => Answer(2);
    }

    /// One medical receipt (医療レセプト).
    MedicalClaim, MEDICAL_CLAIMS => "medical_claims", date = "service_month", intervals = [],
    required = true, added = [] {
        /// Receipt id, unique in the dataset (str).
        claim_id: String => Id;
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 診療年月, first day of the month (date).
        service_month: NaiveDate => ServiceMonth;
        /// 1 医科入院, 2 医科入院外, 3 歯科, 4 調剤, 5 DPC, 6 訪問看護 (u8).
        claim_kind: u8 => Codes(CLAIM_KIND);
        /// 医療機関コード (都道府県 2 + 点数表 1 + 機関 7), 10 digits (str).
        institution_code: String => Digits(10);
        /// 決定点数, points; 1 point = 10 yen (i64).
        points: Option<i64> => Range(0.0, 1.0e9);
        /// 診療実日数, days (i32).
        days: Option<i32> => Range(0.0, 31.0);
    }

    /// One diagnosis (SY record) on a receipt.
    ClaimDiagnosis, CLAIM_DIAGNOSES => "claim_diagnoses", date = "service_month", intervals = [],
    required = true, added = ["main_diagnosis"] {
        /// Receipt id; must exist in medical_claims (str).
        claim_id: String => Id;
        /// Pseudonymised person id; must equal the receipt's (str).
        person_id: PersonId => Id;
        /// 診療年月; must equal the receipt's (date).
        service_month: NaiveDate => ServiceMonth;
        /// 傷病名コード, 7 digits; 0000999 = 未コード化 (str).
        disease_code: String => Digits(7);
        /// ICD-10 2013 without dot, e.g. E119 (str).
        icd10: Option<String> => Icd10;
        /// 修飾語 8002 「の疑い」 (bool).
        suspected: bool => Unchecked;
        /// 診療開始日 (date).
        start_date: Option<NaiveDate> => PastDate;
        /// 転帰: 1 継続, 2 治ゆ, 3 死亡, 4 中止 (u8).
        outcome: Option<u8> => Codes(&[1, 2, 3, 4]);
        /// 主傷病: true = the receipt's main diagnosis (SY 主傷病 01), false = an SY line without it; null = not recorded (bool).
        main_diagnosis: Option<bool> => Unchecked;
    }

    /// One drug line (IY record) on a receipt.
    ClaimDrug, CLAIM_DRUGS => "claim_drugs", date = "service_month", intervals = [],
    required = true, added = [] {
        /// Receipt id; must exist in medical_claims (str).
        claim_id: String => Id;
        /// Pseudonymised person id; must equal the receipt's (str).
        person_id: PersonId => Id;
        /// 診療年月; must equal the receipt's (date).
        service_month: NaiveDate => ServiceMonth;
        /// レセ電 医薬品コード, 9 digits (str).
        drug_code: String => Digits(9);
        /// YJ code, 12 characters; resolved from the drug master when null (str).
        yj_code: Option<String> => Yj;
        /// 1 内服, 2 頓服, 3 外用, 4 注射, 9 other (u8).
        route: Option<u8> => Codes(ROUTE);
        /// 使用量 per day or per dose, in the master's unit (f64).
        quantity: Option<f64> => Range(0.0, 1.0e6);
        /// 投与日数 or 回数 (i32).
        days: Option<i32> => Range(0.0, 366.0);
    }

    /// One care claim line per service type and month (介護給付費明細書 / 給付実績).
    CareClaim, CARE_CLAIMS => "care_claims", date = "service_month", intervals = [],
    required = true, added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// サービス提供年月, first day of the month (date).
        service_month: NaiveDate => ServiceMonth;
        /// サービス種類コード, 2 characters (str).
        service_type_code: String => ServiceType;
        /// 要介護状態区分 at the time of service (str).
        care_level_code: Option<String> => CareLevel;
        /// 単位数, units; about 10 yen per unit (i64).
        units: Option<i64> => Range(0.0, 1.0e7);
        /// サービス日数, days (i32).
        days: Option<i32> => Range(0.0, 31.0);
        /// 事業所番号, 10 characters (str).
        provider_number: Option<String> => Alnum(10);
    }

    /// One care-need certification decision (要介護認定).
    Certification, CERTIFICATIONS => "certifications", date = "decision_date",
    intervals = [("valid_from", "valid_to", false)], required = true, added = [] {
        /// Pseudonymised person id (str).
        person_id: PersonId => Id;
        /// 認定日 (date).
        decision_date: NaiveDate => PastDate;
        /// 要介護状態区分: 01 非該当, 06 事業対象者, 12–13 要支援1–2, 21–25 要介護1–5 (str).
        care_level_code: String => CareLevel;
        /// 認定有効期間開始日 (date).
        valid_from: NaiveDate => FutureDate;
        /// 認定有効期間終了日, inclusive (date).
        valid_to: NaiveDate => FutureDate;
    }

    /// One support contact (支援記録) of the integrated programme; optional table.
    Intervention, INTERVENTIONS => "interventions", date = "contact_date", intervals = [],
    required = false, added = [] {
        /// Pseudonymised person id; must be in persons (str).
        person_id: PersonId => Id;
        /// 事業: undernutrition 低栄養, oral 口腔, medication 服薬, physical_frailty 身体的フレイル, disease_prevention 重症化予防, health_unknown 健康状態不明者 (str).
        programme: String => Vocabulary(Vocab::Programme);
        /// The list the person came from, R01 … R10; null = not recorded (str).
        rule_id: Option<String> => Vocabulary(Vocab::RuleId), RejectRow;
        /// 支援方法: visit 訪問, phone 電話, interview 面談・来所, letter 通知・文書, recommendation 受診勧奨, group 通いの場等での支援 (str).
        approach: String => Vocabulary(Vocab::Approach);
        /// 支援日 (date).
        contact_date: NaiveDate => PastDate;
        /// 支援できた (for health_unknown: 状況把握できた) (bool).
        reached: bool => Unchecked;
        /// 医療・介護等の支援が必要と把握 (bool).
        needs_referral: Option<bool> => Unchecked;
        /// つなぎ先: medical 医療, care 介護, community 通いの場・地域支援事業, watch 見守り, none なし (str).
        referred_to: Option<String> => Vocabulary(Vocab::Referral);
        /// 従事者: public_health_nurse 保健師, dietitian 管理栄養士, dental_hygienist 歯科衛生士, pharmacist 薬剤師, nurse 看護師, other その他 (str).
        staff: Option<String> => Vocabulary(Vocab::Staff);
    }
}

/// The table with file stem `name`.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().copied().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_lists_the_ten_tables() {
        let names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "persons",
                "checkups",
                "dental_checkups",
                "questionnaires",
                "medical_claims",
                "claim_diagnoses",
                "claim_drugs",
                "care_claims",
                "certifications",
                "interventions"
            ]
        );
        assert_eq!(QUESTIONNAIRES.columns.len(), 3 + 15);
        let c = &PERSONS.columns[PERSONS.index_of("coverage_end").unwrap()];
        assert!(c.nullable && c.on_bad == OnBad::RejectRow && c.ty == ColType::Date);
        let c = &CHECKUPS.columns[CHECKUPS.index_of("egfr").unwrap()];
        assert!(c.nullable && c.on_bad == OnBad::NullValue && c.ty == ColType::F64);
        assert_eq!(c.doc.trim(), "eGFR, mL/min/1.73m² (f64).");
        assert_eq!(MEDICAL_CLAIMS.columns[0].name, "claim_id");
        assert!(!MEDICAL_CLAIMS.columns[0].nullable);
        for t in TABLES {
            assert!(t.index_of(t.date_column).is_some(), "{}", t.name);
            assert!(t.index_of("person_id").is_some(), "{}", t.name);
            assert_eq!(t.required, t.name != "interventions", "{}", t.name);
            // An added column must be nullable: a file without it reads as all null.
            for a in t.added_columns {
                let i = t.index_of(a).unwrap_or_else(|| panic!("{}.{a}", t.name));
                assert!(t.columns[i].nullable, "{}.{a}", t.name);
            }
        }
        assert_eq!(CLAIM_DIAGNOSES.added_columns, ["main_diagnosis"]);
    }

    /// Every code and Japanese label of each vocabulary normalises to its code; the
    /// nullable ones are nulled on a bad value, rule_id rejects the row.
    #[test]
    fn vocabulary_columns_accept_codes_and_labels() {
        for c in INTERVENTIONS.columns {
            let Check::Vocabulary(v) = c.check else {
                continue;
            };
            for (code, ja) in v.codes() {
                assert_eq!(v.normalise(code), Some(*code), "{}", c.name);
                assert_eq!(v.normalise(ja), Some(*code), "{} {ja}", c.name);
                assert_eq!(v.normalise(&code.to_uppercase()), Some(*code), "{}", c.name);
            }
            assert_eq!(v.normalise("fax"), None, "{}", c.name);
            let expected = match c.name {
                "referred_to" | "staff" => OnBad::NullValue,
                _ => OnBad::RejectRow,
            };
            assert_eq!(c.on_bad, expected, "{}", c.name);
        }
        assert_eq!(Vocab::RuleId.normalise("　Ｒ１０ "), Some("R10"));
        assert_eq!(Vocab::RuleId.normalise("R1"), None);
        assert_eq!(Vocab::RuleId.normalise("R11"), None);
        assert_eq!(Vocab::Staff.normalise("栄養士"), Some("dietitian"));
    }
}
