-- The BibStat warehouse: the tables that hold state. The column lists in
-- {{…}} are filled in from schemas (FactsColumns and the others), so they
-- follow the Usage schema. The marts are (re)built by marts.sql.

-- meta records the warehouse's schema version; a binary that meets another
-- version rebuilds from the raw archive instead of reading it.
CREATE TABLE IF NOT EXISTS meta (
  key   VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);

-- facts (the view below): one row per usage row of the newest loadable
-- harvest of each source. Grain: source × item × attributes × metric ×
-- month. library_id is the harvest credential's library, or the library an
-- upload's unit names. Load stores a row narrow, in narrow.facts_rows: its
-- source's number (units), its head's (heads: the library and what the
-- report's header says) and its item's (items: title, identifiers, parent,
-- yop, access type and method, …), and the columns of its own. Storing 37
-- text columns a row was most of a rebuild's time.
-- The narrow tables are in their own schema, narrow: their numbers depend
-- on the order units were loaded in, so a rebuilt warehouse numbers them
-- otherwise and may lack stale heads and items an updated one keeps; what
-- the two must agree on is the view facts, in main.
CREATE SCHEMA IF NOT EXISTS narrow;

CREATE TABLE IF NOT EXISTS narrow.facts_rows (
  unit_no INTEGER NOT NULL,
  head_id INTEGER NOT NULL,
  item_id BIGINT NOT NULL,
  {{ROW_COLUMNS}}
);

-- units: a number for each source (unit_key) that ever had facts, given
-- once and kept, so a restatement deletes its old rows by number.
CREATE TABLE IF NOT EXISTS narrow.units (
  unit_no  INTEGER NOT NULL,
  unit_key VARCHAR PRIMARY KEY
);

-- heads and items: each distinct head and item once, numbered as first
-- met. Two rows have the same head (item) exactly when all its columns
-- are equal, a NULL equal to a NULL only (IS NOT DISTINCT FROM), so the
-- facts view gives back every row as it was loaded. Neither is ever
-- deleted, not even when a restatement removes the last row naming one:
-- a stale head or item counts nothing, the counts live in facts_rows only.
-- head_hash and item_hash are DuckDB's hash() of the columns: the load
-- finds a row's number by a join on them, once it has checked that no two
-- different heads (items) of the chunk or stored share one, and by a join
-- on every column otherwise (transform/narrow.go). No index: one would
-- cost more to keep than it saves.
CREATE TABLE IF NOT EXISTS narrow.heads (
  head_id INTEGER NOT NULL,
  head_hash UBIGINT NOT NULL,
  {{HEAD_COLUMNS}}
);

CREATE TABLE IF NOT EXISTS narrow.items (
  item_id BIGINT NOT NULL,
  item_hash UBIGINT NOT NULL,
  {{ITEM_COLUMNS}}
);

-- facts_loose: facts rows written straight in SQL, not by Load (tests, a
-- bench's synthetic warehouse); the facts view gives them too, and Load
-- deletes a source's rows here as well when it restates it.
CREATE TABLE IF NOT EXISTS facts_loose (
  {{FACTS_COLUMNS}}
);

CREATE OR REPLACE VIEW facts AS
SELECT {{FACTS_VIEW_SELECT}}
FROM narrow.facts_rows f
  JOIN narrow.units u ON u.unit_no = f.unit_no
  JOIN narrow.heads h ON h.head_id = f.head_id
  JOIN narrow.items i ON i.item_id = f.item_id
UNION ALL
SELECT * FROM facts_loose;

-- narrow.facts_heads: the facts without their items' columns, for the
-- readers that never look at an item (agg_usage sums every row of a
-- rebuild), so that they do not join the items.
CREATE OR REPLACE VIEW narrow.facts_heads AS
SELECT u.unit_key, h.* EXCLUDE (head_id, head_hash), f.* EXCLUDE (unit_no, head_id, item_id)
FROM narrow.facts_rows f
  JOIN narrow.units u ON u.unit_no = f.unit_no
  JOIN narrow.heads h ON h.head_id = f.head_id
UNION ALL BY NAME
SELECT {{HEADS_VIEW_COLUMNS}}
FROM facts_loose;

-- loaded_units: the sources and the raw object each one's facts came from.
-- A source (unit_key) is one unit's folder in the archive, and for uploads
-- one COUNTER release of it: a newer loadable harvest of the same source
-- replaces its facts (supersession, a restatement), while an upload's two
-- releases are two sources and the rule of choice (marts.sql,
-- source_choice) picks one.
-- source is 'sushi' or 'upload/VENDOR'; harvested_at is when the loaded
-- object's bytes (its sha256) first arrived, so a byte-identical copy
-- archived later is never "the newest".
CREATE TABLE IF NOT EXISTS loaded_units (
  unit_key     VARCHAR PRIMARY KEY,
  raw_key      VARCHAR NOT NULL,
  parsed_key   VARCHAR NOT NULL,
  library_id   VARCHAR NOT NULL,
  platform     VARCHAR NOT NULL,
  report_id    VARCHAR NOT NULL,
  month        DATE NOT NULL,
  state        VARCHAR NOT NULL,
  rows         BIGINT NOT NULL,
  release      VARCHAR NOT NULL,
  source       VARCHAR NOT NULL,
  harvested_at TIMESTAMP NOT NULL
);

-- agg_usage: facts summed over items and the attributes other than
-- data_type, kept up to date per month by Load, so that marts never
-- rescan the facts. data_type is '' only when the vendor gave none.
-- Grain: month × platform × release × report × metric × data_type ×
-- credential library × institution_id × customer_id × source (unit_key).
CREATE TABLE IF NOT EXISTS agg_usage (
  month          DATE NOT NULL,
  platform       VARCHAR NOT NULL,
  release        VARCHAR NOT NULL,
  report_id      VARCHAR NOT NULL,
  metric_type    VARCHAR NOT NULL,
  data_type      VARCHAR NOT NULL,
  library_id     VARCHAR NOT NULL,
  institution_id VARCHAR NOT NULL,
  customer_id    VARCHAR NOT NULL,
  unit_key       VARCHAR NOT NULL,
  count          BIGINT NOT NULL
);

-- stale_sources: sources whose loaded object is byte for byte (sha256) an
-- object its own source has since superseded: a copy of what the vendor no
-- longer says. The rule of choice sets them aside. Load rewrites it whole.
CREATE TABLE IF NOT EXISTS stale_sources (
  unit_key VARCHAR PRIMARY KEY,
  reason   VARCHAR NOT NULL
);

-- source_preference: the source the platform's config prefers
-- (platforms[].prefer_source: 'sushi', 'upload' or 'upload/VENDOR'), the
-- second step of the rule of choice. Written by Refresh from the options
-- the warehouse was opened with.
CREATE TABLE IF NOT EXISTS source_preference (
  platform VARCHAR PRIMARY KEY,
  source   VARCHAR NOT NULL
);

-- count_source: the class of source whose usage counts on a platform
-- (platforms[].count_source: 'counter', the vendor's COUNTER reports, or
-- 'access-log', the consortium's own logins), the first step of the rule
-- of choice; a platform not named counts 'counter'. Written by Refresh from
-- the options the warehouse was opened with.
CREATE TABLE IF NOT EXISTS count_source (
  platform VARCHAR PRIMARY KEY,
  source   VARCHAR NOT NULL CHECK (source IN ('counter', 'access-log'))
);

-- libraries: the library register (dimension). municipality is the kommnr
-- as registered (2024 code, or a 2020–2023 code mapped through
-- municipality_successors): never derived from library_id.
CREATE TABLE IF NOT EXISTS libraries (
  library_id   VARCHAR PRIMARY KEY, -- bibnr, 7 digits
  isil         VARCHAR NOT NULL,    -- NO-<bibnr>
  name         VARCHAR NOT NULL,
  type         VARCHAR NOT NULL,    -- BaseBibliotek bibltype: FBI, FIL, FYB, VGS, …
  municipality VARCHAR NOT NULL,
  parent_id    VARCHAR NOT NULL,    -- overordnet: the main library of a branch, '' if none
  closed       BOOLEAN NOT NULL,    -- stengt
  population   BIGINT               -- inhabitants served, when not the municipality's
);

-- institution_map: how a vendor's Institution_ID or Customer_ID resolves to
-- a library or a usage pool. platform '*' matches every platform; a
-- platform's own row wins over '*', and institution_id over customer_id.
CREATE TABLE IF NOT EXISTS institution_map (
  platform   VARCHAR NOT NULL,
  id_kind    VARCHAR NOT NULL CHECK (id_kind IN ('institution_id', 'customer_id')),
  id_value   VARCHAR NOT NULL,
  library_id VARCHAR,
  pool_id    VARCHAR,
  CHECK ((library_id IS NULL) <> (pool_id IS NULL)),
  PRIMARY KEY (platform, id_kind, id_value)
);

-- pools: usage that belongs to many libraries (shared IP ranges, national
-- licences) and the rule that allocates it: 'population' (default),
-- 'equal', 'metric' (share of the members' own usage of metric_type) or
-- 'logins' (share of the members' login-measured usage of metric_type).
CREATE TABLE IF NOT EXISTS pools (
  pool_id     VARCHAR PRIMARY KEY,
  name        VARCHAR NOT NULL,
  rule        VARCHAR NOT NULL CHECK (rule IN ('population', 'equal', 'metric', 'logins')),
  metric_type VARCHAR NOT NULL -- for rules 'metric' and 'logins'; '' otherwise
);

CREATE TABLE IF NOT EXISTS pool_members (
  pool_id    VARCHAR NOT NULL,
  library_id VARCHAR NOT NULL,
  PRIMARY KEY (pool_id, library_id)
);

-- municipalities: the 2024 structure with population (dimension, from the
-- embedded reference data).
CREATE TABLE IF NOT EXISTS municipalities (
  municipality VARCHAR PRIMARY KEY,
  name         VARCHAR NOT NULL,
  county       VARCHAR NOT NULL,
  county_name  VARCHAR NOT NULL,
  population   BIGINT NOT NULL
);

-- municipality_successors: every municipality of the 2020–2023 structure
-- and its 2024 successor(s). share is the part of the old municipality that
-- each successor takes; rule says how it was set. Only the Ålesund split
-- (1507 → 1508 Ålesund + 1580 Haram) has a share below 1: the successors'
-- population share.
CREATE TABLE IF NOT EXISTS municipality_successors (
  municipality_2023 VARCHAR NOT NULL,
  name_2023         VARCHAR NOT NULL,
  county_2023       VARCHAR NOT NULL,
  county_name_2023  VARCHAR NOT NULL,
  municipality_2024 VARCHAR NOT NULL,
  change            VARCHAR NOT NULL,
  share             DOUBLE NOT NULL,
  rule              VARCHAR NOT NULL,
  PRIMARY KEY (municipality_2023, municipality_2024)
);

-- counties: both structures, time-versioned. valid_to is exclusive.
CREATE TABLE IF NOT EXISTS counties (
  county     VARCHAR NOT NULL,
  name       VARCHAR NOT NULL,
  valid_from DATE NOT NULL,
  valid_to   DATE, -- NULL: still valid
  PRIMARY KEY (county, valid_from)
);

-- population: inhabitants per municipality (2024 structure) per year.
CREATE TABLE IF NOT EXISTS population (
  municipality VARCHAR NOT NULL,
  year         INTEGER NOT NULL,
  population   BIGINT NOT NULL,
  source       VARCHAR NOT NULL,
  PRIMARY KEY (municipality, year)
);

-- release_rank orders COUNTER releases: the best release of a platform and
-- month is the only one counted, so R4 and R5 are never summed.
CREATE OR REPLACE MACRO release_rank(r) AS
  CASE WHEN r LIKE '5.1%' THEN 3 WHEN r LIKE '5%' THEN 2 WHEN r LIKE '4%' THEN 1 ELSE 0 END;

-- report_rank orders reports that can carry the same metric: the platform
-- report holds the whole platform, the database and title reports subsets
-- of it, so a metric is taken from the best-ranked report only.
CREATE OR REPLACE MACRO report_rank(r) AS
  CASE WHEN upper(r) LIKE 'PR%' THEN 1 WHEN upper(r) LIKE 'DR%' OR upper(r) LIKE 'DB%' THEN 2
       WHEN upper(r) LIKE 'TR%' OR upper(r) LIKE 'JR%' OR upper(r) LIKE 'BR%' THEN 3
       WHEN upper(r) LIKE 'IR%' THEN 4 ELSE 5 END;

-- dirty_months: months whose facts changed since agg_usage was last summed,
-- every platform of them; Refresh empties it.
CREATE TABLE IF NOT EXISTS dirty_months (
  month DATE PRIMARY KEY
);

-- dirty_units: sources (unit_key) whose facts changed since agg_usage was
-- last summed. Load adds to it in the same transaction as the facts;
-- Refresh sums their facts again and, from their (month, platform) before
-- and after, redoes only those months' titles of those platforms, so a
-- restatement of one platform's month never re-sums the other platforms.
-- No key: a unit loaded twice before a refresh is named twice, harmlessly
-- (Refresh reads it as a set), and an index would cost more to keep and
-- to empty than the table's few rows.
CREATE TABLE IF NOT EXISTS dirty_units (
  unit_key VARCHAR NOT NULL
);
