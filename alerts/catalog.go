package alerts

// words is one language's text of a digest. Lines are fmt formats; their
// arguments are said at each field.
type words struct {
	Subject, SubjectOne string // count
	Operator            string
	Library             string // name, bibnr
	Headings            map[Kind]string
	Run                 string            // stage, time, detail
	Credential          string            // platform, credential, library, reason
	Platform            string            // platform, nights, since, reason
	Upload              string            // vendor, file, reason
	Missing             string            // library, platform, month, report, reason
	Access              string            // name, e-mail, library, time
	Code                string            // code: appended to a reason
	States              map[string]string // a missing month's state → why
	More                string            // count
	See                 string            // url
	Footer              string
}

var catalog = map[string]words{
	"nb": {
		Subject: "BibStat: %d nye varsler", SubjectOne: "BibStat: %d nytt varsel",
		Operator: "Dette er nytt siden forrige varsel fra BibStat.",
		Library:  "Dette er nytt for %s (%s) siden forrige varsel fra BibStat.",
		Headings: map[Kind]string{
			KindRun: "Nattlige kjøringer som feilet", KindCredential: "Tilganger leverandøren avviser",
			KindPlatform: "Plattformer som har feilet flere netter på rad", KindUpload: "Innleverte filer som ble avvist",
			KindMissing: "Måneder som fortsatt mangler etter forfallsdagen", KindAccess: "Tilgangsforespørsler som venter på avgjørelse"},
		Run: "%s %s: %s", Credential: "%s, tilgang %s (bibliotek %s): %s", Platform: "%s: feilet %d netter på rad, siden %s: %s",
		Upload: "%s, %s: %s", Missing: "%s · %s · %s (%s): %s", Code: " (COUNTER-kode %d)", Access: "%s <%s>, bibliotek %s, spurte %s",
		States: map[string]string{"": "aldri hentet", "not_ready": "ikke klar hos leverandøren ennå", "failed": "hentingen feilet",
			"queued": "i kø hos leverandøren", "throttled": "leverandøren ba oss vente"},
		More: "… og %d til", See: "Se %s",
		Footer: "Denne e-posten sendes automatisk av BibStat til adressen som er oppgitt for varsler. Hvert varsel sendes bare én gang.",
	},
	"nn": {
		Subject: "BibStat: %d nye varsel", SubjectOne: "BibStat: %d nytt varsel",
		Operator: "Dette er nytt sidan førre varsel frå BibStat.",
		Library:  "Dette er nytt for %s (%s) sidan førre varsel frå BibStat.",
		Headings: map[Kind]string{
			KindRun: "Nattlege køyringar som feila", KindCredential: "Tilgangar leverandøren avviser",
			KindPlatform: "Plattformer som har feila fleire netter på rad", KindUpload: "Innleverte filer som vart avviste",
			KindMissing: "Månader som framleis manglar etter forfallsdagen", KindAccess: "Tilgangsførespurnader som ventar på avgjerd"},
		Run: "%s %s: %s", Credential: "%s, tilgang %s (bibliotek %s): %s", Platform: "%s: feila %d netter på rad, sidan %s: %s",
		Upload: "%s, %s: %s", Missing: "%s · %s · %s (%s): %s", Code: " (COUNTER-kode %d)", Access: "%s <%s>, bibliotek %s, spurde %s",
		States: map[string]string{"": "aldri henta", "not_ready": "ikkje klar hos leverandøren enno", "failed": "hentinga feila",
			"queued": "i kø hos leverandøren", "throttled": "leverandøren bad oss venta"},
		More: "… og %d til", See: "Sjå %s",
		Footer: "Denne e-posten vert send automatisk av BibStat til adressa som er oppgitt for varsel. Kvart varsel vert berre sendt éin gong.",
	},
	"en": {
		Subject: "BibStat: %d new alerts", SubjectOne: "BibStat: %d new alert",
		Operator: "This is what is new since BibStat's last digest.",
		Library:  "This is what is new for %s (%s) since BibStat's last digest.",
		Headings: map[Kind]string{
			KindRun: "Nightly stages that failed", KindCredential: "Credentials the vendor refuses",
			KindPlatform: "Platforms failing night after night", KindUpload: "Uploaded files that were rejected",
			KindMissing: "Months still missing after their due day", KindAccess: "Access requests waiting for a decision"},
		Run: "%s %s: %s", Credential: "%s, credential %s (library %s): %s", Platform: "%s: failed %d nights in a row, since %s: %s",
		Upload: "%s, %s: %s", Missing: "%s · %s · %s (%s): %s", Code: " (COUNTER code %d)", Access: "%s <%s>, library %s, asked %s",
		States: map[string]string{"": "never harvested", "not_ready": "not ready at the vendor yet", "failed": "the harvest failed",
			"queued": "queued at the vendor", "throttled": "the vendor asked us to wait"},
		More: "… and %d more", See: "See %s",
		Footer: "BibStat sends this e-mail automatically to the address given for alerts. Each alert is sent once.",
	},
}
