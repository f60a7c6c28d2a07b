package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Lang is a report language: "nb" (Bokmål, the default), "nn" or "en".
type Lang string

// messages are the texts of one language.
type messages struct {
	Lang, SiteTitle, Libraries, Library, Municipality, Population, Platform, Month, Total      string
	TrendHeading, TrendCaption, Back, SkipToContent, Generated, ChartNumbersIn                 string
	Usage, Downloads, National, NationalIntro, Counties, County, CountyIntro                   string
	BreakdownHeading, BreakdownCaption, YoYHeading, YoYPrior, YoYChange, NoData                string
	PerInhabitantHeading, PerThousand, TopTitles, Title, Uses                                  string
	CompareHeading, CompareCaption, Agreements, Agreement, Cost, CostPerUse                    string
	CostPerInhabitant, Participation, Participant, Allocated, OwnUses, OwnCostPerUse, Formulas string
	Period, SharesHeading, SharesCaption, NoAgreements, NoUses, NoInhabitants                  string
	Months                                                                                     [12]string
	Thousands, Decimal                                                                         string
}

var nb = messages{Lang: "nb", SiteTitle: "BibStat – bruk av digitale tjenester", Libraries: "Bibliotek", Library: "Bibliotek",
	Municipality: "Kommune", Population: "Innbyggere", Platform: "Tjeneste", Month: "Måned", Total: "Sum",
	TrendHeading: "Bruk per måned", TrendCaption: "Total_Item_Requests per tjeneste og måned",
	Back: "Til oversikten", SkipToContent: "Hopp til innholdet", Generated: "Laget",
	ChartNumbersIn: "Tallene i diagrammet står i tabellen under.",
	Usage:          "Bruk", Downloads: "Last ned", National: "Hele landet", NationalIntro: "Bruk i alle bibliotek samlet.",
	Counties: "Fylker", County: "Fylke", CountyIntro: "Fylkets bibliotek, i fylkesinndelingen fra 2024 for alle måneder, også før reformen.",
	BreakdownHeading: "Bruk per tjeneste", BreakdownCaption: "Bruk per tjeneste og måltall",
	YoYHeading: "Endring fra året før", YoYPrior: "Samme måneder året før", YoYChange: "Endring", NoData: "ingen data",
	PerInhabitantHeading: "Bruk per 1 000 innbyggere", PerThousand: "Total_Item_Requests per 1 000 innbyggere",
	TopTitles: "Mest brukte titler", Title: "Tittel", Uses: "Bruk",
	CompareHeading: "Bibliotekene sammenlignet", CompareCaption: "Total_Item_Requests per bibliotek",
	Agreements: "Avtaler", Agreement: "Avtale", Cost: "Kostnad", CostPerUse: "Kostnad per bruk",
	CostPerInhabitant: "Kostnad per innbygger", Participation: "Deltakelse", Participant: "Deltaker",
	Allocated: "Fordelt kostnad", OwnUses: "Egen bruk", OwnCostPerUse: "Egen kostnad per bruk", Formulas: "Slik er tallene regnet ut",
	Period: "Periode", SharesHeading: "Deltakernes andel av kostnaden", SharesCaption: "Fordelt kostnad per deltaker (NOK)",
	NoAgreements: "Ingen avtaler er importert.", NoUses: "ingen bruk", NoInhabitants: "ingen innbyggere",
	Months:    [12]string{"jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."},
	Thousands: "\u00a0", Decimal: ","}

var catalog = map[Lang]messages{
	"nb": nb,
	"nn": with(nb, func(m *messages) {
		m.Lang, m.SiteTitle, m.Population, m.Platform, m.Month = "nn", "BibStat – bruk av digitale tenester", "Innbyggjarar", "Teneste", "Månad"
		m.TrendHeading, m.TrendCaption, m.Back, m.SkipToContent, m.Generated = "Bruk per månad", "Total_Item_Requests per teneste og månad", "Til oversikta", "Hopp til innhaldet", "Laga"
		m.ChartNumbersIn, m.National, m.NationalIntro = "Tala i diagrammet står i tabellen under.", "Heile landet", "Bruk i alle bibliotek samla."
		m.CountyIntro = "Biblioteka i fylket, i fylkesinndelinga frå 2024 for alle månader, også før reforma."
		m.BreakdownHeading, m.BreakdownCaption = "Bruk per teneste", "Bruk per teneste og måltal"
		m.YoYHeading, m.YoYPrior, m.NoData = "Endring frå året før", "Same månader året før", "ingen data"
		m.PerInhabitantHeading, m.PerThousand = "Bruk per 1 000 innbyggjarar", "Total_Item_Requests per 1 000 innbyggjarar"
		m.TopTitles, m.CompareHeading, m.CompareCaption = "Mest brukte titlar", "Biblioteka samanlikna", "Total_Item_Requests per bibliotek"
		m.Agreements, m.Cost, m.CostPerUse, m.CostPerInhabitant = "Avtalar", "Kostnad", "Kostnad per bruk", "Kostnad per innbyggjar"
		m.Participation, m.Participant, m.Allocated, m.Formulas = "Deltaking", "Deltakar", "Fordelt kostnad", "Slik er tala rekna ut"
		m.SharesHeading, m.SharesCaption, m.NoAgreements = "Delen deltakarane betaler", "Fordelt kostnad per deltakar (NOK)", "Ingen avtalar er importerte."
		m.NoInhabitants = "ingen innbyggjarar"
	}),
	"en": {Lang: "en", SiteTitle: "BibStat – use of digital services", Libraries: "Libraries", Library: "Library",
		Municipality: "Municipality", Population: "Inhabitants", Platform: "Service", Month: "Month", Total: "Total",
		TrendHeading: "Use per month", TrendCaption: "Total_Item_Requests per service and month",
		Back: "Back to the overview", SkipToContent: "Skip to content", Generated: "Generated",
		ChartNumbersIn: "The chart's numbers are in the table below.",
		Usage:          "Usage", Downloads: "Download", National: "All of Norway", NationalIntro: "Usage in all libraries together.",
		Counties: "Counties", County: "County", CountyIntro: "The county's libraries, in the 2024 county structure for every month, also before the reform.",
		BreakdownHeading: "Use per service", BreakdownCaption: "Use per service and metric",
		YoYHeading: "Change from the year before", YoYPrior: "Same months a year earlier", YoYChange: "Change", NoData: "no data",
		PerInhabitantHeading: "Use per 1,000 inhabitants", PerThousand: "Total_Item_Requests per 1,000 inhabitants",
		TopTitles: "Most used titles", Title: "Title", Uses: "Uses",
		CompareHeading: "The libraries compared", CompareCaption: "Total_Item_Requests per library",
		Agreements: "Agreements", Agreement: "Agreement", Cost: "Cost", CostPerUse: "Cost per use",
		CostPerInhabitant: "Cost per inhabitant", Participation: "Participation", Participant: "Participant",
		Allocated: "Allocated cost", OwnUses: "Own uses", OwnCostPerUse: "Own cost per use", Formulas: "How the figures are computed",
		Period: "Period", SharesHeading: "Each participant's share of the cost", SharesCaption: "Allocated cost per participant (NOK)",
		NoAgreements: "No agreements have been imported.", NoUses: "no uses", NoInhabitants: "no inhabitants",
		Months:    [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		Thousands: ",", Decimal: "."},
}

func with(m messages, change func(*messages)) messages {
	change(&m)
	return m
}

// formatInt writes n with the language's thousands separator: "1 234 567".
func (m messages) formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteString(m.Thousands)
		}
		out.WriteByte(s[i])
	}
	if neg {
		return "−" + out.String()
	}
	return out.String()
}

// formatNumber writes a mart figure, which may hold a pooled fraction, as a whole number.
func (m messages) formatNumber(v float64) string { return m.formatInt(int64(math.Round(v))) }

// formatDecimal writes v with one decimal: "1 234,5".
func (m messages) formatDecimal(v float64) string {
	tenths := int64(math.Round(v * 10))
	sign := ""
	if tenths < 0 {
		sign, tenths = "−", -tenths
	}
	return sign + m.formatInt(tenths/10) + m.Decimal + strconv.FormatInt(tenths%10, 10)
}

// formatPercent writes a change in percent with its sign: "+12,3 %".
func (m messages) formatPercent(v float64) string {
	s := m.formatDecimal(v)
	if v >= 0 {
		s = "+" + s
	}
	return s + "\u00a0%"
}

// formatMonth writes a month as "jan. 2025".
func (m messages) formatMonth(t time.Time) string {
	return m.Months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}
