package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/centrapos/centrapos/centrapay"
)

// savedState is the sandbox's state as kept in Config.StateFile.
type savedState struct {
	Seq      uint32                  `json:"seq"`
	Notified int                     `json:"notified"`
	Order    []string                `json:"order"`
	Requests map[string]savedRequest `json:"requests"`
}

type savedRequest struct {
	PR            centrapay.PaymentRequest      `json:"paymentRequest"`
	MerchantID    string                        `json:"merchantId"`
	CreatedBy     string                        `json:"createdBy,omitempty"`
	Scenario      string                        `json:"scenario,omitempty"`
	Activities    []centrapay.Activity          `json:"activities"`
	Paid          int64                         `json:"paid"`
	Refunded      int64                         `json:"refunded"`
	Refunds       map[string]centrapay.Activity `json:"refunds,omitempty"`
	Incomplete    map[string]time.Time          `json:"incomplete,omitempty"`
	Polled        bool                          `json:"polled,omitempty"`
	Authorized    int64                         `json:"authorized,omitempty"`
	Confirmed     int64                         `json:"confirmed,omitempty"`
	Confirmations map[string]savedConfirmation  `json:"confirmations,omitempty"`
	Pays          map[string]savedPay           `json:"pays,omitempty"`
}

type savedConfirmation struct {
	Activity centrapay.Activity `json:"activity"`
	Content  string             `json:"content"`
	Amount   int64              `json:"amount"`
	Refunded int64              `json:"refunded"`
}

type savedPay struct {
	Activity centrapay.Activity `json:"activity"`
	Content  string             `json:"content"`
}

// saveState writes the state to the state file, atomically; s.mu is held.
func (s *Sandbox) saveState() error {
	st := savedState{Seq: s.seq, Notified: s.notified, Order: s.order, Requests: map[string]savedRequest{}}
	for id, r := range s.requests {
		sr := savedRequest{PR: r.pr, MerchantID: r.merchant.ID, CreatedBy: r.createdBy, Scenario: r.scenario, Activities: r.activities, Paid: r.paid,
			Refunded: r.refunded, Refunds: r.refunds, Incomplete: r.incomplete, Polled: r.polled, Authorized: r.authorized, Confirmed: r.confirmed,
			Confirmations: map[string]savedConfirmation{}, Pays: map[string]savedPay{}}
		for k, c := range r.confirmations {
			sr.Confirmations[k] = savedConfirmation{c.activity, c.content, c.amount, c.refunded}
		}
		for k, p := range r.pays {
			sr.Pays[k] = savedPay{p.activity, p.content}
		}
		st.Requests[id] = sr
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.stateFile), ".sandbox-state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.stateFile)
}

// loadState reads the state file, if there is one.
func (s *Sandbox) loadState() error {
	b, err := os.ReadFile(s.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: state: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("sandbox: state %s: %w", s.stateFile, err)
	}
	byID := map[string]*Merchant{}
	for i := range s.merchants {
		byID[s.merchants[i].ID] = &s.merchants[i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq, s.notified, s.order = st.Seq, st.Notified, st.Order
	for id, sr := range st.Requests {
		m, ok := byID[sr.MerchantID]
		if !ok {
			return fmt.Errorf("sandbox: state: request %s belongs to merchant %s, who is not configured", id, sr.MerchantID)
		}
		if sr.PR.MerchantConditions == nil {
			sr.PR.MerchantConditions = []centrapay.Condition{} // a state saved before merchantConditions was always sent
		}
		r := &request{pr: sr.PR, merchant: m, createdBy: sr.CreatedBy, scenario: sr.Scenario, activities: sr.Activities, paid: sr.Paid, refunded: sr.Refunded,
			refunds: sr.Refunds, incomplete: sr.Incomplete, polled: sr.Polled, authorized: sr.Authorized, confirmed: sr.Confirmed,
			confirmations: map[string]*confirmation{}, pays: map[string]payCall{}}
		if r.refunds == nil {
			r.refunds = map[string]centrapay.Activity{}
		}
		for k, c := range sr.Confirmations {
			r.confirmations[k] = &confirmation{c.Activity, c.Content, c.Amount, c.Refunded}
		}
		for k, p := range sr.Pays {
			r.pays[k] = payCall{p.Activity, p.Content}
		}
		s.requests[id] = r
	}
	return nil
}
