-- The BibStat warehouse. The facts columns are filled in from schemas.FactsColumns().

-- meta records the warehouse's schema version; a binary that meets another
-- version rebuilds from the raw archive instead of reading it.
CREATE TABLE IF NOT EXISTS meta (
  key   VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);

-- facts: one row per usage row of the newest loadable harvest of each unit.
-- Grain: unit × item × attributes × metric × month.
CREATE TABLE IF NOT EXISTS facts (
  {{FACTS_COLUMNS}}
);

-- loaded_units: which raw object each unit's facts came from; a newer
-- loadable harvest of the unit replaces them (supersession).
CREATE TABLE IF NOT EXISTS loaded_units (
  unit_key   VARCHAR PRIMARY KEY,
  raw_key    VARCHAR NOT NULL,
  parsed_key VARCHAR NOT NULL,
  library_id VARCHAR NOT NULL,
  platform   VARCHAR NOT NULL,
  report_id  VARCHAR NOT NULL,
  month      DATE NOT NULL,
  state      VARCHAR NOT NULL,
  rows       BIGINT NOT NULL
);

-- libraries: the library register (dimension).
CREATE TABLE IF NOT EXISTS libraries (
  library_id   VARCHAR PRIMARY KEY,
  isil         VARCHAR NOT NULL,
  name         VARCHAR NOT NULL,
  municipality VARCHAR NOT NULL, -- never derived from library_id
  population   BIGINT
);

-- mart_library_month: usage per library, platform, metric and month.
-- Grain: library × platform × metric_type × month. Metrics are never summed
-- across each other; R4 and R5 stay apart by release.
CREATE OR REPLACE VIEW mart_library_month AS
SELECT library_id, platform, release, metric_type, month, sum(count) AS count
FROM facts
GROUP BY library_id, platform, release, metric_type, month;

-- municipalities: the 2024 structure with population (dimension, from the
-- embedded reference data).
CREATE TABLE IF NOT EXISTS municipalities (
  municipality VARCHAR PRIMARY KEY,
  name         VARCHAR NOT NULL,
  county       VARCHAR NOT NULL,
  county_name  VARCHAR NOT NULL,
  population   BIGINT NOT NULL
);
