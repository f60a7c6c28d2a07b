-- The marts: rebuilt as a whole from agg_usage and the dimensions on every
-- refresh. agg_usage is small (no items), so this costs seconds even for a
-- warehouse of 100M facts. Rules that hold in every mart:
--   * metric types are a dimension: Unique_* and Total_* are never summed,
--   * per entity, platform and month only the best COUNTER release counts
--     (5.1 > 5 > 4), so R4 and R5 data are never summed;
--   * per entity, platform, month and metric only one report counts
--     (PR > DR/DB > TR/JR/BR > IR), so a title report never adds to its platform report;
--   * usage nobody can be attributed to stays, as 'unattributed'.
-- Allocated (pooled) figures are DOUBLE and rounded to 6 decimals so that a
-- rebuild gives the same numbers as incremental loads.

-- population_by_year: inhabitants per 2024 municipality for every year with
-- usage: the latest figure at or before the year, else the earliest one.
-- Grain: year × municipality.
CREATE OR REPLACE TABLE population_by_year AS
WITH years AS (SELECT DISTINCT year(month) AS year FROM agg_usage)
SELECT y.year, p.municipality,
  coalesce(max_by(p.population, p.year) FILTER (WHERE p.year <= y.year), min_by(p.population, p.year)) AS population,
  coalesce(max(p.year) FILTER (WHERE p.year <= y.year), min(p.year)) AS population_year
FROM years y CROSS JOIN population p
GROUP BY y.year, p.municipality;

-- library_geo: where each library is, in the 2024 structure and in the
-- 2020–2023 one. A library registered under a 2020–2023 code is mapped to
-- its successor; under 1507 (old Ålesund) it gets two rows weighted by the
-- recorded split share. A library with an unknown code keeps one row of NULLs.
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

-- library_population: inhabitants a library serves per year: its own
-- figure when registered, else its municipality's (weighted for a split).
-- Grain: library × year.
CREATE OR REPLACE TABLE library_population AS
SELECT l.library_id, py.year,
  coalesce(any_value(l.population), round(sum(py.population * g.weight)))::BIGINT AS population
FROM libraries l JOIN library_geo g USING (library_id)
JOIN population_by_year py ON py.municipality = g.municipality_2024
GROUP BY l.library_id, py.year;

-- attribution: whom the usage of each distinct (platform, credential
-- library, Institution_ID, Customer_ID) belongs to, and why. Order of
-- precedence: institution_map by Institution_ID (the platform's own row,
-- then '*'), by Customer_ID (likewise), the harvest credential's library,
-- an ISIL Institution_ID of a registered library; else unattributed.
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
  FROM keys k WHERE k.library_id <> ''
  UNION ALL
  SELECT k.platform, k.library_id, k.institution_id, k.customer_id, l.library_id, NULL, 'isil', 6
  FROM keys k JOIN libraries l ON upper(k.institution_id) IN ('ISIL:' || l.isil, l.isil)
),
best AS (
  SELECT * FROM cands
  QUALIFY row_number() OVER (PARTITION BY platform, library_id, institution_id, customer_id ORDER BY prio) = 1
)
SELECT k.platform, k.library_id, k.institution_id, k.customer_id,
  CASE WHEN b.to_library IS NOT NULL THEN 'library' WHEN b.to_pool IS NOT NULL THEN 'pool' ELSE 'unattributed' END AS target_kind,
  coalesce(b.to_library, b.to_pool, '') AS target_id,
  coalesce(b.attributed_by, 'unmapped') AS attributed_by
FROM keys k LEFT JOIN best b USING (platform, library_id, institution_id, customer_id);

-- usage_chosen: the usage that counts, attributed, with one release per
-- entity, platform and month and one report per metric. An entity is a
-- library, a pool, or an unattributed (institution_id, customer_id).
-- Grain: target × platform × release × report × metric_type × month.
CREATE OR REPLACE TABLE usage_chosen AS
WITH r AS (
  SELECT a.month, a.platform, a.release, a.report_id, a.metric_type, t.target_kind, t.target_id,
         CASE WHEN t.target_kind = 'unattributed' THEN a.institution_id ELSE '' END AS institution_id,
         CASE WHEN t.target_kind = 'unattributed' THEN a.customer_id ELSE '' END AS customer_id,
         release_rank(a.release) AS rr, report_rank(a.report_id) AS pr, a.count
  FROM agg_usage a JOIN attribution t USING (platform, library_id, institution_id, customer_id)
),
best_release AS (
  SELECT target_kind, target_id, institution_id, customer_id, platform, month, max(rr) AS rr
  FROM r GROUP BY ALL
),
best_report AS (
  SELECT target_kind, target_id, institution_id, customer_id, platform, month, metric_type, rr,
         min({'pr': pr, 'report_id': report_id}).report_id AS report_id
  FROM r JOIN best_release USING (target_kind, target_id, institution_id, customer_id, platform, month, rr)
  GROUP BY ALL
)
SELECT target_kind, target_id, institution_id, customer_id, platform, release, report_id, metric_type, month,
       sum(count)::BIGINT AS count
FROM r JOIN best_report USING (target_kind, target_id, institution_id, customer_id, platform, month, metric_type, rr, report_id)
GROUP BY ALL;

-- pool_shares: each member's share of each pool per year, with the rule and
-- its inputs: basis is the member's population (rule 'population'), 1
-- ('equal'), or its own attributed usage of metric_type that year
-- ('metric'). A pool whose bases sum to 0 is split equally, and says so.
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
-- Grain: pool × library × platform × release × metric_type × month.
CREATE OR REPLACE TABLE mart_pool_allocation AS
SELECT u.target_id AS pool_id, s.library_id, u.platform, u.release, u.metric_type, u.month,
  sum(u.count)::BIGINT AS pool_count, s.rule, s.rule_metric, s.basis, s.basis_total, s.share,
  round(sum(u.count) * s.share, 6) AS allocated
FROM usage_chosen u JOIN pool_shares s ON s.pool_id = u.target_id AND s.year = year(u.month)
WHERE u.target_kind = 'pool'
GROUP BY u.target_id, s.library_id, u.platform, u.release, u.metric_type, u.month,
  s.rule, s.rule_metric, s.basis, s.basis_total, s.share;

-- mart_library_month: usage per library. count is the usage attributed to
-- the library itself; pooled its allocated share of pools; total the two.
-- Grain: library × platform × release × metric_type × month.
CREATE OR REPLACE TABLE mart_library_month AS
WITH direct AS (
  SELECT target_id AS library_id, platform, release, metric_type, month, sum(count) AS count
  FROM usage_chosen WHERE target_kind = 'library' GROUP BY ALL
),
pooled AS (
  SELECT library_id, platform, release, metric_type, month, sum(allocated) AS pooled
  FROM mart_pool_allocation GROUP BY ALL
)
SELECT library_id, platform, release, metric_type, month,
  coalesce(d.count, 0)::BIGINT AS count,
  round(coalesce(p.pooled, 0), 6) AS pooled,
  round(coalesce(d.count, 0) + coalesce(p.pooled, 0), 6) AS total
FROM direct d FULL OUTER JOIN pooled p USING (library_id, platform, release, metric_type, month);

-- mart_county_month: usage per county of the month's own structure: the 11
-- counties of 2020–2023 for months before 2024, the 15 of 2024 after.
-- Libraries of no known municipality count under county ''.
-- Grain: county × platform × metric_type × month.
CREATE OR REPLACE TABLE mart_county_month AS
WITH lc AS (
  SELECT library_id, county_2023, county_2024, round(sum(weight), 9) AS weight FROM library_geo GROUP BY ALL
),
u AS (
  SELECT CASE WHEN m.month < DATE '2024-01-01' THEN lc.county_2023 ELSE lc.county_2024 END AS county,
         m.platform, m.metric_type, m.month, m.count * coalesce(lc.weight, 1) AS count,
         m.pooled * coalesce(lc.weight, 1) AS pooled
  FROM mart_library_month m LEFT JOIN lc USING (library_id)
)
SELECT coalesce(u.county, '') AS county, coalesce(any_value(c.name), 'unknown') AS county_name,
  u.platform, u.metric_type, u.month,
  round(sum(u.count), 6) AS count, round(sum(u.pooled), 6) AS pooled, round(sum(u.count + u.pooled), 6) AS total
FROM u LEFT JOIN counties c ON c.county = u.county AND u.month >= c.valid_from AND (c.valid_to IS NULL OR u.month < c.valid_to)
GROUP BY u.county, u.platform, u.metric_type, u.month;

-- mart_county_month_current: the same in today's (2024) structure for every
-- month, so trends run across the 2024 reform.
-- Grain: county (2024) × platform × metric_type × month.
CREATE OR REPLACE TABLE mart_county_month_current AS
WITH lc AS (
  SELECT library_id, county_2024, round(sum(weight), 9) AS weight FROM library_geo GROUP BY ALL
),
u AS (
  SELECT lc.county_2024 AS county, m.platform, m.metric_type, m.month,
         m.count * coalesce(lc.weight, 1) AS count, m.pooled * coalesce(lc.weight, 1) AS pooled
  FROM mart_library_month m LEFT JOIN lc USING (library_id)
)
SELECT coalesce(u.county, '') AS county, coalesce(any_value(c.name), 'unknown') AS county_name,
  u.platform, u.metric_type, u.month,
  round(sum(u.count), 6) AS count, round(sum(u.pooled), 6) AS pooled, round(sum(u.count + u.pooled), 6) AS total
FROM u LEFT JOIN counties c ON c.county = u.county AND c.valid_to IS NULL
GROUP BY u.county, u.platform, u.metric_type, u.month;

-- mart_national_month: all usage of the nation; total = attributed + pooled
-- + unattributed, whole numbers, nothing allocated.
-- Grain: platform × metric_type × month.
CREATE OR REPLACE TABLE mart_national_month AS
SELECT platform, metric_type, month,
  coalesce(sum(count) FILTER (WHERE target_kind = 'library'), 0)::BIGINT AS attributed,
  coalesce(sum(count) FILTER (WHERE target_kind = 'pool'), 0)::BIGINT AS pooled,
  coalesce(sum(count) FILTER (WHERE target_kind = 'unattributed'), 0)::BIGINT AS unattributed,
  sum(count)::BIGINT AS total
FROM usage_chosen GROUP BY ALL;

-- mart_unattributed: usage that no mapping, credential or ISIL resolved,
-- kept visible for the operator to map.
-- Grain: platform × month × institution_id × customer_id × release × report × metric_type.
CREATE OR REPLACE TABLE mart_unattributed AS
SELECT platform, month, institution_id, customer_id, release, report_id, metric_type, count
FROM usage_chosen WHERE target_kind = 'unattributed';

-- mart_per_1000: usage per 1,000 inhabitants, per county of the 2024
-- structure and for the nation (area 'NO', all usage including pooled and
-- unattributed), with the population used (that of the month's year).
-- Grain: area × platform × metric_type × month.
CREATE OR REPLACE TABLE mart_per_1000 AS
WITH cp AS (
  SELECT py.year, m.county, sum(py.population) AS population
  FROM population_by_year py JOIN municipalities m USING (municipality) GROUP BY ALL
),
np AS (SELECT year, sum(population) AS population FROM cp GROUP BY year)
SELECT 'county' AS level, c.county AS area, c.county_name AS area_name, c.platform, c.metric_type, c.month,
  c.total, cp.population::BIGINT AS population, round(c.total * 1000 / cp.population, 6) AS per_1000
FROM mart_county_month_current c JOIN cp ON cp.county = c.county AND cp.year = year(c.month)
UNION ALL
SELECT 'national', 'NO', 'Norge', n.platform, n.metric_type, n.month,
  n.total::DOUBLE, np.population::BIGINT, round(n.total * 1000 / np.population, 6)
FROM mart_national_month n JOIN np ON np.year = year(n.month);

-- mart_yoy: year over year, for libraries, counties (2024 structure) and
-- the nation: total against the same month a year earlier. change_pct is
-- NULL when the earlier month had no usage.
-- Grain: level × area × platform × metric_type × month.
CREATE OR REPLACE TABLE mart_yoy AS
WITH cur AS (
  SELECT 'library' AS level, library_id AS area, platform, metric_type, month, round(sum(total), 6) AS total
  FROM mart_library_month GROUP BY ALL
  UNION ALL
  SELECT 'county', county, platform, metric_type, month, total FROM mart_county_month_current
  UNION ALL
  SELECT 'national', 'NO', platform, metric_type, month, total::DOUBLE FROM mart_national_month
)
SELECT c.level, c.area, c.platform, c.metric_type, c.month, c.total, p.total AS total_prior_year,
  CASE WHEN p.total > 0 THEN round((c.total - p.total) * 100 / p.total, 6) END AS change_pct
FROM cur c LEFT JOIN cur p ON p.level = c.level AND p.area = c.area AND p.platform = c.platform
  AND p.metric_type = c.metric_type AND p.month = (c.month - INTERVAL 1 YEAR)::DATE;
