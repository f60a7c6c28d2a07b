-- The warehouse's views: names for rules several readers share, over the
-- tables marts.sql builds. They are created after every refresh of the
-- marts and when a warehouse is opened, so a warehouse whose marts were
-- built before a view existed has it too.

-- library_county: the one county (2024 structure) of each library: the
-- county of its heaviest library_geo row, so a library under old Ålesund
-- (1507, split by population share) is in the county of the larger share;
-- '' when its municipality is unknown. The report, the portal's access
-- check and the agreements take a library's county from here. The county
-- marts split such a library's usage by weight instead; they agree
-- while a split's successors share a county (1508 and 1580 are both 15).
-- Grain: library.
CREATE OR REPLACE VIEW library_county AS
SELECT library_id, coalesce(arg_max(county_2024, weight), '') AS county
FROM library_geo GROUP BY library_id;
