package pos

import (
	"context"
	"sort"
	"time"
)

// ReportFilter selects what a report covers: sales created and refunds
// made in [From, To), optionally of one terminal and one status.
type ReportFilter struct {
	From, To   time.Time
	TerminalID string
	Status     Status
}

// Report is what the report page and the CSV export show.
type Report struct {
	From         time.Time        `json:"from"`
	To           time.Time        `json:"to"`
	Transactions []*Sale          `json:"transactions"`
	Refunds      []*Op            `json:"refunds"`
	ByStatus     map[Status]int   `json:"byStatus"`
	Totals       []AssetTypeTotal `json:"totals"` // per asset type that paid
	Paid         int64            `json:"paid"`
	Refunded     int64            `json:"refunded"`
	Net          int64            `json:"net"`
}

// AssetTypeTotal is what one asset type took and gave back.
type AssetTypeTotal struct {
	AssetType   string `json:"assetType"`
	Description string `json:"description"`
	Payments    int    `json:"payments"`
	Paid        int64  `json:"paid"`
	Refunded    int64  `json:"refunded"`
	Net         int64  `json:"net"`
}

// Report summarises the journal over f: every sale with the asset types
// that paid it, every refund, and totals per asset type. A refund is
// counted against the asset type that paid its sale (the first, when
// several did).
func (e *Engine) Report(ctx context.Context, f ReportFilter) (*Report, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, invalid("from", "must be before to")
	}
	sales, err := e.j.Sales(ctx, SaleFilter{From: f.From, To: f.To, TerminalID: f.TerminalID, Status: f.Status})
	if err != nil {
		return nil, err
	}
	refunds, err := e.j.Ops(ctx, OpFilter{Kind: OpRefund, From: f.From, To: f.To, TerminalID: f.TerminalID})
	if err != nil {
		return nil, err
	}
	r := &Report{From: f.From, To: f.To, Transactions: sales, Refunds: refunds, ByStatus: map[Status]int{}}
	totals := map[string]*AssetTypeTotal{}
	total := func(assetType, desc string) *AssetTypeTotal {
		t, ok := totals[assetType]
		if !ok {
			t = &AssetTypeTotal{AssetType: assetType, Description: desc}
			totals[assetType] = t
		}
		if t.Description == "" {
			t.Description = desc
		}
		return t
	}
	for _, s := range sales {
		r.ByStatus[s.Status]++
		for _, p := range s.PaidBy {
			t := total(p.AssetType, p.Description)
			t.Payments++
			t.Paid += p.Amount
			r.Paid += p.Amount
		}
		if s.Status == StatusCancelled && s.Paid() > 0 && len(s.PaidBy) > 0 {
			// voided after payment: the void refunded it
			refund := s.Paid()
			total(s.PaidBy[0].AssetType, "").Refunded += refund
			r.Refunded += refund
		}
	}
	for _, op := range refunds {
		if op.State != OpSucceeded {
			continue
		}
		assetType := "unknown"
		if op.SaleID != "" {
			if s, err := e.j.Sale(ctx, op.SaleID); err == nil && len(s.PaidBy) > 0 {
				assetType = s.PaidBy[0].AssetType
			}
		}
		total(assetType, "").Refunded += op.Amount
		r.Refunded += op.Amount
	}
	for _, t := range totals {
		t.Net = t.Paid - t.Refunded
		r.Totals = append(r.Totals, *t)
	}
	sort.Slice(r.Totals, func(i, j int) bool { return r.Totals[i].AssetType < r.Totals[j].AssetType })
	r.Net = r.Paid - r.Refunded
	return r, nil
}
