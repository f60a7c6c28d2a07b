-- The marts: rebuilt as a whole from agg_usage and the dimensions on every
-- refresh. agg_usage is small (no items), so this costs seconds even for a
-- warehouse of 100M facts; only mart_title_month reads the facts, and it is
-- refreshed per changed month (transform/marts_title.go). Rules
-- that hold in every mart:
--   * metric types are a dimension: Unique_* and Total_* are never summed,
--   * one use, one count: the usage of a cell (entity × platform × month)
--     comes from one source per report, chosen by THE RULE OF CHOICE
--     (source_choice below), never from two added up,
--   * per entity, platform, month and metric only one report counts
--     (PR > DR/DB > TR/JR/BR > IR), so a title report never adds to its platform report;
--   * usage nobody can be attributed to stays, as 'unattributed';
--   * data_type is a grain column ('' only when the vendor gave none).
-- Allocated (pooled) figures are DOUBLE and rounded to 6 decimals so that a
-- rebuild gives the same numbers as incremental loads.

-- population_by_year: inhabitants per 2024 municipality for every year with
-- a loaded month or a figure: the latest figure at or before the year, else the
-- earliest one. A municipality merged from several 2020–2023 ones that has
-- no figure of its own for a year has its predecessors' sum, when each of
-- them has one (population recorded in the old structure).
-- Grain: year × municipality.
CREATE OR REPLACE TABLE population_by_year AS
WITH merged AS (
  SELECT municipality_2024 AS municipality, municipality_2023 AS predecessor,
         count(*) OVER (PARTITION BY municipality_2024) AS predecessors
  FROM municipality_successors
  QUALIFY count(*) OVER (PARTITION BY municipality_2024) > 1
),
derived AS (
  SELECT m.municipality, p.year, sum(p.population) AS population
  FROM merged m JOIN population p ON p.municipality = m.predecessor
  WHERE NOT EXISTS (SELECT 1 FROM population q WHERE q.municipality = m.municipality AND q.year = p.year)
  GROUP BY m.municipality, p.year
  HAVING count(*) = any_value(m.predecessors)
),
pop AS (
  SELECT municipality, year, population FROM population
  WHERE municipality IN (SELECT municipality FROM municipalities)
  UNION ALL
  SELECT municipality, year, population FROM derived
),
-- The years of every loaded source, usage or "no usage", so that a copy
-- set aside never adds a year.
years AS (SELECT DISTINCT year(month) AS year FROM loaded_units UNION SELECT DISTINCT year FROM pop)
SELECT y.year, p.municipality,
  coalesce(max_by(p.population, p.year) FILTER (WHERE p.year <= y.year), min_by(p.population, p.year)) AS population,
  coalesce(max(p.year) FILTER (WHERE p.year <= y.year), min(p.year)) AS population_year
FROM years y CROSS JOIN pop p
GROUP BY y.year, p.municipality;

-- library_geo: where each library is, in the 2024 structure and in the
-- 2020–2023 one. A library registered under a 2020–2023 code is mapped to
-- its successor; under 1507 (old Ålesund) it gets two rows weighted by the
-- recorded split share. A library with an unknown code keeps one row of NULLs.
-- The weights split a library's usage between counties; they never scale
-- its inhabitants (library_population).
-- Grain: library × 2024 municipality.
CREATE OR REPLACE TABLE library_geo AS
WITH back AS (SELECT DISTINCT municipality_2024, municipality_2023, county_2023 FROM municipality_successors)
SELECT l.library_id, m.municipality AS municipality_2024, m.county AS county_2024, 1.0::DOUBLE AS weight,
       b.municipality_2023, b.county_2023
FROM libraries l JOIN municipalities m ON m.municipality = l.municipality
LEFT JOIN back b ON b.municipality_2024 = m.municipality
UNION ALL
SELECT l.library_id, s.municipality_2024, m.county, s.share, s.municipality_2023, s.county_2023
FROM libraries l JOIN municipality_successors s ON s.municipality_2023 = l.municipality
JOIN municipalities m ON m.municipality = s.municipality_2024
WHERE l.municipality NOT IN (SELECT municipality FROM municipalities)
UNION ALL
SELECT l.library_id, NULL, NULL, 1.0, NULL, NULL
FROM libraries l
WHERE l.municipality NOT IN (SELECT municipality FROM municipalities)
  AND l.municipality NOT IN (SELECT municipality_2023 FROM municipality_successors);

-- library_population: THE population of a library, read by the pools, the
-- report and the agreements alike: its own figure when registered, else
-- the sum over every 2024 municipality it served. A library under old
-- Ålesund (1507, split into 1508 Ålesund + 1580 Haram) served both:
-- 58,509 + 9,357 = 67,866, never the population-weighted 51,732. A library
-- under a merged municipality gets its figure, its predecessors' sum
-- (population_by_year).
-- Grain: library × year.
CREATE OR REPLACE TABLE library_population AS
SELECT l.library_id, py.year,
  coalesce(any_value(l.population), sum(py.population))::BIGINT AS population
FROM libraries l JOIN (SELECT DISTINCT library_id, municipality_2024 FROM library_geo) g USING (library_id)
JOIN population_by_year py ON py.municipality = g.municipality_2024
GROUP BY l.library_id, py.year;

-- attribution: whom the usage of each distinct (platform, credential
-- library, Institution_ID, Customer_ID) belongs to, and why. Order of
-- precedence: institution_map by Institution_ID (the platform's own row,
-- then '*'), by Customer_ID (likewise), the harvest credential's (or the
-- upload unit's) library, an ISIL Institution_ID of a registered library;
-- else unattributed. A library must be in the register to be credited: an
-- id naming no registered library stays unattributed, with the id the vendor
-- used, and moves as soon as the register or the mapping names it.
-- Grain: platform × credential library × institution_id × customer_id.
CREATE OR REPLACE TABLE attribution AS
WITH keys AS (SELECT DISTINCT platform, library_id, institution_id, customer_id FROM agg_usage),
cands AS (
  SELECT k.platform, k.library_id, k.institution_id, k.customer_id, m.library_id AS to_library, m.pool_id AS to_pool,
         'institution_id' AS attributed_by, CASE WHEN m.platform = k.platform THEN 1 ELSE 2 END AS prio
  FROM keys k JOIN institution_map m
    ON m.id_kind = 'institution_id' AND m.id_value = k.institution_id AND m.platform IN (k.platform, '*')
  WHERE k.institution_id <> ''
  UNION ALL
  SELECT k.platform, k.library_id, k.institution_id, k.customer_id, m.library_id, m.pool_id,
         'customer_id', CASE WHEN m.platform = k.platform THEN 3 ELSE 4 END
  FROM keys k JOIN institution_map m
    ON m.id_kind = 'customer_id' AND m.id_value = k.customer_id AND m.platform IN (k.platform, '*')
  WHERE k.customer_id <> ''
  UNION ALL
  SELECT k.platform, k.library_id, k.institution_id, k.customer_id, k.library_id, NULL, 'credential', 5
  FROM keys k WHERE k.library_id IN (SELECT library_id FROM libraries)
  UNION ALL
  SELECT k.platform, k.library_id, k.institution_id, k.customer_id, l.library_id, NULL, 'isil', 6
  FROM keys k JOIN libraries l ON upper(k.institution_id) IN ('ISIL:' || l.isil, l.isil)
),
best AS (
  SELECT * FROM cands
  WHERE to_pool IS NOT NULL OR to_library IN (SELECT library_id FROM libraries)
  QUALIFY row_number() OVER (PARTITION BY platform, library_id, institution_id, customer_id ORDER BY prio) = 1
)
SELECT k.platform, k.library_id, k.institution_id, k.customer_id,
  CASE WHEN b.to_library IS NOT NULL THEN 'library' WHEN b.to_pool IS NOT NULL THEN 'pool' ELSE 'unattributed' END AS target_kind,
  coalesce(b.to_library, b.to_pool, '') AS target_id,
  coalesce(b.attributed_by, 'unmapped') AS attributed_by
FROM keys k LEFT JOIN best b USING (platform, library_id, institution_id, customer_id);

-- usage_attributed: agg_usage with its entity: a library, a pool, or an
-- unattributed (institution_id, customer_id) as the vendor wrote them.
-- Grain: agg_usage's.
CREATE OR REPLACE TEMP TABLE usage_attributed AS
SELECT a.month, a.platform, a.release, a.report_id, a.metric_type, a.data_type, a.unit_key, t.target_kind, t.target_id,
       CASE WHEN t.target_kind = 'unattributed' THEN a.institution_id ELSE '' END AS institution_id,
       CASE WHEN t.target_kind = 'unattributed' THEN a.customer_id ELSE '' END AS customer_id,
       a.count
FROM agg_usage a JOIN attribution t USING (platform, library_id, institution_id, customer_id);

-- source_choice: THE RULE OF CHOICE, the one place where two sources of the
-- same usage meet. A cell is what was counted: entity (the library, pool or
-- unattributed id the usage is attributed to, not the vendor id or
-- credential it arrived under) × platform × month, per report. Its sources
-- (harvests, uploads, the same file under two vendor ids, two releases,
-- the consortium's own access log) are never added; one counts:
--   0. the class of source the platform counts (platforms[].count_source,
--      table count_source): the vendor's COUNTER reports ('counter':
--      harvests and uploads, the default) or the consortium's own logins
--      ('access-log'). Sources of the other class are set aside and kept
--      for comparison (mart_source_comparison). A platform that counts the
--      access log, in a month with no access-log unit of the platform at
--      all (before logging began, a log lost), counts the vendor's report
--      for that month and says so ("no access log for this month"): a gap
--      in our own logs never shows as 0 and the vendor's figure is the best
--      there is. In a month the log has, every vendor source of the
--      platform is set aside, a library's without logins, a pool's and
--      unattributed usage too: the log counts each use under the patron's
--      home library, so the vendor's would be counted twice. A platform
--      that counts the vendor's reports never counts the access log in its
--      place: the vendor's month arrives after ours, and a figure that
--      changed source when the harvest came would mislead; the missing
--      month shows in status and as vendor_count NULL in the comparison.
--      The class is decided per source by its platform id
--      (loaded_units.platform), so an access log declared under a name the
--      vendor does not use can still never add to the vendor's usage;
--   1. within the class, the best COUNTER release of the cell, 5.1 > 5 > 4
--      (over all its reports, so R4 and R5 are never mixed in one entity-month);
--   2. then, per report, the source the platform's config prefers
--      (platforms[].prefer_source: sushi, upload or upload/VENDOR);
--   3. then the newest harvest or upload (then the greatest key, so a tie
--      is decided the same way on every rebuild).
-- Every other source is set aside, with why. class_counted says which
-- source would count within its class (what mart_source_comparison and
-- the pool rule 'logins' read); counted, which counts. Restatements of one
-- source never get here: a newer harvest of the same source replaced its
-- facts; and a byte-identical copy of a superseded object never counts
-- (stale_sources). "Newest" dates an object by its bytes' first arrival.
-- Grain: entity × platform × month × report × source.
CREATE OR REPLACE TABLE source_choice AS
WITH s AS (
  SELECT DISTINCT target_kind, target_id, institution_id, customer_id, platform, month, report_id, release, unit_key
  FROM usage_attributed
),
-- The months of each platform that the access log has.
log_months AS (
  SELECT DISTINCT platform, month FROM loaded_units
  WHERE source = 'access-log' AND unit_key NOT IN (SELECT unit_key FROM stale_sources)
),
classed AS (
  SELECT s.*, u.raw_key, u.source, u.harvested_at, u.platform AS source_platform,
    CASE WHEN u.source = 'access-log' THEN 'access-log' ELSE 'counter' END AS class,
    coalesce(c.source, 'counter') AS wanted, lm.platform IS NOT NULL AS log_month
  FROM s JOIN loaded_units u USING (unit_key)
  LEFT JOIN count_source c ON c.platform = u.platform
  LEFT JOIN log_months lm ON lm.platform = u.platform AND lm.month = s.month
),
ranked AS (
  SELECT k.*, p.source AS preferred, x.reason AS stale,
    release_rank(k.release) AS rr,
    max(release_rank(k.release)) FILTER (WHERE x.reason IS NULL)
      OVER (PARTITION BY target_kind, target_id, institution_id, customer_id, k.platform, k.month, k.class) AS best_rr,
    row_number() OVER (PARTITION BY target_kind, target_id, institution_id, customer_id, k.platform, k.month, k.report_id, k.class, release_rank(k.release)
      ORDER BY (x.reason IS NULL) DESC, (p.source IS NOT NULL) DESC, k.harvested_at DESC, k.unit_key DESC) AS rank,
    CASE WHEN bool_or(k.wanted = 'access-log' AND k.log_month) OVER cell THEN 'access-log' ELSE 'counter' END AS counting_class,
    bool_or(k.class = 'access-log') OVER cell AS cell_has_log
  FROM classed k
  LEFT JOIN stale_sources x USING (unit_key)
  LEFT JOIN source_preference p ON p.platform = k.source_platform AND (k.source = p.source OR k.source LIKE p.source || '/%')
  WINDOW cell AS (PARTITION BY target_kind, target_id, institution_id, customer_id, k.platform, k.month)
),
winner AS (
  SELECT target_kind, target_id, institution_id, customer_id, platform, month, report_id, class,
         any_value(release) AS best_release, any_value(raw_key) AS best_key,
         any_value(preferred) AS best_preferred
  FROM ranked WHERE stale IS NULL AND rr = best_rr AND rank = 1 GROUP BY ALL
),
best_any AS (
  SELECT target_kind, target_id, institution_id, customer_id, platform, month, class,
         max_by(release, rr) FILTER (WHERE stale IS NULL) AS best_release
  FROM ranked GROUP BY ALL
)
SELECT r.target_kind, r.target_id, r.institution_id, r.customer_id, r.platform, r.month, r.report_id, r.release,
  r.unit_key, r.raw_key, r.source, r.source_platform, r.harvested_at, r.class AS source_class,
  coalesce(r.stale IS NULL AND r.rr = r.best_rr AND r.rank = 1, false) AS class_counted,
  coalesce(r.stale IS NULL AND r.rr = r.best_rr AND r.rank = 1, false) AND r.class = r.counting_class AS counted,
  CASE
    WHEN r.class <> r.counting_class AND r.class = 'access-log'
      THEN 'set aside: platform counts the vendor''s COUNTER reports; the access log is kept for comparison'
    WHEN r.class <> r.counting_class AND r.cell_has_log
      THEN 'set aside: platform counts the access log; the vendor''s report is kept for comparison'
    WHEN r.class <> r.counting_class AND r.target_kind = 'library'
      THEN 'set aside: platform counts the access log, which has no use by this library this month; the vendor''s report is kept for comparison'
    WHEN r.class <> r.counting_class
      THEN 'set aside: platform counts the access log, which counts every use under the patron''s home library; the vendor''s report is kept for comparison'
    WHEN r.stale IS NOT NULL THEN 'set aside: ' || r.stale
    WHEN r.rr = r.best_rr AND r.rank = 1 AND r.wanted = 'access-log'
      THEN 'counted: no access log for this month; the vendor''s report counts'
    WHEN r.rr = r.best_rr AND r.rank = 1 THEN 'counted'
    WHEN r.rr < r.best_rr THEN 'release ' || r.release || ' set aside: the cell has release ' || b.best_release
    WHEN r.preferred IS NULL AND w.best_preferred IS NOT NULL
      THEN 'set aside: platform prefers source ' || w.best_preferred || ', counted from ' || w.best_key
    ELSE 'set aside: an older copy of the same usage; the newest, ' || w.best_key || ', counts'
  END AS reason
FROM ranked r
JOIN best_any b USING (target_kind, target_id, institution_id, customer_id, platform, month, class)
LEFT JOIN winner w USING (target_kind, target_id, institution_id, customer_id, platform, month, report_id, class);

-- usage_chosen: the usage that counts: the counted sources only, and per
-- entity, platform, month and metric one report (PR > DR > TR > IR).
-- Grain: target × platform × release × report × metric_type × data_type × month.
CREATE OR REPLACE TABLE usage_chosen AS
WITH r AS (
  SELECT u.*, report_rank(u.report_id) AS pr
  FROM usage_attributed u
  JOIN source_choice c USING (target_kind, target_id, institution_id, customer_id, platform, month, report_id, unit_key)
  WHERE c.counted
),
best_report AS (
  SELECT target_kind, target_id, institution_id, customer_id, platform, month, metric_type,
         min({'pr': pr, 'report_id': report_id}).report_id AS report_id
  FROM r GROUP BY ALL
)
SELECT target_kind, target_id, institution_id, customer_id, platform, release, report_id, metric_type, data_type, month,
       sum(count)::BIGINT AS count
FROM r JOIN best_report USING (target_kind, target_id, institution_id, customer_id, platform, month, metric_type, report_id)
GROUP BY ALL;

-- mart_sources: for every mart cell, the raw objects it came from and those
-- set aside, and why (source_choice, with the mart's names). 'bibstat
-- explain' prints it.
-- Grain: entity × platform × month × report × source.
CREATE OR REPLACE TABLE mart_sources AS
SELECT target_kind, target_id, institution_id, customer_id, platform, month, report_id, release,
       raw_key, source, source_platform, strftime(harvested_at, '%Y-%m-%dT%H:%M:%SZ') AS harvested_at, counted, reason
FROM source_choice;

-- facts_chosen: the facts rows that count after the rule of choice (one
-- source and one release per cell), with their entity; every report is
-- kept, so a reader serving TR items (the SUSHI server) picks its report
-- itself. Readers of items read this, never facts with rules of their own.
CREATE OR REPLACE VIEW facts_chosen AS
SELECT f.*, c.target_kind, c.target_id
FROM facts f JOIN attribution t USING (platform, library_id, institution_id, customer_id)
JOIN source_choice c ON c.counted AND c.unit_key = f.unit_key AND c.platform = f.platform AND c.month = f.month
  AND c.report_id = f.report_id AND c.target_kind = t.target_kind AND c.target_id = t.target_id
  AND c.institution_id = CASE WHEN t.target_kind = 'unattributed' THEN f.institution_id ELSE '' END
  AND c.customer_id = CASE WHEN t.target_kind = 'unattributed' THEN f.customer_id ELSE '' END;

-- mart_title_month: the most used titles, by the same rules as
-- facts_chosen. It is the one mart as big as the facts at item level, so
-- it is refreshed per month, for the months whose facts or chosen facts
-- changed, by transform/marts_title.go, after these statements, and kept
-- narrow: a view over rows of numbers, each cell and title stored once.

-- pool_shares: each member's share of each pool per year, with the rule and
-- its inputs: basis is the member's population (rule 'population'), 1
-- ('equal'), its own attributed usage of metric_type that year
-- ('metric'), or its login-measured usage of metric_type that year
-- ('logins'). A pool whose bases sum to 0 is split equally, and says so.
-- Grain: pool × year × library.
CREATE OR REPLACE TABLE pool_shares AS
WITH years AS (
  SELECT DISTINCT target_id AS pool_id, year(month) AS year FROM usage_chosen WHERE target_kind = 'pool'
),
own AS (
  SELECT target_id AS library_id, metric_type, year(month) AS year, sum(count) AS n
  FROM usage_chosen WHERE target_kind = 'library' GROUP BY ALL
),
basis AS (
  SELECT y.pool_id, y.year, m.library_id, p.rule, p.metric_type,
    (CASE p.rule WHEN 'equal' THEN 1
                 WHEN 'population' THEN coalesce(lp.population, 0)
                 -- the member's login-measured usage (access-log units, counted or not)
                 WHEN 'logins' THEN coalesce((SELECT sum(a.count) FROM usage_attributed a JOIN source_choice c
                     USING (target_kind, target_id, institution_id, customer_id, platform, month, report_id, unit_key)
                   WHERE c.class_counted AND c.source_class = 'access-log' AND a.target_kind = 'library'
                     AND a.target_id = m.library_id AND a.metric_type = p.metric_type AND year(a.month) = y.year), 0)
                 ELSE coalesce(o.n, 0) END)::DOUBLE AS basis
  FROM years y JOIN pools p USING (pool_id) JOIN pool_members m USING (pool_id)
  LEFT JOIN library_population lp ON lp.library_id = m.library_id AND lp.year = y.year
  LEFT JOIN own o ON o.library_id = m.library_id AND o.metric_type = p.metric_type AND o.year = y.year
)
SELECT pool_id, year, library_id, metric_type AS rule_metric, basis, sum(basis) OVER w AS basis_total,
  CASE WHEN sum(basis) OVER w > 0 THEN rule ELSE 'equal (bases were 0)' END AS rule,
  round(CASE WHEN sum(basis) OVER w > 0 THEN basis / sum(basis) OVER w ELSE 1.0 / count(*) OVER w END, 12) AS share
FROM basis
WINDOW w AS (PARTITION BY pool_id, year);

-- mart_pool_allocation: pooled usage allocated to the pool's members, with
-- the rule and its inputs beside every figure.
-- Grain: pool × library × platform × release × metric_type × data_type × month.
CREATE OR REPLACE TABLE mart_pool_allocation AS
SELECT u.target_id AS pool_id, s.library_id, u.platform, u.release, u.metric_type, u.data_type, u.month,
  sum(u.count)::BIGINT AS pool_count, s.rule, s.rule_metric, s.basis, s.basis_total, s.share,
  round(sum(u.count) * s.share, 6) AS allocated
FROM usage_chosen u JOIN pool_shares s ON s.pool_id = u.target_id AND s.year = year(u.month)
WHERE u.target_kind = 'pool'
GROUP BY u.target_id, s.library_id, u.platform, u.release, u.metric_type, u.data_type, u.month,
  s.rule, s.rule_metric, s.basis, s.basis_total, s.share;

-- mart_library_month: usage per library. count is the usage attributed to
-- the library itself; pooled its allocated share of pools; total the two.
-- Grain: library × platform × release × metric_type × data_type × month.
CREATE OR REPLACE TABLE mart_library_month AS
WITH direct AS (
  SELECT target_id AS library_id, platform, release, metric_type, data_type, month, sum(count) AS count
  FROM usage_chosen WHERE target_kind = 'library' GROUP BY ALL
),
pooled AS (
  SELECT library_id, platform, release, metric_type, data_type, month, sum(allocated) AS pooled
  FROM mart_pool_allocation GROUP BY ALL
)
SELECT library_id, platform, release, metric_type, data_type, month,
  coalesce(d.count, 0)::BIGINT AS count,
  round(coalesce(p.pooled, 0), 6) AS pooled,
  round(coalesce(d.count, 0) + coalesce(p.pooled, 0), 6) AS total
FROM direct d FULL OUTER JOIN pooled p USING (library_id, platform, release, metric_type, data_type, month);

-- mart_county_month: usage per county of the month's own structure: the 11
-- counties of 2020–2023 for months before 2024, the 15 of 2024 after.
-- Libraries of no known municipality count under county ''.
-- Grain: county × platform × metric_type × data_type × month.
CREATE OR REPLACE TABLE mart_county_month AS
WITH lc AS (
  SELECT library_id, county_2023, county_2024, round(sum(weight), 9) AS weight FROM library_geo GROUP BY ALL
),
u AS (
  SELECT CASE WHEN m.month < DATE '2024-01-01' THEN lc.county_2023 ELSE lc.county_2024 END AS county,
         m.platform, m.metric_type, m.data_type, m.month, m.count * coalesce(lc.weight, 1) AS count,
         m.pooled * coalesce(lc.weight, 1) AS pooled
  FROM mart_library_month m LEFT JOIN lc USING (library_id)
)
SELECT coalesce(u.county, '') AS county, coalesce(any_value(c.name), 'unknown') AS county_name,
  u.platform, u.metric_type, u.data_type, u.month,
  round(sum(u.count), 6) AS count, round(sum(u.pooled), 6) AS pooled, round(sum(u.count + u.pooled), 6) AS total
FROM u LEFT JOIN counties c ON c.county = u.county AND u.month >= c.valid_from AND (c.valid_to IS NULL OR u.month < c.valid_to)
GROUP BY u.county, u.platform, u.metric_type, u.data_type, u.month;

-- mart_county_month_current: the same in today's (2024) structure for every
-- month, so trends run across the 2024 reform.
-- Grain: county (2024) × platform × metric_type × data_type × month.
CREATE OR REPLACE TABLE mart_county_month_current AS
WITH lc AS (
  SELECT library_id, county_2024, round(sum(weight), 9) AS weight FROM library_geo GROUP BY ALL
),
u AS (
  SELECT lc.county_2024 AS county, m.platform, m.metric_type, m.data_type, m.month,
         m.count * coalesce(lc.weight, 1) AS count, m.pooled * coalesce(lc.weight, 1) AS pooled
  FROM mart_library_month m LEFT JOIN lc USING (library_id)
)
SELECT coalesce(u.county, '') AS county, coalesce(any_value(c.name), 'unknown') AS county_name,
  u.platform, u.metric_type, u.data_type, u.month,
  round(sum(u.count), 6) AS count, round(sum(u.pooled), 6) AS pooled, round(sum(u.count + u.pooled), 6) AS total
FROM u LEFT JOIN counties c ON c.county = u.county AND c.valid_to IS NULL
GROUP BY u.county, u.platform, u.metric_type, u.data_type, u.month;

-- mart_national_month: all usage of the nation; total = attributed + pooled
-- + unattributed, whole numbers, nothing allocated.
-- Grain: platform × metric_type × data_type × month.
CREATE OR REPLACE TABLE mart_national_month AS
SELECT platform, metric_type, data_type, month,
  coalesce(sum(count) FILTER (WHERE target_kind = 'library'), 0)::BIGINT AS attributed,
  coalesce(sum(count) FILTER (WHERE target_kind = 'pool'), 0)::BIGINT AS pooled,
  coalesce(sum(count) FILTER (WHERE target_kind = 'unattributed'), 0)::BIGINT AS unattributed,
  sum(count)::BIGINT AS total
FROM usage_chosen GROUP BY ALL;

-- mart_unattributed: usage that no mapping, credential or ISIL resolved,
-- kept visible for the operator to map, with the ids the vendor used. It
-- is counted apart from attributed usage nationally (mart_national_month),
-- and a register or mapping change moves it on the next refresh.
-- Grain: platform × month × institution_id × customer_id × release × report × metric_type × data_type.
CREATE OR REPLACE TABLE mart_unattributed AS
SELECT platform, month, institution_id, customer_id, release, report_id, metric_type, data_type, count
FROM usage_chosen WHERE target_kind = 'unattributed';

-- mart_per_1000: usage per 1,000 inhabitants, per county of the 2024
-- structure and for the nation (area 'NO', all usage including pooled and
-- unattributed), with the population used (that of the month's year).
-- Grain: area × platform × metric_type × month (data types summed).
CREATE OR REPLACE TABLE mart_per_1000 AS
WITH cc AS (
  SELECT county, any_value(county_name) AS county_name, platform, metric_type, month, round(sum(total), 6) AS total
  FROM mart_county_month_current GROUP BY county, platform, metric_type, month
),
nn AS (SELECT platform, metric_type, month, sum(total) AS total FROM mart_national_month GROUP BY ALL),
cp AS (
  SELECT py.year, m.county, sum(py.population) AS population
  FROM population_by_year py JOIN municipalities m USING (municipality) GROUP BY ALL
),
np AS (SELECT year, sum(population) AS population FROM cp GROUP BY year)
SELECT 'county' AS level, c.county AS area, c.county_name AS area_name, c.platform, c.metric_type, c.month,
  c.total, cp.population::BIGINT AS population, round(c.total * 1000 / cp.population, 6) AS per_1000
FROM cc c JOIN cp ON cp.county = c.county AND cp.year = year(c.month)
UNION ALL
SELECT 'national', 'NO', 'Norge', n.platform, n.metric_type, n.month,
  n.total::DOUBLE, np.population::BIGINT, round(n.total * 1000 / np.population, 6)
FROM nn n JOIN np ON np.year = year(n.month);

-- mart_yoy: year over year, for libraries, counties (2024 structure) and
-- the nation: total against the same month a year earlier. change_pct is
-- NULL when the earlier month had no usage.
-- Grain: level × area × platform × metric_type × month (data types summed).
CREATE OR REPLACE TABLE mart_yoy AS
WITH cur AS (
  SELECT 'library' AS level, library_id AS area, platform, metric_type, month, round(sum(total), 6) AS total
  FROM mart_library_month GROUP BY ALL
  UNION ALL
  SELECT 'county', county, platform, metric_type, month, round(sum(total), 6) FROM mart_county_month_current GROUP BY ALL
  UNION ALL
  SELECT 'national', 'NO', platform, metric_type, month, sum(total)::DOUBLE FROM mart_national_month GROUP BY ALL
)
SELECT c.level, c.area, c.platform, c.metric_type, c.month, c.total, p.total AS total_prior_year,
  CASE WHEN p.total > 0 THEN round((c.total - p.total) * 100 / p.total, 6) END AS change_pct
FROM cur c LEFT JOIN cur p ON p.level = c.level AND p.area = c.area AND p.platform = c.platform
  AND p.metric_type = c.metric_type AND p.month = (c.month - INTERVAL 1 YEAR)::DATE;

-- mart_source_comparison: the vendor's figures beside the login-measured
-- ones, so the consortium sees when a vendor's numbers drift. Only
-- platforms (loaded_units.platform, the config's id, which both sides
-- share) that have both sources in some month. vendor_count is the vendor's
-- usage attributed to the library itself by the rule of choice within the
-- vendor's class (never a pool share), login_count the access log's; each
-- counted whether or not the platform counts it (counted_source says which
-- does). A side with no source for the library's month is NULL, never 0,
-- so a gap shows; a side whose source is there but lists no such metric
-- is 0 (COUNTER leaves zeros out, and 3030 or an empty report is the
-- vendor's zero). difference = vendor_count - login_count, NULL unless both.
-- Grain: library × platform × month × metric_type.
CREATE OR REPLACE TABLE mart_source_comparison AS
WITH both_sources AS (
  SELECT DISTINCT platform FROM loaded_units GROUP BY platform, month
  HAVING bool_or(source = 'access-log') AND bool_or(source <> 'access-log')
),
log_months AS (
  SELECT DISTINCT platform, month FROM loaded_units
  WHERE source = 'access-log' AND unit_key NOT IN (SELECT unit_key FROM stale_sources)
),
chosen AS (
  SELECT c.source_class, u.target_id AS library_id, c.source_platform, u.platform, u.month, u.metric_type, u.report_id,
         report_rank(u.report_id) AS pr, u.count
  FROM usage_attributed u
  JOIN source_choice c USING (target_kind, target_id, institution_id, customer_id, platform, month, report_id, unit_key)
  WHERE c.class_counted AND u.target_kind = 'library' AND c.source_platform IN (SELECT platform FROM both_sources)
),
-- per class, as in usage_chosen, one report per metric (PR > DR > TR > IR)
best AS (
  SELECT source_class, library_id, platform, month, metric_type, min({'pr': pr, 'report_id': report_id}).report_id AS report_id
  FROM chosen GROUP BY ALL
),
sides AS (
  SELECT source_platform AS platform, library_id, month, metric_type,
    sum(count) FILTER (WHERE source_class = 'counter') AS vendor,
    sum(count) FILTER (WHERE source_class = 'access-log') AS logins
  FROM chosen JOIN best USING (source_class, library_id, platform, month, metric_type, report_id)
  GROUP BY ALL
),
-- which side has a source for the library's month: usage, or a unit
-- loaded under the library that holds none (the vendor's 3030)
present AS (
  SELECT platform, library_id, month, bool_or(vendor IS NOT NULL) AS vendor, bool_or(logins IS NOT NULL) AS logins
  FROM (
    SELECT platform, library_id, month, vendor, logins FROM sides
    UNION ALL
    SELECT platform, library_id, month, CASE WHEN source <> 'access-log' AND state = 'zero' THEN 0 END,
           CASE WHEN source = 'access-log' THEN 0 END
    FROM loaded_units WHERE unit_key NOT IN (SELECT unit_key FROM stale_sources)
  ) GROUP BY ALL
),
counts AS (
  SELECT s.library_id, s.platform, s.month, s.metric_type,
    coalesce(s.vendor, CASE WHEN p.vendor THEN 0 END)::BIGINT AS vendor_count,
    coalesce(s.logins, CASE WHEN p.logins THEN 0 END)::BIGINT AS login_count
  FROM sides s JOIN present p USING (platform, library_id, month)
)
SELECT k.library_id, k.platform, k.month, k.metric_type, k.vendor_count, k.login_count,
  (k.vendor_count - k.login_count)::BIGINT AS difference,
  CASE WHEN cs.source = 'access-log' AND lm.platform IS NOT NULL THEN 'access-log' ELSE 'counter' END AS counted_source
FROM counts k
LEFT JOIN count_source cs ON cs.platform = k.platform
LEFT JOIN log_months lm ON lm.platform = k.platform AND lm.month = k.month;
