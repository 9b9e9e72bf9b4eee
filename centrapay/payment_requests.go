package centrapay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

const prPath = "/api/payment-requests/"

func validPR(pr *PaymentRequest) func() error {
	return func() error {
		if pr.ID == "" {
			return errors.New("payment request without id")
		}
		if !pr.Status.Valid() {
			return fmt.Errorf("payment request %s with invalid status %q", pr.ID, pr.Status)
		}
		return nil
	}
}

func validActivity(a *Activity) func() error {
	return func() error {
		if a.Type == "" {
			return errors.New("payment activity without type")
		}
		return nil
	}
}

func needID(op, name, v string) error {
	if v == "" {
		return fmt.Errorf("centrapay: %s: %s is empty", op, name)
	}
	return nil
}

// Create creates a Payment Request. It is never retried: Centrapay's create
// is not idempotent, so after an unknown outcome the caller looks the
// request up by externalRef (ListByExternalRef) before anything else. A
// barcode is sent as NormalizeBarcode leaves it; r itself is not changed.
func (c *Client) Create(ctx context.Context, r *CreateRequest) (*PaymentRequest, *Response, error) {
	const op = "create payment request"
	if r == nil || r.ConfigID == "" {
		return nil, nil, fmt.Errorf("centrapay: %s: configId is required", op)
	}
	if b := NormalizeBarcode(r.Barcode); b != r.Barcode {
		cp := *r
		cp.Barcode = b
		r = &cp
	}
	pr := new(PaymentRequest)
	resp, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/payment-requests", body: r, out: pr, validate: validPR(pr)})
	if err != nil {
		return nil, resp, err
	}
	return pr, resp, nil
}

// Get reads a Payment Request: the poll.
func (c *Client) Get(ctx context.Context, id string) (*PaymentRequest, *Response, error) {
	op := "get payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	return c.getPR(ctx, op, prPath+url.PathEscape(id))
}

// GetByShortCode reads the latest Payment Request with a short code, after
// normalising it (case, spaces, missing dashes).
func (c *Client) GetByShortCode(ctx context.Context, code string) (*PaymentRequest, *Response, error) {
	norm, err := NormalizeShortCode(code)
	if err != nil {
		return nil, nil, fmt.Errorf("centrapay: get payment request by short code: %w", err)
	}
	return c.getPR(ctx, "get payment request by short code "+norm, prPath+"short-code/"+url.PathEscape(norm))
}

func (c *Client) getPR(ctx context.Context, op, path string) (*PaymentRequest, *Response, error) {
	pr := new(PaymentRequest)
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, retryable: true, out: pr, validate: validPR(pr)})
	if err != nil {
		return nil, resp, err
	}
	return pr, resp, nil
}

// ListOptions selects a page of Payment Requests by external reference.
type ListOptions struct {
	MerchantAccountID string // required by Centrapay for a merchant-terminal key
	PageKey           string // from the previous page's NextPageKey
	Limit             int    // paginationLimit; 0 leaves Centrapay's default
}

// pageBody accepts both nextPageKey (the API reference) and pageKey (the
// docs' example response) as the key of the next page.
type pageBody[T any] struct {
	Items       []T    `json:"items"`
	NextPageKey string `json:"nextPageKey"`
	PageKey     string `json:"pageKey"`
}

func (p *pageBody[T]) page() *Page[T] {
	next := p.NextPageKey
	if next == "" {
		next = p.PageKey
	}
	return &Page[T]{Items: p.Items, NextPageKey: next}
}

func pageQuery(q url.Values, pageKey string, limit int) url.Values {
	if pageKey != "" {
		q.Set("pageKey", pageKey)
	}
	if limit > 0 {
		q.Set("paginationLimit", strconv.Itoa(limit))
	}
	return q
}

// ListByExternalRef lists one page of the Payment Requests carrying
// externalRef, newest first.
func (c *Client) ListByExternalRef(ctx context.Context, externalRef string, opt *ListOptions) (*Page[PaymentRequest], *Response, error) {
	op := "list payment requests by external ref " + externalRef
	if err := needID(op, "externalRef", externalRef); err != nil {
		return nil, nil, err
	}
	if opt == nil {
		opt = &ListOptions{}
	}
	q := url.Values{}
	if opt.MerchantAccountID != "" {
		q.Set("merchantAccountId", opt.MerchantAccountID)
	}
	var body pageBody[PaymentRequest]
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: prPath + "external-ref/" + url.PathEscape(externalRef),
		query: pageQuery(q, opt.PageKey, opt.Limit), retryable: true, out: &body, validate: func() error {
			for i := range body.Items {
				if err := validPR(&body.Items[i])(); err != nil {
					return err
				}
			}
			return nil
		}})
	if err != nil {
		return nil, resp, err
	}
	return body.page(), resp, nil
}

// AllByExternalRef iterates over every Payment Request carrying
// externalRef, following nextPageKey. It stops at the first error.
func (c *Client) AllByExternalRef(ctx context.Context, externalRef string, opt *ListOptions) iter.Seq2[*PaymentRequest, error] {
	o := ListOptions{}
	if opt != nil {
		o = *opt
	}
	return paginate(func(key string) (*Page[PaymentRequest], error) {
		o.PageKey = key
		p, _, err := c.ListByExternalRef(ctx, externalRef, &o)
		return p, err
	}, o.PageKey)
}

// paginate walks pages from first, stopping when a page has no next key or a
// key repeats.
func paginate[T any](fetch func(key string) (*Page[T], error), first string) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		seen := map[string]bool{}
		key := first
		for {
			p, err := fetch(key)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range p.Items {
				if !yield(&p.Items[i], nil) {
					return
				}
			}
			if p.NextPageKey == "" || seen[p.NextPageKey] {
				return
			}
			seen[p.NextPageKey] = true
			key = p.NextPageKey
		}
	}
}

func (c *Client) activity(ctx context.Context, op, path string, body any, retryable bool) (*Activity, *Response, error) {
	a := new(Activity)
	resp, err := c.do(ctx, call{op: op, method: http.MethodPost, path: path, body: body, retryable: retryable, out: a, validate: validActivity(a)})
	if err != nil {
		return nil, resp, err
	}
	return a, resp, nil
}

// Void cancels an unpaid request (a cancellation activity) or cancels and
// refunds a paid one (a refund activity). It is retried: a second void of a
// voided request is answered by Centrapay, never applied twice.
func (c *Client) Void(ctx context.Context, id string) (*Activity, *Response, error) {
	op := "void payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/void", nil, true)
}

// Refund refunds a paid request. ExternalRef (unique per refund) and Value
// are required; retries send the same body, so Centrapay applies it once.
func (c *Client) Refund(ctx context.Context, id string, r *RefundRequest) (*Activity, *Response, error) {
	op := "refund payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	if r == nil || r.ExternalRef == "" {
		return nil, nil, fmt.Errorf("centrapay: %s: externalRef is required", op)
	}
	if r.Value.Amount.IsZero() {
		return nil, nil, fmt.Errorf("centrapay: %s: value is required", op)
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/refund", r, true)
}

// AcceptCondition accepts a merchant condition; poll again afterwards.
func (c *Client) AcceptCondition(ctx context.Context, id, conditionID string) (*Activity, *Response, error) {
	return c.answer(ctx, id, conditionID, "accept")
}

// DeclineCondition declines a merchant condition, which cancels the request.
func (c *Client) DeclineCondition(ctx context.Context, id, conditionID string) (*Activity, *Response, error) {
	return c.answer(ctx, id, conditionID, "decline")
}

func (c *Client) answer(ctx context.Context, id, conditionID, verb string) (*Activity, *Response, error) {
	op := verb + " condition " + conditionID + " of payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	if err := needID(op, "conditionId", conditionID); err != nil {
		return nil, nil, err
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/conditions/"+url.PathEscape(conditionID)+"/"+verb, nil, true)
}

// Confirm confirms part or all of an authorized pre-auth request. The
// idempotencyKey makes retries safe; Centrapay asks to retry until 200 or 403.
func (c *Client) Confirm(ctx context.Context, id string, r *ConfirmRequest) (*Activity, *Response, error) {
	op := "confirm payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	switch {
	case r == nil || r.IdempotencyKey == "":
		return nil, nil, fmt.Errorf("centrapay: %s: idempotencyKey is required", op)
	case r.InvoiceRef == "":
		return nil, nil, fmt.Errorf("centrapay: %s: invoiceRef is required", op)
	case len(r.LineItems) == 0:
		return nil, nil, fmt.Errorf("centrapay: %s: lineItems are required", op)
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/confirm", r, true)
}

// Release releases the funds held by a pre-auth request.
func (c *Client) Release(ctx context.Context, id string) (*Activity, *Response, error) {
	op := "release payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/release", nil, true)
}

// Pay pays a request; a POS uses it only to record an external payment. It
// is retried only when r carries an idempotencyKey.
func (c *Client) Pay(ctx context.Context, id string, r *PayRequest) (*Activity, *Response, error) {
	op := "pay payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	if r == nil || r.AssetType == "" {
		return nil, nil, fmt.Errorf("centrapay: %s: assetType is required", op)
	}
	return c.activity(ctx, op, prPath+url.PathEscape(id)+"/pay", r, r.IdempotencyKey != "")
}

// Activities lists a request's payment activities, newest first.
// Centrapay's reference answers an object {"items": [...]}; a bare array,
// which earlier versions of this client and the sandbox used, is accepted
// too.
func (c *Client) Activities(ctx context.Context, id string) ([]Activity, *Response, error) {
	op := "list activities of payment request " + id
	if err := needID(op, "id", id); err != nil {
		return nil, nil, err
	}
	var out activityList
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: prPath + url.PathEscape(id) + "/activities", retryable: true, out: &out,
		validate: func() error { return validActivities(out) }})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// activityList decodes the answer of a request's activities: the
// documented {"items": [...]} or a bare array. A body that is neither (an
// object without items, null) is an error, so that a malformed answer is an
// unknown outcome rather than an empty list.
type activityList []Activity

func (l *activityList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return json.Unmarshal(data, (*[]Activity)(l))
	}
	var body struct {
		Items *[]Activity `json:"items"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	if body.Items == nil {
		return errors.New("activities: no items")
	}
	*l = *body.Items
	return nil
}

func validActivities(as []Activity) error {
	for i := range as {
		if err := validActivity(&as[i])(); err != nil {
			return err
		}
	}
	return nil
}

// ActivityListOptions selects a page of a merchant's payment activities.
type ActivityListOptions struct {
	MerchantID string
	PageKey    string
	Limit      int
}

// ListMerchantActivities lists one page of a merchant's payment activities,
// newest first: the basis of reconciliation.
func (c *Client) ListMerchantActivities(ctx context.Context, opt *ActivityListOptions) (*Page[Activity], *Response, error) {
	const op = "list merchant payment activities"
	if opt == nil || opt.MerchantID == "" {
		return nil, nil, fmt.Errorf("centrapay: %s: merchantId is required", op)
	}
	var body pageBody[Activity]
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/api/payment-activities",
		query: pageQuery(url.Values{"merchantId": {opt.MerchantID}}, opt.PageKey, opt.Limit), retryable: true, out: &body,
		validate: func() error { return validActivities(body.Items) }})
	if err != nil {
		return nil, resp, err
	}
	return body.page(), resp, nil
}

// AllMerchantActivities iterates over every activity of a merchant,
// following nextPageKey.
func (c *Client) AllMerchantActivities(ctx context.Context, opt *ActivityListOptions) iter.Seq2[*Activity, error] {
	o := ActivityListOptions{}
	if opt != nil {
		o = *opt
	}
	return paginate(func(key string) (*Page[Activity], error) {
		o.PageKey = key
		p, _, err := c.ListMerchantActivities(ctx, &o)
		return p, err
	}, o.PageKey)
}

// Decode identifies a scanned code (provider, display name).
func (c *Client) Decode(ctx context.Context, r *DecodeRequest) (*DecodedCode, *Response, error) {
	const op = "decode scanned code"
	if r == nil || r.Code == "" {
		return nil, nil, fmt.Errorf("centrapay: %s: code is required", op)
	}
	out := new(DecodedCode)
	resp, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/decode", body: r, retryable: true, out: out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}
