package server

import "github.com/bibliotek24/bibstat/report"

// exploreWords are the explorer's and the agreements page's own words, per
// language; every word the site also uses (months, metrics, columns,
// downloads, agreements' figures) comes from report's catalogue instead.
type exploreWords struct {
	Title, Intro, Choose, From, To, PlatformsAll, Whose, WholeCountry, CountyOf, Show                  string
	ShareLink, ChartHeading, TableCaption, PeriodTotal, NoUsage, Home, YourAgreements, AgreementsIntro string
	OwnShare, AgreementTotal, NotParticipating, NoAgreementsYours, ExploreLink, Refused, BadRequest    string
	ErrLang, ErrMonth, ErrPeriod, ErrPlatform, ErrMetric, ErrLibrary, ErrCounty, ErrForbidden          string
	ErrFormat, ErrTooMany, ErrNoData, LogOut, Language, Lines, ByEntity, ByPlatform, ErrBy, ErrByOne   string
	CompareTitle, CompareIntro, CompareNone, CompareSection, CompareBack, CompareLink                  string // explore_compare.go
}

var exploreCatalog = map[report.Lang]exploreWords{
	"nb": {Title: "Utforsk bruken", Intro: "Velg periode, tjenester, type bruk og bibliotek. Adressen til siden holder valget, så du kan dele lenken.",
		Choose: "Velg", From: "Fra", To: "Til", PlatformsAll: "Ingen valgt betyr alle tjenestene.", Whose: "Bibliotek og områder",
		WholeCountry: "Hele landet (alle bibliotek)", CountyOf: "%s (hele fylket)", Show: "Vis",
		ShareLink: "Lenke til dette utvalget", ChartHeading: "%s per måned", TableCaption: "%s per måned, %s–%s",
		PeriodTotal: "Sum for perioden", NoUsage: "Det finnes ingen bruksdata for dette utvalget.", Home: "Din statistikk",
		YourAgreements: "Avtalene dine", AgreementsIntro: "Avtalene bibliotekene dine deltar i: avtalens samlede tall, og bibliotekets egen andel av kostnaden og egen kostnad per bruk.",
		OwnShare: "Egen andel", AgreementTotal: "Hele avtalen", NotParticipating: "deltar ikke",
		NoAgreementsYours: "Bibliotekene dine deltar ikke i noen avtale som er importert.", ExploreLink: "Utforsk bruken",
		Refused: "Ingen tilgang", BadRequest: "Ugyldig valg",
		ErrLang: "Ukjent språk %q: velg nb, nn eller en.", ErrMonth: "Ugyldig måned %q: skriv ÅÅÅÅ-MM, for eksempel 2025-01.",
		ErrPeriod: "Perioden slutter før den begynner.", ErrPlatform: "Ukjent tjeneste %q.", ErrMetric: "Ukjent type bruk %q.",
		ErrLibrary: "Ukjent bibliotek %q.", ErrCounty: "Ukjent fylke %q.", ErrForbidden: "Du har ikke tilgang til %s.",
		ErrFormat: "Ukjent format %q: velg csv, csv-machine eller xlsx.", ErrTooMany: "Velg høyst %d bibliotek og områder om gangen.",
		ErrNoData: "Det finnes ingen bruksdata ennå.", LogOut: "Logg ut", Language: "Språk",
		Lines: "Linjer i diagrammet", ByEntity: "Én for hvert bibliotek eller område", ByPlatform: "Én for hver tjeneste",
		ErrBy: "Ukjent valg av linjer %q.", ErrByOne: "Velg ett bibliotek eller område for å se hver tjeneste for seg.",
		CompareTitle: "Leverandørens tall mot innloggingene",
		CompareIntro: "Velg periode, tjenester, type bruk og bibliotek for å se leverandørens tall ved siden av tallene målt fra innloggingene gjennom Bibliotek24.",
		CompareNone:  "Ingen tjenester har tall både fra leverandøren og fra innloggingene ennå.", CompareSection: "%s: %s",
		CompareBack: "Tilbake til bruken per måned", CompareLink: "Sammenlign leverandørens tall med innloggingene"},
	"nn": {Title: "Utforsk bruken", Intro: "Vel periode, tenester, type bruk og bibliotek. Adressa til sida held på valet, så du kan dele lenkja.",
		Choose: "Vel", From: "Frå", To: "Til", PlatformsAll: "Ingen vald tyder alle tenestene.", Whose: "Bibliotek og område",
		WholeCountry: "Heile landet (alle bibliotek)", CountyOf: "%s (heile fylket)", Show: "Vis",
		ShareLink: "Lenkje til dette utvalet", ChartHeading: "%s per månad", TableCaption: "%s per månad, %s–%s",
		PeriodTotal: "Sum for perioden", NoUsage: "Det finst ingen bruksdata for dette utvalet.", Home: "Statistikken din",
		YourAgreements: "Avtalane dine", AgreementsIntro: "Avtalane biblioteka dine er med i: dei samla tala for avtalen, og den eigne delen biblioteket har av kostnaden og eigen kostnad per bruk.",
		OwnShare: "Eigen del", AgreementTotal: "Heile avtalen", NotParticipating: "er ikkje med",
		NoAgreementsYours: "Biblioteka dine er ikkje med i nokon avtale som er importert.", ExploreLink: "Utforsk bruken",
		Refused: "Inga tilgang", BadRequest: "Ugyldig val",
		ErrLang: "Ukjent språk %q: vel nb, nn eller en.", ErrMonth: "Ugyldig månad %q: skriv ÅÅÅÅ-MM, til dømes 2025-01.",
		ErrPeriod: "Perioden sluttar før han byrjar.", ErrPlatform: "Ukjend teneste %q.", ErrMetric: "Ukjend type bruk %q.",
		ErrLibrary: "Ukjent bibliotek %q.", ErrCounty: "Ukjent fylke %q.", ErrForbidden: "Du har ikkje tilgang til %s.",
		ErrFormat: "Ukjent format %q: vel csv, csv-machine eller xlsx.", ErrTooMany: "Vel høgst %d bibliotek og område om gongen.",
		ErrNoData: "Det finst ingen bruksdata enno.", LogOut: "Logg ut", Language: "Språk",
		Lines: "Linjer i diagrammet", ByEntity: "Éi for kvart bibliotek eller område", ByPlatform: "Éi for kvar teneste",
		ErrBy: "Ukjent val av linjer %q.", ErrByOne: "Vel eitt bibliotek eller område for å sjå kvar teneste for seg.",
		CompareTitle: "Talet frå leverandøren mot innloggingane",
		CompareIntro: "Vel periode, tenester, type bruk og bibliotek for å sjå talet frå leverandøren ved sida av tala målte frå innloggingane gjennom Bibliotek24.",
		CompareNone:  "Ingen tenester har tal både frå leverandøren og frå innloggingane enno.", CompareSection: "%s: %s",
		CompareBack: "Tilbake til bruken per månad", CompareLink: "Samanlikn talet frå leverandøren med innloggingane"},
	"en": {Title: "Explore usage", Intro: "Choose a period, services, a kind of use and libraries. The page's address holds your choice, so the link can be shared.",
		Choose: "Choose", From: "From", To: "To", PlatformsAll: "None chosen means every service.", Whose: "Libraries and areas",
		WholeCountry: "The whole country (every library)", CountyOf: "%s (the whole county)", Show: "Show",
		ShareLink: "Link to this choice", ChartHeading: "%s by month", TableCaption: "%s by month, %s–%s",
		PeriodTotal: "Total for the period", NoUsage: "There is no usage data for this choice.", Home: "Your statistics",
		YourAgreements: "Your agreements", AgreementsIntro: "The agreements your libraries take part in: the agreement's totals, and the library's own share of the cost and own cost per use.",
		OwnShare: "Own share", AgreementTotal: "Whole agreement", NotParticipating: "not taking part",
		NoAgreementsYours: "Your libraries take part in no imported agreement.", ExploreLink: "Explore usage",
		Refused: "No access", BadRequest: "Invalid choice",
		ErrLang: "Unknown language %q: choose nb, nn or en.", ErrMonth: "Invalid month %q: write YYYY-MM, for example 2025-01.",
		ErrPeriod: "The period ends before it begins.", ErrPlatform: "Unknown service %q.", ErrMetric: "Unknown kind of use %q.",
		ErrLibrary: "Unknown library %q.", ErrCounty: "Unknown county %q.", ErrForbidden: "You have no access to %s.",
		ErrFormat: "Unknown format %q: choose csv, csv-machine or xlsx.", ErrTooMany: "Choose at most %d libraries and areas at a time.",
		ErrNoData: "There is no usage data yet.", LogOut: "Log out", Language: "Language",
		Lines: "Lines in the chart", ByEntity: "One for each library or area", ByPlatform: "One for each service",
		ErrBy: "Unknown choice of lines %q.", ErrByOne: "Choose one library or area to see each service on its own.",
		CompareTitle: "The vendor's figures against the logins",
		CompareIntro: "Choose a period, services, a kind of use and libraries to see the vendor's figures beside the figures measured from the logins through Bibliotek24.",
		CompareNone:  "No service has figures from both the vendor and the logins yet.", CompareSection: "%s: %s",
		CompareBack: "Back to usage by month", CompareLink: "Compare the vendor's figures with the logins"},
}
