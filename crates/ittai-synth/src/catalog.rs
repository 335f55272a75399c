//! What the synthetic population can have and be given: chronic and symptomatic
//! conditions (with prevalence models, 傷病名 codes and drug regimens), acute episodes,
//! reasons for admission, dental diagnoses, and the drug groups they use.
//!
//! Every code is real: drug groups list YJ ingredient prefixes (7 characters) that are
//! resolved against the vendored SSK drug master to actual products (9-digit レセ電 code,
//! YJ code, price), and diagnoses list 7-digit 傷病名コード whose ICD-10 is read from the
//! vendored disease master. The test `catalog_resolves_against_masters` fails if a code
//! disappears from a master.
//!
//! Prevalence models are logistic in three latent traits of a person (metabolic risk `m`,
//! standardised frailty `z`, age) plus sex; intercepts are calibrated so the population
//! lands near docs/reference/calibration.md (checked by `ittai profile`). Sources of the prevalence targets:
//! 患者調査 2020 and 国民健康・栄養調査 2019 for the 75+ (est. where marked).

use std::collections::HashMap;

use ittai_dataset::masters::{DiseaseMaster, DosageForm, DrugMaster};
use ittai_model::Route;

/// A group of interchangeable ingredients (one is chosen per person).
#[derive(Debug, Clone, Copy)]
pub struct DrugGroup {
    /// Short id used in regimens.
    pub id: &'static str,
    /// YJ ingredient prefixes (7 characters), e.g. 2171022 アムロジピン.
    pub yj7: &'static [&'static str],
    /// Route written to claim_drugs.
    pub route: Route,
    /// Units per day (tablets, sachets; for external drugs the quantity per prescription).
    pub per_day: f64,
}

macro_rules! groups {
    ($($id:literal => [$($yj:literal),*], $route:ident, $q:literal;)*) => {
        /// All drug groups.
        pub const DRUG_GROUPS: &[DrugGroup] = &[$(DrugGroup { id: $id, yj7: &[$($yj),*], route: Route::$route, per_day: $q }),*];
    };
}

groups! {
    // hypertension (降圧薬; docs/reference/dataset.md#drug-classes classes 213, 214, 2171 Ca blockers, 2123 β blockers)
    "ccb" => ["2171022", "2149037", "2171021", "2171014"], Oral, 1.0;
    "arb" => ["2149044", "2149042", "2149040", "2149039", "2149041", "2149046"], Oral, 1.0;
    "acei" => ["2144009", "2144002"], Oral, 1.0;
    "thiazide" => ["2132003"], Oral, 1.0;
    "beta" => ["2123016", "2149032"], Oral, 1.0;
    // diabetes (糖尿病用薬; 396, 2492 insulin, GLP-1)
    "dpp4" => ["3969010", "3969011", "3969014", "3969015", "3969012"], Oral, 1.0;
    "metformin" => ["3962002"], Oral, 2.0;
    "su" => ["3961008", "3961007"], Oral, 1.0;
    "sglt2" => ["3969019", "3969023", "3969018"], Oral, 1.0;
    "glinide" => ["3969008"], Oral, 3.0;
    "agi" => ["3969004"], Oral, 3.0;
    "insulin" => ["2492416", "2492419", "2492415"], Injection, 1.0;
    "glp1" => ["2499416", "2499418"], Injection, 1.0;
    // lipids
    "statin" => ["2189017", "2189016", "2189015", "2189011"], Oral, 1.0;
    "ezetimibe" => ["2189018"], Oral, 1.0;
    // heart
    "loop" => ["2139005"], Oral, 1.0;
    "mra" => ["2133001"], Oral, 1.0;
    "antiplatelet" => ["3399007", "3399008"], Oral, 1.0;
    "nitrate" => ["2171017"], Oral, 3.0;
    "nitrate_patch" => ["2171700"], External, 28.0;
    "anticoagulant" => ["3339002", "3339004", "3339003", "3332001"], Oral, 1.0;
    // kidney
    "ast120" => ["3929003"], Oral, 6.0;
    // brain
    "antidementia" => ["1190012", "1190018", "1190019"], Oral, 1.0;
    "yokukansan" => ["5200139"], Oral, 3.0;
    "antipsychotic" => ["1179042", "1179038", "1190004"], Oral, 1.0;
    "antiparkinson" => ["1169013", "1169014"], Oral, 3.0;
    "antidepressant" => ["1179052"], Oral, 1.0;
    // sleep (睡眠薬; 112, 1190016/23/27) and etizolam (1179025, not a hypnotic by default)
    "hypnotic" => ["1129009", "1124009", "1129010", "1190023", "1190027", "1190016", "1124007", "1129007"], Oral, 1.0;
    "etizolam" => ["1179025"], Oral, 1.0;
    "anxiolytic" => ["1124029", "1124023"], Oral, 1.0;
    // bone
    "bisphosphonate" => ["3999019", "3999018"], Oral, 1.0;
    "vitamin_d" => ["3112006", "3112001"], Oral, 1.0;
    // gut
    "ppi" => ["2329023", "2329028", "2329029", "2329030"], Oral, 1.0;
    "h2" => ["2325003"], Oral, 2.0;
    "rebamipide" => ["2329021"], Oral, 3.0;
    "prokinetic" => ["2399010"], Oral, 3.0;
    "magnesium" => ["2344009", "2344002"], Oral, 3.0;
    "stimulant_laxative" => ["2354003", "2359005"], Oral, 1.0;
    "new_laxative" => ["2359006", "2399017", "2359008"], Oral, 1.0;
    "probiotic" => ["2316009"], Oral, 3.0;
    "daikenchuto" => ["5200092"], Oral, 3.0;
    "rikkunshito" => ["5200141"], Oral, 3.0;
    // pain
    "nsaid" => ["1149019", "1149037"], Oral, 2.0;
    "acetaminophen" => ["1141007"], Oral, 3.0;
    "neuropathic" => ["1190017", "1190026"], Oral, 2.0;
    "tramadol" => ["1149117"], Oral, 2.0;
    "pain_patch" => ["2649735", "2649729", "2649731"], External, 28.0;
    "shakuyaku" => ["5200067"], Oral, 2.0;
    "goshajinki" => ["5200025"], Oral, 3.0;
    "mecobalamin" => ["3136004"], Oral, 3.0;
    // urology
    "alpha_blocker" => ["2590008", "2590010", "2590009"], Oral, 1.0;
    "pde5" => ["2590016"], Oral, 1.0;
    "oab" => ["2590011", "2590014", "2590015"], Oral, 1.0;
    "hachimi" => ["5200121"], Oral, 3.0;
    // uric acid
    "urate" => ["3949003", "3943001"], Oral, 1.0;
    // eye (外用)
    "eye_glaucoma" => ["1319739", "1319702"], External, 1.0;
    "eye_dry" => ["1319720"], External, 2.0;
    // misc
    "betahistine" => ["1339005"], Oral, 3.0;
    "atp" => ["3992001"], Oral, 3.0;
    "antihistamine" => ["4490023", "4490025"], Oral, 1.0;
    "mucolytic" => ["2233002", "2239001"], Oral, 3.0;
    "antitussive" => ["2249003", "2223001"], Oral, 3.0;
    "antibiotic" => ["6241013", "6132013", "6149003"], Oral, 1.0;
    "iron" => ["3222013"], Oral, 1.0;
    "hochuekkito" => ["5200131"], Oral, 3.0;
    "heparinoid" => ["2649950"], External, 25.0;
    "steroid_cream" => ["2646730"], External, 10.0;
    "kakkonto" => ["5200013"], Oral, 3.0;
}

/// Chronic and long-running symptomatic conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Cond {
    Hypertension,
    Diabetes,
    Dyslipidemia,
    Ckd,
    HeartFailure,
    Ihd,
    Cerebrovascular,
    AtrialFib,
    Dementia,
    Osteoporosis,
    Gerd,
    Constipation,
    Pain,
    Insomnia,
    Bph,
    Oab,
    Gout,
    Glaucoma,
    DryEye,
    Vertigo,
    Parkinson,
    Depression,
    Anemia,
    Neuropathy,
    Allergy,
    Skin,
}

/// A condition's model: prevalence, diagnosis codes, treatment and regimen.
#[derive(Debug, Clone, Copy)]
pub struct CondSpec {
    /// The condition.
    pub cond: Cond,
    /// Logit intercept at age 80, metabolic 0, frailty 0, female.
    pub a: f64,
    /// Coefficient of metabolic risk `m` (standard normal).
    pub b_met: f64,
    /// Coefficient of standardised frailty `z`.
    pub b_frail: f64,
    /// Coefficient per year of age above 80.
    pub b_age: f64,
    /// Added for men.
    pub b_male: f64,
    /// 傷病名コード choices (7 digits).
    pub codes: &'static [&'static str],
    /// Share of cases diagnosed (appear as SY records).
    pub diagnosed: f64,
    /// Share of diagnosed cases that are treated with drugs.
    pub treated: f64,
    /// Regimen: (drug group, probability); the first group with probability 1.0 or the
    /// most likely one is always given to the treated.
    pub regimen: &'static [(&'static str, f64)],
    /// Probability that the regimen is prescribed at a given visit (1.0 for chronic).
    pub per_visit: f64,
}

macro_rules! conds {
    ($($c:ident: a=$a:expr, met=$m:expr, frail=$f:expr, age=$g:expr, male=$s:expr,
       codes=[$($code:literal),*], dx=$dx:expr, tx=$tx:expr, visit=$v:expr,
       regimen=[$(($grp:literal, $p:expr)),*];)*) => {
        /// All condition models.
        pub const CONDITIONS: &[CondSpec] = &[$(CondSpec {
            cond: Cond::$c, a: $a, b_met: $m, b_frail: $f, b_age: $g, b_male: $s,
            codes: &[$($code),*], diagnosed: $dx, treated: $tx, per_visit: $v,
            regimen: &[$(($grp, $p)),*],
        }),*];
    };
}

conds! {
    // 高血圧症 8833421 / 本態性高血圧症 8840107 (I10); treated ≈ 55 % of 75+.
    Hypertension: a=0.55, met=0.9, frail=0.0, age=0.02, male=0.1,
        codes=["8833421", "8840107"], dx=0.85, tx=0.95, visit=1.0,
        regimen=[("ccb", 0.72), ("arb", 0.58), ("thiazide", 0.12), ("beta", 0.10), ("acei", 0.05)];
    // ２型糖尿病 2500015 (E11) / 糖尿病 2500013 (E14); ≈ 18 %.
    Diabetes: a=-1.75, met=0.9, frail=0.1, age=-0.01, male=0.45,
        codes=["2500015", "2500013", "8830042"], dx=0.85, tx=0.88, visit=1.0,
        regimen=[("dpp4", 0.75), ("metformin", 0.35), ("su", 0.18), ("sglt2", 0.25), ("glinide", 0.05), ("agi", 0.08), ("insulin", 0.08), ("glp1", 0.04)];
    // 脂質異常症 8844446 (E785) / 高コレステロール血症 2720004 (E780).
    Dyslipidemia: a=-0.75, met=0.7, frail=-0.2, age=-0.03, male=-0.4,
        codes=["8844446", "2720004"], dx=0.9, tx=0.85, visit=1.0,
        regimen=[("statin", 0.92), ("ezetimibe", 0.15)];
    // 慢性腎臓病 8844106 / 慢性腎不全 5859002 (N189); diagnosed CKD ≈ 8 %.
    Ckd: a=-2.55, met=0.7, frail=0.3, age=0.05, male=0.3,
        codes=["8844106", "5859002"], dx=0.6, tx=0.35, visit=1.0,
        regimen=[("ast120", 0.5), ("urate", 0.5)];
    // 慢性心不全 4289018 / 心不全 4289015 (I509) / うっ血性心不全 8830796 (I500).
    HeartFailure: a=-2.9, met=0.5, frail=0.6, age=0.07, male=0.1,
        codes=["4289018", "4289015", "8830796"], dx=0.9, tx=0.9, visit=1.0,
        regimen=[("loop", 0.7), ("mra", 0.35), ("beta", 0.45), ("arb", 0.2)];
    // 狭心症 4139007 (I209) / 陳旧性心筋梗塞 8837807 (I252).
    Ihd: a=-2.35, met=0.6, frail=0.2, age=0.02, male=0.5,
        codes=["4139007", "8837807"], dx=0.95, tx=0.9, visit=1.0,
        regimen=[("antiplatelet", 0.85), ("nitrate", 0.25), ("nitrate_patch", 0.1), ("statin", 0.3)];
    // 脳梗塞後遺症 4389014 (I693) / 脳梗塞 8838708 (I639) / 脳出血後遺症 4389017 (I691).
    Cerebrovascular: a=-2.5, met=0.5, frail=0.5, age=0.03, male=0.3,
        codes=["4389014", "8838708", "4389017"], dx=0.95, tx=0.8, visit=1.0,
        regimen=[("antiplatelet", 0.85)];
    // 心房細動 4273006 / 発作性心房細動 8846942 / 慢性心房細動 4273014.
    AtrialFib: a=-2.75, met=0.3, frail=0.2, age=0.05, male=0.5,
        codes=["4273006", "8846942", "4273014"], dx=0.95, tx=0.9, visit=1.0,
        regimen=[("anticoagulant", 0.95), ("beta", 0.3)];
    // アルツハイマー型認知症 8842549 (G309) / 認知症 8842618 (F03).
    Dementia: a=-2.6, met=0.0, frail=1.1, age=0.09, male=-0.1,
        codes=["8842549", "8842618"], dx=0.7, tx=0.7, visit=1.0,
        regimen=[("antidementia", 0.9), ("yokukansan", 0.2), ("antipsychotic", 0.1)];
    // 骨粗鬆症 7330006 (M8199) / 閉経後骨粗鬆症 7330028.
    Osteoporosis: a=-1.4, met=-0.2, frail=0.4, age=0.05, male=-1.6,
        codes=["7330006", "7330028"], dx=0.8, tx=0.8, visit=1.0,
        regimen=[("bisphosphonate", 0.6), ("vitamin_d", 0.7)];
    // 逆流性食道炎 5301002 (K210) / 慢性胃炎 5351003 (K295) / 胃食道逆流症 8842668.
    Gerd: a=-0.95, met=0.1, frail=0.3, age=0.01, male=0.0,
        codes=["5301002", "5351003", "8842668"], dx=0.95, tx=0.95, visit=0.95,
        regimen=[("ppi", 0.8), ("h2", 0.12), ("rebamipide", 0.3), ("prokinetic", 0.1), ("rikkunshito", 0.05)];
    // 便秘症 8840042 / 機能性便秘症 8847697 (K590).
    Constipation: a=-1.25, met=0.0, frail=0.6, age=0.04, male=-0.2,
        codes=["8840042", "8847697"], dx=0.95, tx=0.95, visit=0.9,
        regimen=[("magnesium", 0.8), ("stimulant_laxative", 0.35), ("new_laxative", 0.15), ("probiotic", 0.1), ("daikenchuto", 0.08)];
    // 変形性膝関節症 7153018 / 腰痛症 8840829 / 腰部脊柱管狭窄症 7240012 / 変形性腰椎症 7213016.
    Pain: a=-0.85, met=0.2, frail=0.4, age=0.0, male=-0.4,
        codes=["7153018", "8840829", "7240012", "7213016"], dx=0.95, tx=0.85, visit=0.8,
        regimen=[("pain_patch", 0.7), ("nsaid", 0.4), ("acetaminophen", 0.25), ("neuropathic", 0.2), ("tramadol", 0.05), ("mecobalamin", 0.2), ("shakuyaku", 0.08), ("rebamipide", 0.2)];
    // 不眠症 8839792 (G470) / 睡眠障害 7805009; hypnotic users ≈ 10–12 % of 75+.
    Insomnia: a=-2.25, met=0.0, frail=0.55, age=0.01, male=-0.25,
        codes=["8839792", "7805009"], dx=0.95, tx=0.95, visit=0.95,
        regimen=[("hypnotic", 0.88), ("etizolam", 0.15), ("anxiolytic", 0.06)];
    // 前立腺肥大症 8836591 (N40): men only (large negative for women).
    Bph: a=-6.0, met=0.0, frail=0.1, age=0.03, male=5.3,
        codes=["8836591"], dx=0.9, tx=0.9, visit=1.0,
        regimen=[("alpha_blocker", 0.85), ("pde5", 0.12), ("hachimi", 0.05)];
    // 過活動膀胱 8843031 (N328) / 夜間頻尿症 8840699.
    Oab: a=-2.5, met=0.0, frail=0.4, age=0.03, male=0.0,
        codes=["8843031", "8840699"], dx=0.9, tx=0.85, visit=0.95,
        regimen=[("oab", 0.9), ("goshajinki", 0.1)];
    // 高尿酸血症 7906015 (E790).
    Gout: a=-2.6, met=0.7, frail=0.0, age=-0.01, male=1.1,
        codes=["7906015"], dx=0.9, tx=0.9, visit=1.0,
        regimen=[("urate", 1.0)];
    // 緑内障 3659003 (H409).
    Glaucoma: a=-2.3, met=0.0, frail=0.0, age=0.03, male=0.0,
        codes=["3659003"], dx=0.95, tx=0.95, visit=1.0,
        regimen=[("eye_glaucoma", 1.0)];
    // ドライアイ・白内障 (eye drops) 白内障 3669004 (H269).
    DryEye: a=-2.2, met=0.0, frail=0.1, age=0.02, male=-0.3,
        codes=["3669004"], dx=0.9, tx=0.8, visit=0.8,
        regimen=[("eye_dry", 1.0)];
    // めまい症 8840549 (R42).
    Vertigo: a=-3.2, met=0.0, frail=0.3, age=0.01, male=-0.3,
        codes=["8840549"], dx=0.95, tx=0.9, visit=0.8,
        regimen=[("betahistine", 0.8), ("atp", 0.5)];
    // パーキンソン病 3320002 (G20).
    Parkinson: a=-4.6, met=0.0, frail=0.8, age=0.02, male=0.1,
        codes=["3320002"], dx=1.0, tx=1.0, visit=1.0,
        regimen=[("antiparkinson", 1.0), ("magnesium", 0.5)];
    // うつ病 2961003 (F329) / 不安神経症 3000010.
    Depression: a=-3.5, met=0.0, frail=0.5, age=-0.02, male=-0.3,
        codes=["2961003", "3000010"], dx=0.9, tx=0.9, visit=1.0,
        regimen=[("antidepressant", 0.7), ("anxiolytic", 0.3), ("etizolam", 0.2)];
    // 貧血 2859011 / 鉄欠乏性貧血 2809009 / 腎性貧血 2858001.
    Anemia: a=-3.1, met=0.0, frail=0.5, age=0.03, male=0.0,
        codes=["2859011", "2809009"], dx=0.8, tx=0.7, visit=0.9,
        regimen=[("iron", 1.0)];
    // 末梢神経障害 8840255 (G629).
    Neuropathy: a=-3.2, met=0.4, frail=0.3, age=0.0, male=0.0,
        codes=["8840255"], dx=0.9, tx=0.9, visit=0.9,
        regimen=[("mecobalamin", 0.7), ("neuropathic", 0.4), ("goshajinki", 0.15)];
    // アレルギー性鼻炎 4779004 (J304).
    Allergy: a=-3.0, met=0.0, frail=-0.2, age=-0.03, male=0.0,
        codes=["4779004"], dx=0.95, tx=0.95, visit=0.7,
        regimen=[("antihistamine", 1.0)];
    // 皮脂欠乏症 8839248 (L853) / 湿疹 6923002 (L309).
    Skin: a=-2.0, met=0.0, frail=0.2, age=0.04, male=0.2,
        codes=["8839248", "6923002"], dx=0.95, tx=0.95, visit=0.7,
        regimen=[("heparinoid", 0.9), ("steroid_cream", 0.3)];
}

/// Acute episodes on outpatient claims: (傷病名コード, drug groups, days of drugs, weight).
pub const ACUTE: &[(&str, &[&str], i32, f64)] = &[
    (
        "4609008",
        &["acetaminophen", "mucolytic", "kakkonto"],
        5,
        3.0,
    ), // 感冒 J00
    (
        "4659007",
        &["acetaminophen", "mucolytic", "antitussive"],
        5,
        3.0,
    ), // 急性上気道炎 J069
    (
        "4660009",
        &["mucolytic", "antitussive", "antibiotic"],
        7,
        1.5,
    ), // 急性気管支炎 J209
    ("0091009", &["probiotic"], 5, 1.0),     // 急性胃腸炎 A099
    ("5959015", &["antibiotic"], 5, 1.0),    // 膀胱炎 N309
    ("0539013", &["acetaminophen"], 7, 0.4), // 帯状疱疹 B029
    ("3723001", &["eye_dry"], 14, 0.6),      // 結膜炎 H109
    ("7262008", &["pain_patch", "nsaid"], 14, 1.0), // 肩関節周囲炎 M750
    ("6923002", &["steroid_cream"], 14, 1.0), // 湿疹 L309
];

/// Diagnoses that appear with 「の疑い」 (suspected): heart failure among them, the trap of
/// rule R08 (a suspected diagnosis must not count).
pub const SUSPECTED: &[&str] = &[
    "4289015", // 心不全
    "4139007", // 狭心症
    "5319009", // 胃潰瘍
    "2113008", // 大腸ポリープ
    "1539004", // 大腸癌
    "7330006", // 骨粗鬆症
    "2500013", // 糖尿病
    "4860030", // 肺炎
];

/// Reasons for hospital admission: (傷病名コード, relative weight, mean length of stay in
/// days, makes frailty jump).
pub const ADMISSION_REASONS: &[(&str, f64, f64, f64)] = &[
    ("4860030", 3.0, 18.0, 0.3), // 肺炎 J189
    ("5070003", 2.0, 24.0, 0.5), // 誤嚥性肺炎 J690
    ("8830796", 2.5, 20.0, 0.4), // うっ血性心不全 I500
    ("8838708", 1.8, 30.0, 1.0), // 脳梗塞 I639
    ("4319020", 0.5, 35.0, 1.2), // 脳出血 I619
    ("8208009", 1.5, 35.0, 1.0), // 大腿骨頚部骨折 S7200
    ("8837314", 0.8, 35.0, 1.0), // 大腿骨転子部骨折 S7210
    ("8054003", 1.0, 24.0, 0.6), // 腰椎圧迫骨折 S3200
    ("8838561", 1.2, 14.0, 0.2), // 尿路感染症 N390
    ("8837433", 0.8, 12.0, 0.2), // 脱水症 E86
    ("1519006", 0.6, 16.0, 0.3), // 胃癌 C169
    ("1539004", 0.7, 16.0, 0.3), // 大腸癌 C189
    ("1629006", 0.6, 18.0, 0.4), // 肺癌 C349
    ("8832376", 0.4, 14.0, 0.4), // 急性心筋梗塞 I219
    ("3669004", 1.2, 3.0, 0.0),  // 白内障 H269 (surgery)
    ("2113008", 0.8, 3.0, 0.0),  // 大腸ポリープ K635
    ("8838910", 0.6, 40.0, 0.6), // 廃用症候群 M6259
];

/// Dental diagnoses (傷病名コード).
pub const DENTAL_CODES: &[&str] = &[
    "8830788", // う蝕第２度 K021
    "8830789", // う蝕第３度 K025
    "5234016", // 慢性歯周炎 K053
    "5231018", // 歯肉炎 K051
    "5235003", // 歯周病 K056
    "5220063", // 歯髄炎 K040
    "8833899", // 根尖性歯周炎 K045
    "8842706", // 義歯不適合 T888
];

/// A product resolved from the drug master.
#[derive(Debug, Clone)]
pub struct Product {
    /// 9-digit レセ電 code.
    pub code: String,
    /// 12-character YJ code.
    pub yj: String,
    /// Price, yen per unit.
    pub price_yen: f64,
}

/// Drug groups and diagnoses resolved against the masters.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// For each group (same order as [`DRUG_GROUPS`]), for each ingredient, its products.
    pub products: Vec<Vec<Vec<Product>>>,
    /// 傷病名コード → ICD-10 (from the disease master).
    pub icd10: HashMap<String, String>,
    /// Index of each group id.
    pub group_index: HashMap<&'static str, usize>,
}

/// Error building the catalog: a code no longer in the master.
#[derive(Debug, thiserror::Error)]
#[error("synthetic catalog: {0}")]
pub struct CatalogError(pub String);

impl Catalog {
    /// Resolves every group and diagnosis against the given masters. Products are those
    /// in use (no 廃止年月日), with a YJ code and a price, whose 剤形 matches the route.
    ///
    /// # Errors
    /// [`CatalogError`] naming the first ingredient or diagnosis code that resolves to
    /// nothing.
    pub fn build(drugs: &DrugMaster, diseases: &DiseaseMaster) -> Result<Self, CatalogError> {
        let mut by_yj7: HashMap<&str, Vec<Product>> = HashMap::new();
        for e in drugs.entries() {
            if e.yj.len() != 12 || e.retired.is_some() || e.price_yen <= 0.0 {
                continue;
            }
            by_yj7.entry(&e.yj[..7]).or_default().push(Product {
                code: e.code.clone(),
                yj: e.yj.clone(),
                price_yen: e.price_yen,
            });
        }
        let form_ok = |route: Route, code: &str| {
            let f = drugs.get(code).map(|e| e.form);
            match route {
                Route::Oral | Route::AsNeeded => f == Some(DosageForm::Internal),
                Route::External => f == Some(DosageForm::External),
                Route::Injection => f == Some(DosageForm::Injection),
                Route::Other => true,
            }
        };
        let mut products = Vec::new();
        let mut group_index = HashMap::new();
        for (gi, g) in DRUG_GROUPS.iter().enumerate() {
            group_index.insert(g.id, gi);
            let mut ingredients = Vec::new();
            for yj7 in g.yj7 {
                let mut ps: Vec<Product> = by_yj7
                    .get(yj7)
                    .map(|v| {
                        v.iter()
                            .filter(|p| form_ok(g.route, &p.code))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                ps.sort_by(|a, b| a.code.cmp(&b.code));
                if ps.is_empty() {
                    return Err(CatalogError(format!(
                        "drug group {}: YJ prefix {yj7} has no product in use with route {}",
                        g.id,
                        g.route.label_en()
                    )));
                }
                ingredients.push(ps);
            }
            products.push(ingredients);
        }
        let mut icd10 = HashMap::new();
        let all_codes = CONDITIONS
            .iter()
            .flat_map(|c| c.codes.iter())
            .chain(ACUTE.iter().map(|a| &a.0))
            .chain(SUSPECTED.iter())
            .chain(ADMISSION_REASONS.iter().map(|a| &a.0))
            .chain(DENTAL_CODES.iter());
        for code in all_codes {
            let e = diseases.get(code).ok_or_else(|| {
                CatalogError(format!("傷病名コード {code} is not in the disease master"))
            })?;
            if e.retired.is_some() {
                return Err(CatalogError(format!(
                    "傷病名コード {code} ({}) is retired",
                    e.name
                )));
            }
            icd10.insert(code.to_string(), e.icd10.clone());
        }
        Ok(Self {
            products,
            icd10,
            group_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_resolves_against_masters() {
        let cat = Catalog::build(&DrugMaster::embedded(), &DiseaseMaster::embedded())
            .expect("all codes resolve");
        assert_eq!(cat.products.len(), DRUG_GROUPS.len());
        // Regimens only name known groups.
        for c in CONDITIONS {
            for (g, _) in c.regimen {
                assert!(cat.group_index.contains_key(g), "{g}");
            }
        }
        for (_, gs, _, _) in ACUTE {
            for g in *gs {
                assert!(cat.group_index.contains_key(g), "{g}");
            }
        }
        // Known ICD-10 of some codes (SSK 傷病名マスター 2024-06).
        assert_eq!(cat.icd10["8833421"], "I10");
        assert_eq!(cat.icd10["4289015"], "I509");
        assert_eq!(cat.icd10["2500015"], "E11");
        // The hypnotic group is all docs/reference/dataset.md#drug-classes hypnotics; etizolam is its own group.
        let hyp = ittai_model::classes::default_drug_classes();
        let off = Default::default();
        for ps in &cat.products[cat.group_index["hypnotic"]] {
            assert!(hyp["hypnotic"].matches(&ps[0].yj, &off), "{}", ps[0].yj);
        }
        for ps in &cat.products[cat.group_index["etizolam"]] {
            assert!(!hyp["hypnotic"].matches(&ps[0].yj, &off));
        }
        for g in ["ccb", "arb", "thiazide", "beta", "acei"] {
            for ps in &cat.products[cat.group_index[g]] {
                assert!(
                    hyp["hypertension"].matches(&ps[0].yj, &off),
                    "{g} {}",
                    ps[0].yj
                );
            }
        }
        for g in ["dpp4", "metformin", "su", "sglt2", "insulin", "glp1"] {
            for ps in &cat.products[cat.group_index[g]] {
                assert!(hyp["diabetes"].matches(&ps[0].yj, &off), "{g} {}", ps[0].yj);
            }
        }
    }
}
