-- PROMs reference: reproduces NHS Digital's published provider-level PROMs figures
-- (ProvComm, Time Series) and participation (PartLink) from the public record-level files.
--
-- Inputs: DuckDB variables, each a list of CSV paths (any number of years at once), set
-- before this script runs:
--   SET VARIABLE hip_files      = ['.../Hip Replacement Provider 1617.csv', ...];
--   SET VARIABLE knee_files     = ['.../Knee Replacement Provider 1617.csv', ...];
--   SET VARIABLE partlink_files = ['.../PartLink Hip and Knee Replacement 1617.csv', ...];
-- read_csv(getvariable('hip_files'), ...) takes such a list as it is in DuckDB 2.0.1 (checked),
-- and so does list_concat(getvariable(...), getvariable(...)), used below to read hip and knee
-- in one pass. The files must be unzipped first: read_csv does not open .zip archives, and an
-- empty list makes it fail. Run the whole file as one script (Python: con.execute(text)).
--
-- Outputs: reference_provider_outcomes, reference_participation (plain tables; the working
-- tables are TEMP and dropped at the end).
--
-- Method (established against the 2016-17 and 2017-18 publications):
--   * a record is modelled for a measure when its pre-op score, post-op score and the
--     expected (predicted) post-op score for that measure are all present;
--   * improved / same / worse: sign of post - pre on the measure's own scale, no threshold;
--   * residual = post - predicted; adjusted post-op = England average post-op + provider mean
--     residual - England mean residual (centred so England's adjusted equals its actual);
--     adjusted health gain = adjusted post-op - England average pre-op;
--   * standard deviation = sample SD of the provider's residuals; the funnel limits use
--     England's residual sample SD / sqrt(modelled records), z = 1.959964 and 3.090232;
--   * adjusted figures, SD and an outlier test only where modelled records >= 30; status
--     'Insufficient records' for 1-29 and 'No procedures' for 0 (Time Series' wording);
--   * England: provider_code 'ENG', all records of the public file (a few short of NHS
--     Digital's own, so England's row differs slightly), status 'Not an outlier';
--   * Total groups: averages over every modelled record of both subgroups, but counts
--     (modelled, improved, same, worse) are the sum of the subgroups' published counts, so a
--     suppressed subgroup adds nothing; Totals' adjusted figures come from a model whose
--     expected scores are not public, so they are NULL here;
--   * disclosure control as published: a subgroup whose HES count PartLink suppresses (`*`)
--     shows no figures (see the suppression step for the one ambiguous case).

-- 1. Record-level files, read by position. The header wording differs between hip and knee
-- (and may between years) while the 81-column layout does not, so columns are named here and
-- the header row of every file is checked below rather than trusted.
CREATE OR REPLACE TEMP TABLE proms_ref_raw AS
WITH src AS (
    SELECT *
    FROM read_csv(
        list_concat(getvariable('hip_files'), getvariable('knee_files')),
        header = false, all_varchar = true, delim = ',', quote = '"', filename = true,
        names = [
            'provider_code', 'procedure', 'revision_flag', 'year', 'age_band', 'gender',
            'pre_assisted', 'pre_assisted_by', 'pre_symptom_period', 'pre_previous_surgery',
            'pre_living_arrangements', 'pre_disability',
            'heart_disease', 'high_bp', 'stroke', 'circulation', 'lung_disease', 'diabetes',
            'kidney_disease', 'nervous_system', 'liver_disease', 'cancer', 'depression',
            'arthritis',
            'pre_mobility', 'pre_self_care', 'pre_activity', 'pre_discomfort', 'pre_anxiety',
            'pre_eq5d_profile', 'pre_eq5d_index',
            'post_assisted', 'post_assisted_by', 'post_living_arrangements', 'post_disability',
            'post_mobility', 'post_self_care', 'post_activity', 'post_discomfort', 'post_anxiety',
            'post_satisfaction', 'post_success', 'post_allergy', 'post_bleeding', 'post_wound',
            'post_urine', 'post_further_surgery', 'post_readmitted',
            'post_eq5d_profile', 'post_eq5d_index', 'eq5d_predicted',
            'pre_eq_vas', 'post_eq_vas', 'eq_vas_predicted',
            'pre_q01', 'pre_q02', 'pre_q03', 'pre_q04', 'pre_q05', 'pre_q06',
            'pre_q07', 'pre_q08', 'pre_q09', 'pre_q10', 'pre_q11', 'pre_q12', 'pre_oxford_score',
            'post_q01', 'post_q02', 'post_q03', 'post_q04', 'post_q05', 'post_q06',
            'post_q07', 'post_q08', 'post_q09', 'post_q10', 'post_q11', 'post_q12',
            'post_oxford_score', 'oxford_predicted'
        ]
    )
)
SELECT *, revision_flag = 'Revision Flag' AS is_header FROM src;

-- Stop on a file whose header does not have the expected fields in the expected places.
SELECT error('proms_reference: unexpected record-level header in ' || filename)
FROM proms_ref_raw
WHERE is_header AND NOT (
    provider_code ILIKE '%Provider Code' AND procedure = 'Procedure' AND year = 'Year'
    AND pre_eq5d_profile ILIKE 'Pre-Op Q EQ%5D Index Profile'
    AND pre_eq5d_index ILIKE 'Pre-Op Q EQ%5D Index'
    AND post_eq5d_profile ILIKE 'Post-Op Q EQ%5D Index Profile'
    AND post_eq5d_index ILIKE 'Post-Op Q EQ%5D Index'
    AND eq5d_predicted ILIKE '%EQ%5D Index%Post-Op Q Predicted'
    AND pre_eq_vas ILIKE 'Pre-Op Q EQ VAS' AND post_eq_vas ILIKE 'Post-Op Q EQ VAS'
    AND eq_vas_predicted ILIKE '%EQ VAS%Post-Op Q Predicted'
    AND pre_q01 ILIKE '% Pre-Op Q Pain' AND pre_oxford_score ILIKE '% Pre-Op Q Score'
    AND post_q01 ILIKE '% Post-Op Q Pain' AND post_oxford_score ILIKE '% Post-Op Q Score'
    AND oxford_predicted ILIKE '%O_S Post-Op Q Predicted'
);

-- Stop on data rows that cannot be placed (unknown procedure, flag or year format).
SELECT error('proms_reference: unexpected procedure, revision flag or year in ' || filename)
FROM proms_ref_raw
WHERE NOT is_header AND (
    procedure NOT IN ('Hip Replacement', 'Knee Replacement')
    OR revision_flag NOT IN ('0', '1')
    OR NOT regexp_full_match(year, '\d{4}/\d{2}')
);

-- 2. One row per record with each measure's pre, post and predicted score, NULL where missing.
-- Questionnaire items: 0-4 answered, 9 not answered. Published Oxford score is blank exactly
-- when an item is 9 and otherwise equals the item sum; it is refilled from the items only if
-- a file ever leaves it blank with all 12 items answered. EQ-5D index: blank exactly when the
-- profile holds a 9; refilled from a complete profile with the UK TTO value set (Dolan 1997)
-- for the same reason. EQ VAS: 999 (or anything outside 0-100) is missing. Values outside a
-- measure's range count as missing, so any other sentinel code is caught too.
CREATE OR REPLACE TEMP MACRO proms_ref_item_ok(q) AS q IN ('0', '1', '2', '3', '4');
CREATE OR REPLACE TEMP MACRO proms_ref_oxford(score, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12) AS
    CASE
        WHEN TRY_CAST(score AS DOUBLE) BETWEEN 0 AND 48 THEN TRY_CAST(score AS DOUBLE)
        WHEN score IS NULL
            AND proms_ref_item_ok(q1) AND proms_ref_item_ok(q2) AND proms_ref_item_ok(q3)
            AND proms_ref_item_ok(q4) AND proms_ref_item_ok(q5) AND proms_ref_item_ok(q6)
            AND proms_ref_item_ok(q7) AND proms_ref_item_ok(q8) AND proms_ref_item_ok(q9)
            AND proms_ref_item_ok(q10) AND proms_ref_item_ok(q11) AND proms_ref_item_ok(q12)
        THEN CAST(q1 AS INTEGER) + CAST(q2 AS INTEGER) + CAST(q3 AS INTEGER)
            + CAST(q4 AS INTEGER) + CAST(q5 AS INTEGER) + CAST(q6 AS INTEGER)
            + CAST(q7 AS INTEGER) + CAST(q8 AS INTEGER) + CAST(q9 AS INTEGER)
            + CAST(q10 AS INTEGER) + CAST(q11 AS INTEGER) + CAST(q12 AS INTEGER)
    END;
CREATE OR REPLACE TEMP MACRO proms_ref_eq5d(idx, profile) AS
    CASE
        WHEN TRY_CAST(idx AS DOUBLE) BETWEEN -0.594 AND 1 THEN TRY_CAST(idx AS DOUBLE)
        WHEN idx IS NULL AND regexp_full_match(profile, '[123]{5}') THEN round(
            1
            - CASE WHEN profile <> '11111' THEN 0.081 ELSE 0 END
            - CASE WHEN contains(profile, '3') THEN 0.269 ELSE 0 END
            - [0, 0.069, 0.314][CAST(substr(profile, 1, 1) AS INTEGER)]
            - [0, 0.104, 0.214][CAST(substr(profile, 2, 1) AS INTEGER)]
            - [0, 0.036, 0.094][CAST(substr(profile, 3, 1) AS INTEGER)]
            - [0, 0.123, 0.386][CAST(substr(profile, 4, 1) AS INTEGER)]
            - [0, 0.071, 0.236][CAST(substr(profile, 5, 1) AS INTEGER)], 3)
    END;
CREATE OR REPLACE TEMP MACRO proms_ref_vas(v) AS
    CASE WHEN TRY_CAST(v AS DOUBLE) BETWEEN 0 AND 100 THEN TRY_CAST(v AS DOUBLE) END;

CREATE OR REPLACE TEMP TABLE proms_ref_scores AS
WITH rec AS (
    SELECT
        replace(year, '/', '-') AS financial_year,
        provider_code,
        CASE procedure WHEN 'Hip Replacement' THEN 'Hip' ELSE 'Knee' END AS joint,
        CASE revision_flag WHEN '0' THEN 'Primary' ELSE 'Revision' END AS subgroup,
        *
    FROM proms_ref_raw
    WHERE NOT is_header
)
SELECT financial_year, provider_code, joint, subgroup,
    'Oxford ' || joint || ' Score' AS measure,
    proms_ref_oxford(pre_oxford_score, pre_q01, pre_q02, pre_q03, pre_q04, pre_q05, pre_q06,
        pre_q07, pre_q08, pre_q09, pre_q10, pre_q11, pre_q12) AS pre,
    proms_ref_oxford(post_oxford_score, post_q01, post_q02, post_q03, post_q04, post_q05,
        post_q06, post_q07, post_q08, post_q09, post_q10, post_q11, post_q12) AS post,
    TRY_CAST(oxford_predicted AS DOUBLE) AS predicted
FROM rec
UNION ALL
SELECT financial_year, provider_code, joint, subgroup, 'EQ-5D Index',
    proms_ref_eq5d(pre_eq5d_index, pre_eq5d_profile),
    proms_ref_eq5d(post_eq5d_index, post_eq5d_profile),
    TRY_CAST(eq5d_predicted AS DOUBLE)
FROM rec
UNION ALL
SELECT financial_year, provider_code, joint, subgroup, 'EQ VAS',
    proms_ref_vas(pre_eq_vas), proms_ref_vas(post_eq_vas), TRY_CAST(eq_vas_predicted AS DOUBLE)
FROM rec;

-- 3. Figures per provider, subgroup and measure over modelled records only. The group list
-- comes from every record (any measure), so a measure with no modelled record still gets a
-- row with 0 modelled records, as published ('-'). England is the same over all records.
CREATE OR REPLACE TEMP TABLE proms_ref_subgroup AS
WITH modelled AS (
    SELECT *, post - predicted AS residual,
        sign(post - pre) AS direction  -- exact: both sides are the file's own decimals
    FROM proms_ref_scores
    WHERE pre IS NOT NULL AND post IS NOT NULL AND predicted IS NOT NULL
),
by_unit AS (
    SELECT financial_year, provider_code, joint, subgroup, measure,
        count(*) AS n, avg(pre) AS avg_pre, avg(post) AS avg_post,
        count(*) FILTER (WHERE direction > 0) AS improved,
        count(*) FILTER (WHERE direction = 0) AS same,
        count(*) FILTER (WHERE direction < 0) AS worse,
        avg(residual) AS mean_residual, stddev_samp(residual) AS sd_residual
    FROM modelled
    GROUP BY GROUPING SETS (
        (financial_year, provider_code, joint, subgroup, measure),
        (financial_year, joint, subgroup, measure)
    )
),
units AS (
    SELECT DISTINCT financial_year, provider_code, joint, subgroup, measure FROM proms_ref_scores
    UNION ALL
    SELECT DISTINCT financial_year, NULL, joint, subgroup, measure FROM proms_ref_scores
)
SELECT u.financial_year, coalesce(u.provider_code, 'ENG') AS provider_code, u.joint,
    u.subgroup, u.measure, coalesce(b.n, 0) AS n, b.avg_pre, b.avg_post, b.improved, b.same,
    b.worse, b.mean_residual, b.sd_residual
FROM units AS u
LEFT JOIN by_unit AS b
    ON b.financial_year = u.financial_year AND b.joint = u.joint
    AND b.subgroup = u.subgroup AND b.measure = u.measure
    AND b.provider_code IS NOT DISTINCT FROM u.provider_code;

-- 4. PartLink, one row per year, organisation and PartLink group. The file has no year
-- column: '... 1617.csv' is 2016-17. union_by_name so that years with a different column set
-- still stack; the check after it stops on a file whose counts could not be found.
CREATE OR REPLACE TEMP TABLE proms_ref_partlink AS
WITH src AS (
    SELECT * FROM read_csv(getvariable('partlink_files'), header = true, all_varchar = true,
        union_by_name = true, filename = true)
),
long AS (
    UNPIVOT src
    ON COLUMNS('^.+ - (Total HES Procedures|Total Pre-Op Qs)$')
    INTO NAME field VALUE val
)
SELECT
    '20' || regexp_extract(lower(filename), '(\d\d)(\d\d)\.csv$', 1) || '-'
        || regexp_extract(lower(filename), '(\d\d)(\d\d)\.csv$', 2) AS financial_year,
    filename,
    CASE WHEN "Organisation Code" = 'England' THEN 'ENG' ELSE "Organisation Code" END
        AS provider_code,
    regexp_extract(field, '^(.+) - Total', 1) AS partlink_group,
    max(val) FILTER (WHERE field LIKE '% - Total HES Procedures') AS hes_raw,
    max(val) FILTER (WHERE field LIKE '% - Total Pre-Op Qs') AS preq_raw
FROM long
GROUP BY ALL;

SELECT error('proms_reference: cannot take the year or the counts from PartLink file ' || f)
FROM (
    SELECT filename AS f FROM proms_ref_partlink
    GROUP BY filename
    HAVING NOT bool_and(regexp_matches(financial_year, '^20\d\d-\d\d$'))
        OR count(*) FILTER (WHERE provider_code = 'ENG' AND hes_raw IS NOT NULL) < 7
);

-- 5. Disclosure control. NHS Digital suppresses a subgroup whose HES count is 1-5 and then a
-- second one so the first cannot be worked out. PartLink shows the result but not which '*'
-- is which: published figures are hidden for
--   * both subgroups and the Total where the joint's total HES count is '*';
--   * the revision subgroup where its HES count is '*';
--   * the primary subgroup where its HES count is '*' and the revision's is not (so the
--     primary is the small one). Where both subgroups are '*' under a published total, the
--     revision is taken as the small one: true of every such case in 2016-17 and 2017-18,
--     where the primary figures are always published.
CREATE OR REPLACE TEMP TABLE proms_ref_suppressed AS
WITH j AS (
    SELECT financial_year, provider_code,
        CASE WHEN partlink_group LIKE '%Hip%' THEN 'Hip' ELSE 'Knee' END AS joint,
        max(hes_raw) FILTER (WHERE partlink_group LIKE 'Primary %') AS p,
        max(hes_raw) FILTER (WHERE partlink_group LIKE 'Revision %') AS r,
        max(hes_raw) FILTER (WHERE partlink_group IN ('Hip Replacement', 'Knee Replacement'))
            AS t
    FROM proms_ref_partlink
    WHERE partlink_group LIKE '%Hip Replacement' OR partlink_group LIKE '%Knee Replacement'
    GROUP BY ALL
)
SELECT financial_year, provider_code, joint, 'Total' AS subgroup FROM j WHERE t = '*'
UNION ALL
SELECT financial_year, provider_code, joint, 'Revision' FROM j WHERE t = '*' OR r = '*'
UNION ALL
SELECT financial_year, provider_code, joint, 'Primary' FROM j
WHERE t = '*' OR (p = '*' AND r IS DISTINCT FROM '*');

-- 6. Subgroup rows with England's figures for centring and limits.
CREATE OR REPLACE TEMP TABLE proms_ref_subgroup_rows AS
SELECT s.*, e.avg_pre AS eng_avg_pre, e.avg_post AS eng_avg_post,
    e.mean_residual AS eng_mean_residual, e.sd_residual AS eng_sd_residual,
    x.provider_code IS NOT NULL AS suppressed
FROM proms_ref_subgroup AS s
JOIN proms_ref_subgroup AS e
    ON e.provider_code = 'ENG' AND e.financial_year = s.financial_year
    AND e.joint = s.joint AND e.subgroup = s.subgroup AND e.measure = s.measure
LEFT JOIN proms_ref_suppressed AS x
    ON x.financial_year = s.financial_year AND x.provider_code = s.provider_code
    AND x.joint = s.joint AND x.subgroup = s.subgroup;

-- 7. Output. Adjusted post-op = England post + (provider mean residual - England mean
-- residual); the funnel test compares adjusted health gain with England's health gain, which
-- reduces to the centred mean residual against England's residual SD / sqrt(n).
CREATE OR REPLACE TABLE reference_provider_outcomes AS
WITH subgroup_out AS (
    SELECT financial_year, provider_code,
        joint || ' Replacement ' || subgroup AS procedure, measure, suppressed,
        n AS modelled_records, avg_pre, avg_post, improved, same, worse,
        CASE WHEN n >= 30 THEN eng_avg_post + mean_residual - eng_mean_residual END
            AS adjusted_post,
        CASE WHEN n >= 30 THEN sd_residual END AS sd,
        CASE
            WHEN n = 0 THEN 'No procedures'
            WHEN n < 30 THEN 'Insufficient records'
            WHEN provider_code = 'ENG' THEN 'Not an outlier'
            WHEN (mean_residual - eng_mean_residual) / (eng_sd_residual / sqrt(n)) > 3.090232
                THEN 'Positive outlier (99.8%)'
            WHEN (mean_residual - eng_mean_residual) / (eng_sd_residual / sqrt(n)) > 1.959964
                THEN 'Positive outlier (95%)'
            WHEN (mean_residual - eng_mean_residual) / (eng_sd_residual / sqrt(n)) < -3.090232
                THEN 'Negative outlier (99.8%)'
            WHEN (mean_residual - eng_mean_residual) / (eng_sd_residual / sqrt(n)) < -1.959964
                THEN 'Negative outlier (95%)'
            ELSE 'Not an outlier'
        END AS outlier_status,
        eng_avg_pre
    FROM proms_ref_subgroup_rows
),
-- Totals: averages over all modelled records of both subgroups (suppressed ones included,
-- as published); counts only from subgroups that are not suppressed. Records are weighted
-- back from the subgroup means, which is the same as averaging the records.
total_out AS (
    SELECT r.financial_year, r.provider_code, 'Total ' || r.joint || ' Replacement' AS procedure,
        r.measure, x.provider_code IS NOT NULL AS suppressed,
        sum(r.n) FILTER (WHERE NOT r.suppressed) AS modelled_records,
        sum(r.n * r.avg_pre) / nullif(sum(r.n), 0) AS avg_pre,
        sum(r.n * r.avg_post) / nullif(sum(r.n), 0) AS avg_post,
        coalesce(sum(r.improved) FILTER (WHERE NOT r.suppressed), 0) AS improved,
        coalesce(sum(r.same) FILTER (WHERE NOT r.suppressed), 0) AS same,
        coalesce(sum(r.worse) FILTER (WHERE NOT r.suppressed), 0) AS worse
    FROM proms_ref_subgroup_rows AS r
    LEFT JOIN proms_ref_suppressed AS x
        ON x.financial_year = r.financial_year AND x.provider_code = r.provider_code
        AND x.joint = r.joint AND x.subgroup = 'Total'
    GROUP BY ALL
),
all_rows AS (
    SELECT financial_year, provider_code, procedure, measure, suppressed, modelled_records,
        avg_pre, avg_post, improved, same, worse, adjusted_post,
        adjusted_post - eng_avg_pre AS adjusted_gain, sd, outlier_status
    FROM subgroup_out
    UNION ALL
    SELECT financial_year, provider_code, procedure, measure, suppressed,
        coalesce(modelled_records, 0), avg_pre, avg_post, improved, same, worse,
        NULL, NULL, NULL,
        CASE
            WHEN coalesce(modelled_records, 0) = 0 THEN 'No procedures'
            WHEN modelled_records < 30 THEN 'Insufficient records'
        END
    FROM total_out
)
-- Suppressed rows keep their outlier status (it depends on the count only, as in Time
-- Series) but no figures; modelled records 0 leaves every figure NULL ('-' when published).
SELECT financial_year, provider_code, procedure, measure,
    CAST(CASE WHEN NOT suppressed THEN modelled_records END AS INTEGER) AS modelled_records,
    CASE WHEN NOT suppressed THEN avg_pre END AS average_pre_op_score,
    CASE WHEN NOT suppressed THEN avg_post END AS average_post_op_score,
    CASE WHEN NOT suppressed THEN avg_post - avg_pre END AS health_gain,
    CAST(CASE WHEN NOT suppressed AND modelled_records > 0 THEN improved END AS INTEGER)
        AS improved,
    CAST(CASE WHEN NOT suppressed AND modelled_records > 0 THEN same END AS INTEGER) AS same,
    CAST(CASE WHEN NOT suppressed AND modelled_records > 0 THEN worse END AS INTEGER) AS worse,
    CASE WHEN NOT suppressed THEN adjusted_post END AS adjusted_post_op_score,
    CASE WHEN NOT suppressed THEN adjusted_gain END AS adjusted_health_gain,
    CASE WHEN NOT suppressed THEN sd END AS standard_deviation,
    outlier_status
FROM all_rows
ORDER BY financial_year, provider_code, procedure, measure;

-- 8. Participation: pre-op questionnaires / HES procedures per PartLink group, as published
-- (a suppressed count gives no rate; no HES procedures gives 0, even with questionnaires).
-- PartLink itself sometimes prints a primary knee rate beside a suppressed HES count; that
-- rate cannot be had from the published counts, so it is NULL here.
CREATE OR REPLACE TABLE reference_participation AS
SELECT financial_year, provider_code,
    CASE
        WHEN partlink_group IN ('Hip Replacement', 'Knee Replacement')
            THEN 'Total ' || partlink_group
        WHEN partlink_group LIKE 'Primary %' OR partlink_group LIKE 'Revision %'
            THEN substr(partlink_group, strpos(partlink_group, ' ') + 1) || ' '
                || split_part(partlink_group, ' ', 1)
        ELSE partlink_group
    END AS procedure,
    TRY_CAST(hes_raw AS INTEGER) AS hes_procedures,
    TRY_CAST(preq_raw AS INTEGER) AS pre_op_questionnaires,
    CASE
        WHEN TRY_CAST(hes_raw AS INTEGER) = 0 AND TRY_CAST(preq_raw AS INTEGER) IS NOT NULL
            THEN 0.0
        ELSE TRY_CAST(preq_raw AS INTEGER) / TRY_CAST(hes_raw AS INTEGER)
    END AS participation_rate
FROM proms_ref_partlink
ORDER BY financial_year, provider_code, procedure;

DROP TABLE proms_ref_raw;
DROP TABLE proms_ref_scores;
DROP TABLE proms_ref_subgroup;
DROP TABLE proms_ref_partlink;
DROP TABLE proms_ref_suppressed;
DROP TABLE proms_ref_subgroup_rows;
DROP MACRO proms_ref_item_ok;
DROP MACRO proms_ref_oxford;
DROP MACRO proms_ref_eq5d;
DROP MACRO proms_ref_vas;
