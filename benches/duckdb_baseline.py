#!/usr/bin/env python3
"""Baseline for the scale harness: the person features and the ten rules of ittai
(docs/reference/time.md, docs/reference/rules.md, defaults of queries/rules/*.toml, coverage guard on) written as plain SQL
and run by DuckDB on the same Parquet files.

    python3 benches/duckdb_baseline.py DATASET_DIR --fy 2024 [--out listed.csv] [--threads 2]

Prints one JSON line: {"seconds": ..., "population": ..., "listed": {"R01": n, ...}} and,
with --out, writes the listed (rule_id, person_id) pairs so that the harness can check
that DuckDB and ittai list the same persons.

The SQL is written independently of ittai's engine, from docs/reference/; it is the baseline's
job to be a straightforward, idiomatic translation, not to reuse ittai's plan.
"""
import argparse
import datetime as dt
import json
import sys
import time

import duckdb

HYPNOTIC = ["112", "1190016", "1190023", "1190027"]
DIABETES = ["396", "2492", "2499410", "2499411", "2499415", "2499416", "2499418", "2499014", "2499422"]
HYPERTENSION = ["213", "214", "2171014", "2171020", "2171006", "2171021", "2171022", "2123005", "2123006",
                "2123008", "2123009", "2123011", "2123014", "2123015", "2123016"]
CARDIO = ["I50", "I20", "I21", "I22", "I23", "I24", "I25"] + [f"I6{i}" for i in range(10)]


def like_any(column, prefixes):
    return "(" + " OR ".join(f"starts_with({column}, '{p}')" for p in prefixes) + ")"


def sql(d, fy):
    ref = f"DATE '{fy + 1}-03-31'"
    fy0 = f"DATE '{fy}-04-01'"
    prev0 = f"DATE '{fy - 1}-04-01'"
    hist0 = f"DATE '{fy - 3}-04-01'"
    hist1 = f"DATE '{fy}-03-01'"
    refm = f"DATE '{fy + 1}-03-01'"
    t = lambda name: f"read_parquet('{d}/{name}.parquet')"
    nn_ck = " + ".join(f"({c} IS NOT NULL)::INT" for c in [
        "height_cm", "weight_kg", "bmi", "waist_cm", "sbp", "dbp", "hba1c", "fasting_glucose", "tg", "hdl", "ldl",
        "ast", "alt", "ggt", "creatinine", "egfr", "urine_protein", "urine_glucose", "med_bp", "med_dm", "med_lipid"])
    nn_q = " + ".join(f"(q{i:02d} IS NOT NULL)::INT" for i in range(1, 16))
    return f"""
WITH spells AS (
  SELECT person_id, coverage_start AS s, coalesce(coverage_end, DATE '9999-12-31') AS e FROM {t('persons')}
),
pop AS (SELECT DISTINCT person_id FROM spells WHERE s <= {ref} AND e > {ref}),
ordered AS (
  SELECT person_id, s, e,
         max(e) OVER (PARTITION BY person_id ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
  FROM spells
),
grouped AS (
  SELECT *, sum(CASE WHEN prev_e IS NULL OR s > prev_e THEN 1 ELSE 0 END)
           OVER (PARTITION BY person_id ORDER BY s ROWS UNBOUNDED PRECEDING) AS island
  FROM ordered
),
islands AS (SELECT person_id, min(s) AS s, max(e) AS e FROM grouped GROUP BY person_id, island),
cov AS (
  SELECT person_id,
         bool_or(s <= {fy0} AND e > {ref}) AS cov_fy,
         bool_or(s <= {prev0} AND e > {ref}) AS cov_2y
  FROM islands GROUP BY person_id
),
ck AS (
  SELECT * FROM (
    SELECT person_id, coalesce(bmi, round(weight_kg / ((height_cm / 100) ^ 2), 1)) AS bmi2, sbp, dbp, hba1c, egfr,
           urine_protein,
           row_number() OVER (PARTITION BY person_id ORDER BY exam_date DESC, ({nn_ck}) DESC, file_row_number DESC) AS rn
    FROM read_parquet('{d}/checkups.parquet', file_row_number = true)
    WHERE exam_date BETWEEN {fy0} AND {ref}
  ) WHERE rn = 1
),
ckw AS (
  SELECT person_id,
         bool_or(exam_date BETWEEN {fy0} AND {ref}) AS ck_fy,
         bool_or(exam_date BETWEEN {prev0} AND {ref}) AS ck_2y
  FROM {t('checkups')} GROUP BY person_id
),
qn AS (
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY answer_date DESC, ({nn_q}) DESC, file_row_number DESC) AS rn
    FROM read_parquet('{d}/questionnaires.parquet', file_row_number = true)
    WHERE answer_date BETWEEN {fy0} AND {ref}
  ) WHERE rn = 1
),
cl AS (
  SELECT person_id,
         bool_or(claim_kind = 3 AND service_month BETWEEN {fy0} AND {refm}) AS dental_fy,
         bool_or(claim_kind IN (1, 2, 3, 5) AND service_month BETWEEN {fy0} AND {refm}) AS visit_fy,
         bool_or(claim_kind IN (1, 2, 3, 5) AND service_month BETWEEN {prev0} AND {refm}) AS visit_2y
  FROM {t('medical_claims')} WHERE service_month <= {refm} GROUP BY person_id
),
drl AS (
  SELECT person_id, service_month, claim_id,
         {like_any('yj_code', HYPNOTIC)} AS hyp,
         {like_any('yj_code', DIABETES)} AS dm,
         {like_any('yj_code', HYPERTENSION)} AS ht
  FROM {t('claim_drugs')} WHERE service_month <= {refm}
),
dr AS (
  SELECT person_id,
         bool_or(hyp AND service_month >= {fy0}) AS hyp_fy,
         bool_or(dm AND service_month >= {fy0}) AS dm_fy,
         bool_or(dm AND service_month BETWEEN {hist0} AND {hist1}) AS dm_hist,
         bool_or(dm AND service_month >= {hist0}) AS dm_4y,
         bool_or(ht AND service_month >= {fy0}) AS ht_fy,
         bool_or(ht AND service_month BETWEEN {hist0} AND {hist1}) AS ht_hist
  FROM drl GROUP BY person_id
),
drk AS (
  SELECT l.person_id,
         bool_or(l.dm AND l.service_month >= {fy0}) AS dm_fy_k,
         bool_or(l.ht AND l.service_month >= {fy0}) AS ht_fy_k
  FROM drl l JOIN {t('medical_claims')} c USING (claim_id)
  WHERE (l.dm OR l.ht) AND c.claim_kind IN (1, 2, 4, 5)
  GROUP BY l.person_id
),
poly AS (
  SELECT person_id, max(k) AS k FROM (
    SELECT person_id, service_month, count(DISTINCT substr(yj_code, 1, 7)) AS k
    FROM {t('claim_drugs')}
    WHERE route = 1 AND service_month BETWEEN {fy0} AND {refm} AND yj_code IS NOT NULL
    GROUP BY person_id, service_month
  ) GROUP BY person_id
),
dx AS (
  SELECT person_id, bool_or({like_any('icd10', CARDIO)}) AS cardio_fy
  FROM {t('claim_diagnoses')}
  WHERE NOT suspected AND service_month BETWEEN {fy0} AND {refm}
  GROUP BY person_id
),
cert AS (
  SELECT person_id, bool_or(care_level_code <> '01' AND valid_from <= {ref} AND valid_to >= {prev0}) AS cert_2y
  FROM {t('certifications')} WHERE decision_date <= {ref} GROUP BY person_id
),
f AS (
  SELECT p.person_id,
         coalesce(cov.cov_fy, false) AS cov_fy, coalesce(cov.cov_2y, false) AS cov_2y,
         ck.bmi2, ck.sbp, ck.dbp, ck.hba1c, ck.egfr, ck.urine_protein,
         coalesce(ckw.ck_fy, false) AS ck_fy, coalesce(ckw.ck_2y, false) AS ck_2y,
         qn.q01, qn.q04, qn.q05, qn.q06, qn.q07, qn.q08, qn.q10, qn.q11, qn.q13,
         coalesce(cl.dental_fy, false) AS dental_fy, coalesce(cl.visit_fy, false) AS visit_fy,
         coalesce(cl.visit_2y, false) AS visit_2y,
         coalesce(dr.hyp_fy, false) AS hyp_fy, coalesce(dr.dm_fy, false) AS dm_fy,
         coalesce(dr.dm_hist, false) AS dm_hist, coalesce(dr.dm_4y, false) AS dm_4y,
         coalesce(dr.ht_fy, false) AS ht_fy, coalesce(dr.ht_hist, false) AS ht_hist,
         coalesce(drk.dm_fy_k, false) AS dm_fy_k, coalesce(drk.ht_fy_k, false) AS ht_fy_k,
         coalesce(poly.k, 0) AS poly_k, coalesce(dx.cardio_fy, false) AS cardio_fy,
         coalesce(cert.cert_2y, false) AS cert_2y
  FROM pop p
  LEFT JOIN cov USING (person_id) LEFT JOIN ck USING (person_id) LEFT JOIN ckw USING (person_id)
  LEFT JOIN qn USING (person_id) LEFT JOIN cl USING (person_id) LEFT JOIN dr USING (person_id)
  LEFT JOIN drk USING (person_id) LEFT JOIN poly USING (person_id) LEFT JOIN dx USING (person_id)
  LEFT JOIN cert USING (person_id)
),
flags AS (
  SELECT person_id,
    (bmi2 <= 20.0 AND q06 = 1) AS R01,
    ((q04 = 1 OR q05 = 1) AND NOT dental_fy AND cov_fy) AS R02,
    (poly_k >= 15) AS R03,
    (hyp_fy AND (q08 = 1 OR (q10 = 1 AND q11 = 1))) AS R04,
    (q01 IN (4, 5) AND q07 = 1) AS R05,
    ((hba1c >= 8.0 AND NOT dm_fy_k AND cov_fy) OR ((sbp >= 160 OR dbp >= 100) AND NOT ht_fy_k AND cov_fy)) AS R06,
    (NOT ck_fy AND cov_fy AND ((dm_hist AND NOT dm_fy AND cov_fy) OR (ht_hist AND NOT ht_fy AND cov_fy))) AS R07,
    ((dm_4y OR cardio_fy OR hba1c >= 7.0) AND (q01 IN (4, 5) OR q06 = 1 OR q08 = 1 OR q13 = 2)) AS R08,
    ((egfr < 45 OR urine_protein >= 3) AND NOT visit_fy AND cov_fy) AS R09,
    (NOT ck_2y AND NOT visit_2y AND NOT cert_2y AND cov_2y) AS R10
  FROM f
)
SELECT rule_id, person_id FROM flags
UNPIVOT (hit FOR rule_id IN (R01, R02, R03, R04, R05, R06, R07, R08, R09, R10))
WHERE hit
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--fy", type=int, required=True)
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    t0 = time.perf_counter()
    rows = con.execute(sql(a.data, a.fy)).fetchall()
    pop = con.execute(
        f"SELECT count(DISTINCT person_id) FROM read_parquet('{a.data}/persons.parquet') "
        f"WHERE coverage_start <= DATE '{a.fy + 1}-03-31' AND (coverage_end IS NULL OR coverage_end > DATE '{a.fy + 1}-03-31')"
    ).fetchone()[0]
    seconds = time.perf_counter() - t0
    listed = {}
    for r, _ in rows:
        listed[r] = listed.get(r, 0) + 1
    if a.out:
        with open(a.out, "w") as f:
            f.write("rule_id,person_id\n")
            for r, p in sorted(rows):
                f.write(f"{r},{p}\n")
    print(json.dumps({"seconds": round(seconds, 3), "population": pop, "listed": dict(sorted(listed.items())),
                      "duckdb": duckdb.__version__}))


if __name__ == "__main__":
    main()
