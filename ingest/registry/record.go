package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotRegistry means the JSON is not a COUNTER Registry record.
var ErrNotRegistry = errors.New("not a COUNTER Registry record")

// platformRecord is a Registry platform (GET /api/v1/platform/ or /platform/{id}/).
type platformRecord struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Abbrev          string            `json:"abbrev"`
	ContentProvider string            `json:"content_provider_name"`
	SushiServices   []json.RawMessage `json:"sushi_services"`
}

// service is a Registry sushi-service (GET /api/v1/sushi-service/{id}/). The
// flags are pointers: a flag the record leaves out is unknown, not false.
type service struct {
	ID                         string      `json:"id"`
	URL                        string      `json:"url"`
	CounterRelease             string      `json:"counter_release"`
	CustomerIDInfo             string      `json:"customer_id_info"`
	RequestorIDRequired        *bool       `json:"requestor_id_required"`
	RequestorIDInfo            string      `json:"requestor_id_info"`
	APIKeyRequired             *bool       `json:"api_key_required"`
	APIKeyInfo                 string      `json:"api_key_info"`
	PlatformAttrRequired       *bool       `json:"platform_attr_required"`
	PlatformSpecificInfo       string      `json:"platform_specific_info"`
	CredentialsAutoExpire      *bool       `json:"credentials_auto_expire"`
	CredentialsAutoExpireInfo  string      `json:"credentials_auto_expire_info"`
	RequestVolumeLimitsApplied *bool       `json:"request_volume_limits_applied"`
	RequestVolumeLimitsInfo    string      `json:"request_volume_limits_info"`
	IPAddressAuthorization     *bool       `json:"ip_address_authorization"`
	IPAddressAuthorizationInfo string      `json:"ip_address_authorization_info"`
	CustomizationsInPlace      *bool       `json:"customizations_in_place"`
	CustomizationsInfo         string      `json:"customizations_info"`
	Migrations                 []migration `json:"migrations"`
}

type migration struct {
	DataHostOriginalName string `json:"data_host_original_name"`
	MigrationDate        string `json:"migration_date"`
}

// page is a paged API response (Django REST Framework's shape).
type page struct {
	Next    *string           `json:"next"`
	Results []json.RawMessage `json:"results"`
}

// shape is enough of any record to tell what it is.
type shape struct {
	Name           *string         `json:"name"`
	SushiServices  json.RawMessage `json:"sushi_services"`
	Results        json.RawMessage `json:"results"`
	URL            *string         `json:"url"`
	CounterRelease *string         `json:"counter_release"`
	APIKeyRequired json.RawMessage `json:"api_key_required"`
}

type kind int

const (
	kindPlatform kind = iota + 1
	kindService
	kindPage
)

// classify tells a platform, a sushi-service and a page apart; anything
// else is ErrNotRegistry.
func classify(raw json.RawMessage) (kind, error) {
	var s shape
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotRegistry, err)
	}
	switch {
	case s.Results != nil:
		return kindPage, nil
	case s.SushiServices != nil || (s.Name != nil && s.URL == nil):
		return kindPlatform, nil
	case s.URL != nil && (s.CounterRelease != nil || s.APIKeyRequired != nil):
		return kindService, nil
	}
	return 0, ErrNotRegistry
}

// items splits a document into its records (an array's elements, or the
// one object) after checking it is JSON at all.
func items(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrNotRegistry)
	}
	switch data[0] {
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotRegistry, err)
		}
		return list, nil
	case '{':
		if !json.Valid(data) {
			return nil, fmt.Errorf("%w: invalid JSON", ErrNotRegistry)
		}
		return []json.RawMessage{data}, nil
	}
	return nil, fmt.Errorf("%w: not JSON", ErrNotRegistry)
}
