package sandbox

import (
	"embed"
	"net/http"

	"github.com/centrapos/centrapos/centrapay"
)

//go:embed wallet/pay.html
var walletFS embed.FS

// walletPage is what the wallet page shows of a request.
type walletPage struct {
	ID, MerchantName, Amount, Status string
	Remaining, RemainingText         string
	LineItems                        []walletLine
	Open                             bool
	Partial                          bool // the request opted in to partial payment: the wallet offers "pay part"
}

type walletLine struct{ Name, Qty, Price string }

// money formats cents as dollars, exactly.
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return sign + "$" + itoa(cents/100) + "." + pad2(cents%100) + " " + currency
}

func itoa(n int64) string { return centrapay.Int64BigNumber(n).String() }

func pad2(n int64) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// wallet serves the patron's pay page of a request: what the QR code opens.
func (s *Sandbox) wallet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	req, ok := s.requests[r.PathValue("id")]
	var p walletPage
	if ok {
		s.expire(req)
		v, _ := req.pr.Value.Amount.Int64()
		cur := req.pr.Value.Currency
		p = walletPage{ID: req.pr.ID, MerchantName: req.pr.MerchantName, Amount: money(v, cur), Status: string(req.pr.Status),
			Remaining: money(v-req.paid, cur), Open: req.pr.Status == centrapay.StatusNew,
			Partial: req.pr.PartialAllowed}
		if req.paid > 0 && req.paid < v {
			p.RemainingText = money(v-req.paid, cur)
		}
		for _, li := range req.pr.LineItems {
			price, _ := li.Price.Int64()
			p.LineItems = append(p.LineItems, walletLine{Name: li.Name, Qty: li.Qty.String(), Price: money(price, cur)})
		}
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "No such payment request.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.walletTmpl.Execute(w, p); err != nil {
		s.logger.Error("render wallet page", "err", err)
	}
}
