package schemas

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Version numbers the Usage schema. Bump it when a column is added or its
// meaning changes; parsed objects are keyed by it.
const Version = 2

// Column names of Usage, for readers that build rows by name.
const (
	ColRelease           = "release"
	ColReportID          = "report_id"
	ColCustomerID        = "customer_id"
	ColInstitutionID     = "institution_id"
	ColInstitutionName   = "institution_name"
	ColPlatform          = "platform"
	ColPublisher         = "publisher"
	ColPublisherID       = "publisher_id"
	ColTitle             = "title"
	ColDOI               = "doi"
	ColISBN              = "isbn"
	ColPrintISSN         = "print_issn"
	ColOnlineISSN        = "online_issn"
	ColURI               = "uri"
	ColProprietaryID     = "proprietary_id"
	ColDataType          = "data_type"
	ColSectionType       = "section_type"
	ColAccessType        = "access_type"
	ColAccessMethod      = "access_method"
	ColYOP               = "yop"
	ColAuthors           = "authors"
	ColPublicationDate   = "publication_date"
	ColArticleVersion    = "article_version"
	ColParentTitle       = "parent_title"
	ColParentDataType    = "parent_data_type"
	ColParentDOI         = "parent_doi"
	ColParentISBN        = "parent_isbn"
	ColParentPrintISSN   = "parent_print_issn"
	ColParentOnlineISSN  = "parent_online_issn"
	ColParentURI         = "parent_uri"
	ColParentPropID      = "parent_proprietary_id"
	ColComponentTitle    = "component_title"
	ColComponentDataType = "component_data_type"
	ColMetricType        = "metric_type"
	ColMonth             = "month"
	ColCount             = "count"
	ColSourceKey         = "source_key"
	ColDatabase          = "database" // DR/DB1: the database the usage belongs to
)

// StringColumns are the Usage columns of type utf8, in schema order: every
// column before yop, then the text columns after it. Readers fill them from
// a row of strings.
var StringColumns = []string{
	ColRelease, ColReportID, ColCustomerID, ColInstitutionID, ColInstitutionName,
	ColPlatform, ColPublisher, ColPublisherID, ColTitle,
	ColDOI, ColISBN, ColPrintISSN, ColOnlineISSN, ColURI, ColProprietaryID,
	ColDataType, ColSectionType, ColAccessType, ColAccessMethod,
	ColAuthors, ColPublicationDate, ColArticleVersion,
	ColParentTitle, ColParentDataType, ColParentDOI, ColParentISBN,
	ColParentPrintISSN, ColParentOnlineISSN, ColParentURI, ColParentPropID,
	ColComponentTitle, ColComponentDataType,
	ColMetricType, ColSourceKey,
	ColDatabase,
}

// Usage is the schema of one usage row. Empty text is "", never null;
// yop is null when the report does not break usage down by year of
// publication; month is the first day of the month.
var Usage = func() *arrow.Schema {
	fields := make([]arrow.Field, 0, len(StringColumns)+3)
	for _, name := range StringColumns {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String})
	}
	fields = append(fields,
		arrow.Field{Name: ColYOP, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: ColMonth, Type: arrow.FixedWidthTypes.Date32},
		arrow.Field{Name: ColCount, Type: arrow.PrimitiveTypes.Int64},
	)
	return arrow.NewSchema(fields, nil)
}()
