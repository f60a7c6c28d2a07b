package report

import (
	"strconv"
	"time"
)

// Lang is a report language: "nb" (Bokmål, the default), "nn" or "en".
type Lang string

// messages are the texts of one language.
type messages struct {
	Lang           string
	SiteTitle      string
	Libraries      string
	Library        string
	Municipality   string
	Population     string
	Platform       string
	Month          string
	Total          string
	TrendHeading   string
	TrendCaption   string
	Back           string
	SkipToContent  string
	Generated      string
	ChartNumbersIn string
	Months         [12]string
	Thousands      string
	Usage          string
	Downloads      string
	National       string
	NationalIntro  string
}

var catalog = map[Lang]messages{
	"nb": {Lang: "nb", SiteTitle: "BibStat – bruk av digitale tjenester", Libraries: "Bibliotek", Library: "Bibliotek",
		Municipality: "Kommune", Population: "Innbyggere", Platform: "Tjeneste", Month: "Måned", Total: "Sum",
		TrendHeading: "Utlån og visninger per måned", TrendCaption: "Total_Item_Requests per tjeneste og måned",
		Back: "Til oversikten", SkipToContent: "Hopp til innholdet", Generated: "Laget",
		ChartNumbersIn: "Tallene i diagrammet står i tabellen under.",
		Months:         [12]string{"jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."},
		Thousands:      "\u00a0", Usage: "Bruk", Downloads: "Last ned", National: "Hele landet",
		NationalIntro: "Bruk i alle bibliotek samlet."},
	"nn": {Lang: "nn", SiteTitle: "BibStat – bruk av digitale tenester", Libraries: "Bibliotek", Library: "Bibliotek",
		Municipality: "Kommune", Population: "Innbyggjarar", Platform: "Teneste", Month: "Månad", Total: "Sum",
		TrendHeading: "Utlån og visingar per månad", TrendCaption: "Total_Item_Requests per teneste og månad",
		Back: "Til oversikta", SkipToContent: "Hopp til innhaldet", Generated: "Laga",
		ChartNumbersIn: "Tala i diagrammet står i tabellen under.",
		Months:         [12]string{"jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."},
		Thousands:      "\u00a0", Usage: "Bruk", Downloads: "Last ned", National: "Heile landet",
		NationalIntro: "Bruk i alle bibliotek samla."},
	"en": {Lang: "en", SiteTitle: "BibStat – use of digital services", Libraries: "Libraries", Library: "Library",
		Municipality: "Municipality", Population: "Inhabitants", Platform: "Service", Month: "Month", Total: "Total",
		TrendHeading: "Requests per month", TrendCaption: "Total_Item_Requests per service and month",
		Back: "Back to the overview", SkipToContent: "Skip to content", Generated: "Generated",
		ChartNumbersIn: "The chart's numbers are in the table below.",
		Months:         [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		Thousands:      ",", Usage: "Usage", Downloads: "Download", National: "All of Norway",
		NationalIntro: "Usage in all libraries together."},
}

// formatInt writes n with the language's thousands separator: "1 234 567".
func (m messages) formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, m.Thousands...)
		}
		out = append(out, s[i])
	}
	if neg {
		return "−" + string(out)
	}
	return string(out)
}

// formatMonth writes a month as "jan. 2025".
func (m messages) formatMonth(t time.Time) string {
	return m.Months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}
