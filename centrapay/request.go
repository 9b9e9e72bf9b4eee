package centrapay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/centrapos/centrapos/clock"
)

// Response is the HTTP response of a call's last attempt (its body already
// read and closed) and how many attempts were made. Methods return a nil
// *Response only when no response was received at all.
type Response struct {
	*http.Response
	Attempts int
}

// maxBody bounds a response body read.
const maxBody = 8 << 20

// call describes one API call.
type call struct {
	op        string // "void request abc", for errors and logs
	method    string
	path      string // already escaped
	query     url.Values
	body      any  // marshalled once, before the retry loop
	retryable bool // safe to repeat with the same body
	out       any  // decoded from a 2xx body
	validate  func() error
}

// do runs c with retries; it returns a *Error, an *UnknownOutcomeError or nil.
func (cl *Client) do(ctx context.Context, c call) (*Response, error) {
	var payload []byte
	if c.body != nil {
		var err error
		if payload, err = json.Marshal(c.body); err != nil {
			return nil, fmt.Errorf("centrapay: %s: encode body: %w", c.op, err)
		}
	}
	full := strings.TrimRight(cl.baseURL.String(), "/") + c.path
	if len(c.query) > 0 {
		full += "?" + c.query.Encode()
	}
	prio := PriorityOf(ctx)
	var resp *Response
	for attempt := 1; ; attempt++ {
		// the first attempt skips the wait when its caller took the token
		// before journaling the intent this call carries out
		if attempt > 1 || !tokenTaken(ctx) {
			if err := cl.budget.Wait(ctx, prio); err != nil {
				if resp != nil {
					// an earlier attempt's outcome was unknown
					return resp, &UnknownOutcomeError{Op: c.op, Err: err}
				}
				return nil, fmt.Errorf("centrapay: %s: wait for rate budget: %w", c.op, err)
			}
		}
		r, err := cl.attempt(ctx, c, full, payload)
		if r != nil {
			resp = &Response{Response: r, Attempts: attempt}
		} else if resp != nil {
			resp.Attempts = attempt
		}
		status := 0
		if r != nil {
			status = r.StatusCode
		}
		cl.logger.DebugContext(ctx, "centrapay call", "op", c.op, "method", c.method, "path", c.path, "status", status, "attempt", attempt, "err", err)
		if err == nil {
			return resp, nil
		}
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests && e.RetryAfter > 0 {
			cl.budget.Pause(cl.clock.Now().Add(e.RetryAfter))
		}
		if ctx.Err() != nil || !shouldRetry(c.retryable, attempt, cl.retry, err) {
			return resp, err
		}
		if !cl.retry.NoSleep {
			var ra time.Duration
			if e != nil {
				ra = e.RetryAfter
			}
			if !clock.Sleep(cl.clock, backoff(cl.retry, attempt, ra), ctx.Done()) {
				return resp, &UnknownOutcomeError{Op: c.op, StatusCode: status, Err: ctx.Err()}
			}
		}
	}
}

// attempt makes one HTTP request and classifies its answer.
func (cl *Client) attempt(ctx context.Context, c call, u string, payload []byte) (*http.Response, error) {
	actx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, c.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("centrapay: %s: %w", c.op, err)
	}
	req.Header.Set("X-Api-Key", string(cl.apiKey))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cl.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := cl.http.Do(req)
	if err != nil {
		return nil, &UnknownOutcomeError{Op: c.op, Err: transportError(err)}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body.Close()
	if err != nil {
		return r, &UnknownOutcomeError{Op: c.op, StatusCode: r.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	return r, classify(c, r, data, cl.clock)
}

// classify turns a received response into nil (decoded into c.out), a known
// *Error, or an *UnknownOutcomeError.
func classify(c call, r *http.Response, data []byte, k clock.Clock) error {
	unknown := func(err error) error { return &UnknownOutcomeError{Op: c.op, StatusCode: r.StatusCode, Err: err} }
	switch s := r.StatusCode; {
	case s >= 200 && s < 300:
		if s != http.StatusOK && s != http.StatusCreated {
			return unknown(fmt.Errorf("unexpected status %d", s))
		}
		if err := decodeJSON(data, c.out); err != nil {
			return unknown(err)
		}
		if c.validate != nil {
			if err := c.validate(); err != nil {
				return unknown(err)
			}
		}
		return nil
	case s == http.StatusTooManyRequests:
		e := &Error{Op: c.op, StatusCode: s, Code: ErrRateLimitExceeded, RetryAfter: parseRetryAfter(r.Header.Get("Retry-After"), k.Now())}
		if b, ok := errorBody(data); ok {
			e.ErrorText, e.Reason = b.Error, b.Reason
		}
		// Rate limited: the call was refused, but a caller that gave up
		// after the retries does not know the request's state.
		return unknown(e)
	case s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusNotFound:
		b, ok := errorBody(data)
		if !ok {
			if s == http.StatusUnauthorized {
				return &Error{Op: c.op, StatusCode: s, Code: ErrUnauthorized, ErrorText: "Unauthorized"}
			}
			return unknown(fmt.Errorf("HTTP %d without a Centrapay error body", s))
		}
		return &Error{Op: c.op, StatusCode: s, Code: ErrorCode(b.Message), ErrorText: b.Error, Reason: b.Reason}
	case s >= 300 && s < 400 && r.Header.Get("Location") != "":
		// Not followed (refuseRedirect). An unknown outcome, not a
		// refusal: see ErrRedirectNotFollowed.
		host := ""
		if u, err := r.Location(); err == nil {
			host = u.Host
		}
		return unknown(&redirectError{host: host})
	default:
		return unknown(fmt.Errorf("HTTP %d", s))
	}
}

// decodeJSON decodes one JSON value into out, rejecting empty bodies and
// trailing data.
func decodeJSON(data []byte, out any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("decode body: trailing data after the JSON value")
	}
	return nil
}

// errorBody parses a Centrapay error body; ok is false unless it is JSON
// with a message.
func errorBody(data []byte) (ErrorBody, bool) {
	var b ErrorBody
	if err := json.Unmarshal(data, &b); err != nil || b.Message == "" {
		return ErrorBody{}, false
	}
	return b, true
}

// transportError drops the request URL from a transport error, keeping the
// operation and cause; the key is a header and never in it.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
