// Package query holds what the SQL journals decide alike, so that SQLite
// and PostgreSQL cannot come to answer the same question differently.
package query

import (
	"errors"

	"github.com/centrapos/centrapos/pos"
)

// SaleColumn is the column and value a pos.SaleQuery selects on: the
// request id first, then the short code, then the externalRef.
func SaleColumn(q pos.SaleQuery) (column, value string, err error) {
	switch {
	case q.PaymentRequestID != "":
		return "pr_id", q.PaymentRequestID, nil
	case q.ShortCode != "":
		return "short_code", q.ShortCode, nil
	case q.ExternalRef != "":
		return "external_ref", q.ExternalRef, nil
	}
	return "", "", errors.New("find sale: an identifier is required")
}

// First returns the first of list, pos.ErrNotFound when it is empty, or
// err.
func First[T any](list []T, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(list) == 0 {
		return zero, pos.ErrNotFound
	}
	return list[0], nil
}
