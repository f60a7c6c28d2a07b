// Package agreements is the registry of Bibliotek24's agreements and the
// arithmetic of what each agreement is worth.
//
// Vocabulary:
//
//   - Agreement: a contract with a vendor for one or more platforms over a
//     period of whole months, at a price in NOK with its VAT stated. Every
//     figure here uses the price including VAT, because that is what the
//     libraries pay; the price excluding VAT is shown beside it.
//   - Participant: a library (bibnr) or a county (fylkesnummer) taking part
//     from the month it joined to the month it left, both inclusive.
//   - Coverage: the libraries a participant stands for in a month. A library
//     covers itself. A county covers the libraries of the municipalities that
//     belonged to it in that month's structure (see CountyAt). A participant
//     is checked against the structure of every month it takes part in: a
//     2020–2023 county such as 38 Vestfold og Telemark takes no part after
//     2023 (its successors 39 and 40 do), a 2024 county such as 32 Akershus
//     none before 2024, and a library whose register municipality was given
//     up in 2024 none after 2023. A library that takes part on its own is
//     counted there and not again under its county: neither its uses nor
//     its inhabitants, for the months it takes part on its own.
//   - Use: what counts as one use of the agreement's platforms: the sum of
//     the agreement's use metrics (by default from its data type, see
//     DefaultMetrics), each library's own and its allocated share of
//     pooled usage (mart_library_month's count and pooled), stated apart.
//     A Unique_ metric is never added to a Total_ one: the file is refused.
//   - Inhabitants: read from the warehouse, never computed here: a
//     library's from library_population, a county's from population_by_year
//     over its municipalities, as the marts have them, for each month's
//     year. A year the warehouse has none for is not known, and so is every
//     figure built on it.
//   - Allocation model: how the cost is split among participants: flat
//     (equal per participant), population, usage, or base_population (a base
//     share of the cost split equally, the rest by population). The flat and
//     population models split each month's cost among the participants of
//     that month, which is how a library joining mid-year pays only its
//     months. The usage model splits the cost of the period by each
//     participant's uses in its own months.
//   - Proration: the cost of a month is the price divided by the number of
//     months in the agreement period; valuing part of the period costs only
//     its months.
//
// Money is exact: prices are parsed as decimals into big.Rat, every sum and
// share stays a fraction, and only the final figures are rounded: costs to
// whole øre (Money), the participants' shares by largest remainder so that
// they add up to the cost; figures per use and per inhabitant to øre from
// 1 NOK up and to two significant digits below (Quotient), so that
// 0,0038 NOK per inhabitant is not printed as 0,00. A figure that cannot be computed (no harvested data,
// no uses, no inhabitants) is reported as such, never as zero or infinity.
//
// The source of truth is the YAML file the consortium edits (Parse), each
// import of it kept byte-exact in the object store with its sha256, time and
// user (Archive, under bibstat.AgreementsPrefix). The warehouse's agreement
// tables, the history of changes included, are derived from those imports:
// Record stores and applies one, Restore replays every import a warehouse
// lacks (all of them after a rebuild), in order. Value computes the
// figures against a Source of usage and population, implemented over the
// DuckDB warehouse by Warehouse, which takes each library's county from the
// warehouse's library_county view, as the report and the portal do.
package agreements
