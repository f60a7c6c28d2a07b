package report

import "github.com/bibliotek24/bibstat/counter"

// messages are the words of one language: every text a page, a chart or a
// download shows comes from here, so that a page never mixes languages.
// Texts with %s or %d are fmt formats; their arguments are already
// formatted for the language.
type messages struct {
	Lang, SiteTitle, SkipToContent, Generated, Back, Nav, FooterNav                                          string
	National, NationalIntro, Counties, County, CountyIntro, UnknownCounty                                    string
	Libraries, Library, LibraryNumber, LibraryIntro, Municipality, Inhabitants, Pupils                       string
	Platform, Month, Year, Total, NoData, NoUsage, IndexNoData                                               string
	ChartNumbersIn, AxisMonth, AxisCount, TrendHeading, TrendCaption                                         string
	PlatformsHeading, PlatformsCaption, PlatformsAllCaption                                                  string
	YoYHeading, YoYCaption, YoYPrior, YoYChange                                                              string
	PerCapitaHeading, PerCapitaIntro, PerCapitaCaption, PerCapitaCaptionInhabitants, PerCapitaLibrary        string
	UseBy, UsePublic, UseSchools, InhabitantsServed, PupilsServed, PerThousandInhabitants, PerThousandPupils string
	TopTitles, TopCaption, Title, Uses, WhatMeans                                                            string
	CompareHeading, CompareCaption, CompareUse, ComparePer, CompareChange, SortHint, SortBy                  string
	PerThousandOf                                                                                            string
	Downloads, DownloadCSV, DownloadCSVMachine, DownloadXLSX, DownloadTSV, DownloadParquet                   string
	ColLibraryNumber, ColLibrary, ColRelease, ColMetric, ColCount, ColPooled, ColTotal                       string
	Unattributed                                                                                             string
	CoverageHeading, CoverageCovered, CoverageMissing, CoverageLast, CoverageUnknown                         string
	CoverageNone, MonthOne, MonthMany                                                                        string
	Agreements, Agreement, Vendor, Services, Period, Model, Cost, CostPerUse                                 string
	CostPerInhabitant, Participation, ParticipationText, Participant, MonthsTaking, Allocated                string
	OwnUses, OwnCostPerUse, UsesCounted, Formulas, FormulaCost, FormulaCostPerUse                            string
	FormulaCostPerInhabitant, FormulaUses, FormulaAllocated                                                  string
	SharesHeading, SharesCaption, AxisNOK, AxisNOKPerUse                                                     string
	CostByMonthHeading, CostByMonthCaption, CostByYearHeading, CostByYearCaption                             string
	RenewalHeading, RenewalCaption, NoEarlier, NoAgreements, NoUses, NoInhabitants                           string
	DownloadFigures, Glossary, GlossaryIntro, GlossaryCOUNTER, Accessibility                                 string
	PercentSign, MoneyPattern, TimePattern, ClockSeparator, Thousands, Decimal                               string
	Months                                                                                                   [12]string
	AccessibilityText                                                                                        []string
	Models                                                                                                   map[string]string    // allocation model → words
	Reasons                                                                                                  map[string]string    // harvest state → why a month is missing
	Metrics                                                                                                  map[string][2]string // COUNTER Metric_Type → label, plain explanation
	Comparison                                                                                               comparisonWords      // the vendor's figures against the logins (comparison.go)
}

// glossaryMetrics are the metrics the glossary explains, in its order.
var glossaryMetrics = []string{counter.TotalItemRequests, counter.UniqueItemRequests, counter.UniqueTitleRequests,
	counter.TotalItemInvestigations, counter.UniqueItemInvestigations, counter.UniqueTitleInvestigations,
	counter.SearchesPlatform, counter.SearchesRegular, counter.SearchesAutomated, counter.SearchesFederated,
	counter.NoLicense, counter.LimitExceeded}

var catalog = map[Lang]messages{"nb": nb, "nn": nn, "en": en}

// metric is a metric's label; a metric the catalogue does not know (an R4
// one) keeps its own name rather than disappearing.
func (m messages) metric(mt string) string {
	if t, ok := m.Metrics[mt]; ok {
		return t[0]
	}
	return mt
}

// months writes "1 måned" or "12 måneder".
func (m messages) months(n int) string {
	if n == 1 {
		return "1 " + m.MonthOne
	}
	return m.formatInt(int64(n)) + " " + m.MonthMany
}
