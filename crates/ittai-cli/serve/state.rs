//! What the server keeps between requests: the opened dataset (`Job`), one workbench
//! `Session` per fiscal year (the feature table built once, each rule re-applied cheaply),
//! the persons each rule lists at its default parameters per FY, and the rendered report.
//!
//! Every method here may run the engine and so blocks: call them from
//! `tokio::task::spawn_blocking`, never on the server's async threads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use anyhow::Context;
use ittai_engine::rules::{LoadOptions, Rule, RuleError, load_rules};
use ittai_engine::workbench::Session;
use ittai_engine::{Frame, Job, RunResult};
use ittai_model::FiscalYear;

use crate::prepare;

/// What `ittai serve` was started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Dataset directory.
    pub data: PathBuf,
    /// Output directory (rejects, saved rules, indicators, downloads).
    pub out: PathBuf,
    /// Directory of rule files, `None` for the built-in rules.
    pub rules: Option<PathBuf>,
    /// The insured register whose names the lists show (see `State::names_for`).
    pub register: Option<PathBuf>,
    /// True when `data` is the sample data (no `--data` was given).
    pub sample: bool,
}

/// The dataset as opened once: the job and the fiscal years it covers.
#[derive(Debug)]
pub struct Loaded {
    /// Rules, classes, the validated dataset and its tables.
    pub job: Job,
    /// The fiscal years with medical claims, oldest first.
    pub fys: Vec<i32>,
    /// The latest of them (the default extraction FY, as `ittai run` takes it).
    pub default_fy: i32,
}

impl Loaded {
    /// Opens the dataset of `cfg` (validation, or the stamp of an earlier clean one).
    ///
    /// # Errors
    /// An invalid rule file, an unusable dataset, no medical claims.
    pub fn open(cfg: &Config) -> anyhow::Result<Loaded> {
        let rules = LoadOptions {
            dir: cfg.rules.clone(),
            ..Default::default()
        };
        let job = prepare::open_job_quiet(&cfg.data, &cfg.out, rules, false)?;
        let default_fy = job
            .latest_claim_fy()
            .context("the dataset has no medical claims (医療レセプトがありません)")?
            .0;
        let mut fys: Vec<i32> = ittai_engine::indicators::fiscal_years(&job.sources)?
            .into_iter()
            .map(|f| f.0)
            .collect();
        if !fys.contains(&default_fy) {
            fys.push(default_fy);
            fys.sort_unstable();
        }
        Ok(Loaded {
            job,
            fys,
            default_fy,
        })
    }

    /// The rule with id `id` as loaded (default parameters).
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.job.rules.iter().find(|r| r.id == id)
    }

    /// `fy` when the data cover it, else the default FY.
    pub fn fy_or_default(&self, fy: Option<i32>) -> i32 {
        fy.filter(|y| self.fys.contains(y))
            .unwrap_or(self.default_fy)
    }
}

/// The frame of FY `fy`: its reference date is the FY's last day (3/31), as `ittai run`.
pub fn frame(fy: i32) -> Frame {
    let fy = FiscalYear(fy);
    Frame {
        fy,
        reference: fy.end(),
    }
}

/// The persons each rule lists at its default parameters, for one FY.
#[derive(Debug)]
pub struct Defaults {
    /// Persons insured on the reference date.
    pub population: u64,
    /// Rule id → person ids listed.
    pub listed: BTreeMap<String, HashSet<String>>,
}

impl Defaults {
    /// How many persons rule `id` lists.
    pub fn count(&self, id: &str) -> Option<usize> {
        self.listed.get(id).map(HashSet::len)
    }

    /// True when rule `id` lists `person`.
    pub fn lists(&self, id: &str, person: &str) -> bool {
        self.listed.get(id).is_some_and(|s| s.contains(person))
    }
}

/// One FY's session and its default lists, built on first use.
#[derive(Default)]
struct Slot {
    session: Option<Session>,
    defaults: Option<Arc<Defaults>>,
}

/// The state shared by every request.
pub struct State {
    /// Start options.
    pub cfg: Config,
    /// The CSRF token of this server start (64 hex digits), required on every POST.
    pub csrf: String,
    /// The Host header values accepted (`127.0.0.1:PORT`, `localhost:PORT`, …).
    pub hosts: Vec<String>,
    /// Municipality code → name (the vendored code list).
    pub muni: BTreeMap<String, String>,
    loaded: RwLock<Arc<Loaded>>,
    slots: Mutex<HashMap<i32, Arc<Mutex<Slot>>>>,
    report: Mutex<Option<Arc<String>>>,
    writing: Mutex<()>,
    /// The insured register (names), in memory only; never written anywhere.
    pub register: Option<ittai_ingest::names::Register>,
}

/// The state as handlers hold it.
pub type AppState = Arc<State>;

/// Locks a mutex; a panic in another request does not make the state unusable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 32 random bytes as 64 hex digits (the thread RNG is a CSPRNG seeded by the system).
fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl State {
    /// The state over an opened dataset; `hosts` are the Host header values to accept.
    pub fn new(
        cfg: Config,
        loaded: Loaded,
        hosts: Vec<String>,
        register: Option<ittai_ingest::names::Register>,
    ) -> State {
        State {
            register,
            cfg,
            csrf: new_token(),
            hosts,
            muni: crate::cmd_indicators::municipality_names(),
            loaded: RwLock::new(Arc::new(loaded)),
            slots: Mutex::new(HashMap::new()),
            report: Mutex::new(None),
            writing: Mutex::new(()),
        }
    }

    /// The dataset as currently opened.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Opens the dataset again (after a support record was added), keeping the sessions:
    /// their features do not read the support records.
    ///
    /// # Errors
    /// As `Loaded::open`.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = Loaded::open(&self.cfg)?;
        *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// Held while a file of the dataset or of the output folder is rewritten.
    pub fn writing(&self) -> MutexGuard<'_, ()> {
        lock(&self.writing)
    }

    /// True when `given` is this server's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, given: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// True for a Host header this server answers to.
    pub fn host_ok(&self, host: &str) -> bool {
        self.hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host.trim()))
    }

    /// True for an Origin header of this server's own pages.
    pub fn origin_ok(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|h| self.host_ok(h.trim_end_matches('/')))
    }

    /// Runs `f` with the session of FY `fy` (built first when this FY has none yet) and
    /// the FY's cached default lists. One FY's work waits for another request on the same
    /// FY; other FYs are not held up.
    fn with_slot<T>(
        &self,
        loaded: &Loaded,
        fy: i32,
        f: impl FnOnce(&mut Session, &mut Option<Arc<Defaults>>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let slot = lock(&self.slots).entry(fy).or_default().clone();
        let mut guard = lock(&slot);
        let Slot { session, defaults } = &mut *guard;
        if session.is_none() {
            let job = &loaded.job;
            let opened = Session::open(&job.sources, &job.spec(frame(fy)))
                .with_context(|| format!("FY{fy}: building the person features"))?;
            *session = Some(opened);
        }
        let s = session.as_mut().context("the session of the FY")?;
        f(s, defaults)
    }

    /// The persons each rule lists at its default parameters in FY `fy` (computed once per
    /// FY).
    ///
    /// # Errors
    /// Engine errors.
    pub fn defaults(&self, fy: i32) -> anyhow::Result<Arc<Defaults>> {
        let loaded = self.loaded();
        self.with_slot(&loaded, fy, |session, cache| {
            if let Some(d) = cache {
                return Ok(d.clone());
            }
            let job = &loaded.job;
            let spec = job.spec(frame(fy));
            let mut listed = BTreeMap::new();
            for rule in &job.rules {
                let result = session.apply(&job.sources, &spec, rule)?;
                let ids: HashSet<String> = result.listed(&rule.id)?.into_iter().collect();
                listed.insert(rule.id.clone(), ids);
            }
            let d = Arc::new(Defaults {
                population: session.population(),
                listed,
            });
            *cache = Some(d.clone());
            Ok(d)
        })
    }

    /// `rule` (possibly with changed parameters) applied in FY `fy` on the cached features.
    ///
    /// # Errors
    /// Engine errors.
    pub fn apply(&self, fy: i32, rule: &Rule) -> anyhow::Result<RunResult> {
        let loaded = self.loaded();
        self.with_slot(&loaded, fy, |session, _| {
            let job = &loaded.job;
            session
                .apply(&job.sources, &job.spec(frame(fy)), rule)
                .map_err(anyhow::Error::from)
        })
    }

    /// Rule `id` with parameter values `set` (name → text, as `--set RULE.NAME=VALUE`
    /// takes them), from the same rule files as the server's rules.
    ///
    /// # Errors
    /// `RuleError` naming the parameter (`params.NAME`) and what is wrong with the value.
    pub fn rule_with(
        &self,
        loaded: &Loaded,
        id: &str,
        set: &BTreeMap<String, String>,
    ) -> Result<Rule, RuleError> {
        if set.is_empty()
            && let Some(r) = loaded.rule(id)
        {
            return Ok(r.clone());
        }
        let opts = LoadOptions {
            dir: self.cfg.rules.clone(),
            only: vec![id.to_string()],
            set: BTreeMap::from([(id.to_string(), set.clone())]),
        };
        let job = &loaded.job;
        let mut rules = load_rules(&opts, &job.drug_classes, &job.disease_classes)?;
        rules.retain(|r| r.id == id);
        rules.pop().ok_or_else(|| RuleError {
            file: "<rules>".into(),
            line: 0,
            key: id.to_string(),
            message: format!("no rule with id {id}"),
        })
    }

    /// The committee report as rendered for this server, when it has been.
    pub fn report(&self) -> Option<Arc<String>> {
        lock(&self.report).clone()
    }

    /// Keeps the rendered report (or forgets it, with `None`, after the indicators change).
    pub fn set_report(&self, html: Option<String>) -> Option<Arc<String>> {
        let html = html.map(Arc::new);
        *lock(&self.report) = html.clone();
        html
    }

    /// 氏名, カナ, 住所, 電話 of the given person ids, for the persons of the register loaded
    /// with `--register FILE --id-key-file KEY` (ids recomputed from the register's numbers
    /// with the key, `ittai_ingest::names::Register`; with `--municipality`, only that
    /// municipality's rows). Persons not in the register, and every person while no register
    /// is loaded, are absent from the map; the target list and the person page then show no
    /// name columns.
    pub fn names_for(&self, person_ids: &[&str]) -> HashMap<String, [String; 4]> {
        let Some(reg) = &self.register else {
            return HashMap::new();
        };
        person_ids
            .iter()
            .filter_map(|id| {
                reg.get(id).map(|e| {
                    (
                        (*id).to_string(),
                        [
                            e.name.clone(),
                            e.kana.clone(),
                            e.address.clone(),
                            e.phone.clone(),
                        ],
                    )
                })
            })
            .collect()
    }
}
