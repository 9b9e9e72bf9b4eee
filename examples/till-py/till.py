#!/usr/bin/env python3
"""A small command-line till for a centrapos server, standard library only.

It talks to the terminal REST API under /api/v1 (see
internal/server/openapi.yaml) with the terminal's bearer token:

    till.py --url URL --token TOKEN sale --amount 12.50 [--barcode CODE] [--ref R-1]
                                         [--accept-conditions] [--cancel-after-seconds N]
    till.py --url URL --token TOKEN cancel SALE_ID
    till.py --url URL --token TOKEN refund (--sale SALE_ID | --short-code CODE) --amount 5.00

Exit codes: 0 a paid sale or a successful refund/cancel, 1 an error
(printed as "error: <detail>"), 2 a sale that ended unpaid.

Every POST carries ONE Idempotency-Key per intent (a UUID), sent again
unchanged on every retry: after a connection error, a timeout, or a
409 whose problem code is in_progress (waiting for Retry-After). The server
journals the key with the sale or refund before calling Centrapay, so a
retry never starts a second one.
"""

import argparse
import decimal
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

FINAL = ("paid", "cancelled", "expired", "failed")
AWAITING_MERCHANT = "awaiting-merchant"

# How long a till keeps retrying one intent before it gives up.
RETRY_FOR_SECONDS = 60.0
REQUEST_TIMEOUT = 15.0


class TillError(Exception):
    """An error to print as "error: <detail>" (exit 1)."""


class Problem(TillError):
    """An application/problem+json answer."""

    def __init__(self, status, body, headers):
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.headers = headers
        self.code = self.body.get("code", "")
        detail = self.body.get("detail") or self.body.get("title") or ("HTTP %d" % status)
        super().__init__(detail)


def cents(text):
    """Parses a decimal amount such as "12.50" into integer cents, exactly
    (no float anywhere); more than two decimal places is an error."""
    try:
        d = decimal.Decimal(text.strip())
    except (decimal.InvalidOperation, AttributeError):
        raise TillError("amount %r is not a decimal number" % text)
    if not d.is_finite() or d <= 0:
        raise TillError("amount %r must be more than zero" % text)
    c = d * 100
    if c != c.to_integral_value():
        raise TillError("amount %r has more than two decimal places" % text)
    return int(c)


def money(c):
    return "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)


class Client:
    def __init__(self, base, token):
        base = base.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        self.base = base
        self.token = token

    def _headers(self, extra=None):
        h = {"Authorization": "Bearer " + self.token, "Accept": "application/json"}
        if extra:
            h.update(extra)
        return h

    def _once(self, method, path, body=None, key=None):
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=self._headers(headers))
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = {"detail": raw.decode(errors="replace").strip() or e.reason}
            raise Problem(e.code, parsed, e.headers)

    def call(self, method, path, body=None, key=None):
        """One intent: retried with the same Idempotency-Key on a connection
        error or a 409 in_progress, until RETRY_FOR_SECONDS pass."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.2
        while True:
            try:
                return self._once(method, path, body, key)
            except Problem as p:
                if not (p.status == 409 and p.code == "in_progress") or time.monotonic() > deadline:
                    raise
                wait = retry_after(p.headers, 1.0)
                print("server is still working on it; retrying in %gs" % wait, file=sys.stderr)
                time.sleep(wait)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as e:
                if time.monotonic() > deadline:
                    raise TillError("cannot reach %s: %s" % (self.base, getattr(e, "reason", e)))
                print("connection failed (%s); retrying with the same Idempotency-Key" % getattr(e, "reason", e),
                      file=sys.stderr)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def post(self, path, body=None):
        """A POST with a fresh key for this intent, reused on its retries."""
        return self.call("POST", path, body if body is not None else {}, key=str(uuid.uuid4()))

    def get(self, path):
        return self.call("GET", path)

    def events(self, sale_id):
        """Yields the sale snapshots of GET /sales/{id}/events (Server-Sent
        Events, event "sale"); the stream ends after a final one."""
        u = urllib.parse.urlsplit(self.base)
        conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(u.hostname, u.port, timeout=120)
        try:
            conn.request("GET", u.path + "/sales/" + urllib.parse.quote(sale_id) + "/events",
                         headers=self._headers({"Accept": "text/event-stream"}))
            resp = conn.getresponse()
            if resp.status != 200:
                raw = resp.read()
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {"detail": raw.decode(errors="replace").strip()}
                raise Problem(resp.status, parsed, resp.headers)
            event, data = "message", []
            while True:
                line = resp.readline()
                if not line:
                    return
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data and event == "sale":
                        yield json.loads("\n".join(data))
                    event, data = "message", []
                elif line.startswith(":"):
                    continue  # a comment (keep-alive)
                else:
                    field, _, value = line.partition(":")
                    if value.startswith(" "):
                        value = value[1:]
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
        finally:
            conn.close()


def retry_after(headers, default):
    try:
        return max(0.0, min(float(headers.get("Retry-After")), 30.0))
    except (TypeError, ValueError):
        return default


def follow(client, sale, accept_conditions):
    """Follows a sale until it is final, printing each status change and
    answering merchant conditions; returns the final snapshot."""
    last_status = None
    answered = set()
    # The stream ends after a final snapshot; if it breaks before, resume.
    while True:
        snaps = [sale] if sale else []
        try:
            stream = client.events(sale["id"])
            for snap in _chain(snaps, stream):
                sale = snap
                if snap.get("status") != last_status:
                    last_status = snap.get("status")
                    line = "status: %s" % last_status
                    if snap.get("reason"):
                        line += " (%s)" % snap["reason"]
                    print(line, flush=True)
                if snap.get("status") in FINAL:
                    return snap
                for c in snap.get("conditions") or []:
                    if c.get("status") != AWAITING_MERCHANT or c.get("id") in answered:
                        continue
                    answered.add(c.get("id"))
                    print("condition %s: %s" % (c.get("name", ""), c.get("message", "")), flush=True)
                    verb = "accept" if accept_conditions else "decline"
                    print("%s condition %s" % ("accepting" if accept_conditions else "declining", c.get("id")),
                          flush=True)
                    client.post("/sales/%s/conditions/%s/%s" % (
                        urllib.parse.quote(sale["id"]), urllib.parse.quote(c["id"]), verb))
        except (ConnectionError, http.client.HTTPException, TimeoutError, OSError) as e:
            print("event stream broke (%s); reconnecting" % e, file=sys.stderr)
            time.sleep(0.5)
        sale = client.get("/sales/" + urllib.parse.quote(sale["id"]))
        if sale.get("status") in FINAL:
            if sale.get("status") != last_status:
                print("status: %s" % sale["status"], flush=True)
            return sale


def _chain(first, rest):
    for x in first:
        yield x
    for x in rest:
        yield x


def cmd_sale(client, args):
    body = {"value": cents(args.amount)}
    if args.ref:
        body["externalRef"] = args.ref
    if args.barcode:
        body["flow"] = "barcode"
        body["barcode"] = args.barcode
    else:
        body["flow"] = "qr"
    sale = client.post("/sales", body)
    pr = sale.get("paymentRequest") or {}
    print("sale %s: %s %s, receipt %s" % (sale.get("id"), money(sale.get("value", body["value"])),
                                          sale.get("currency", ""), sale.get("externalRef", "")), flush=True)
    if pr.get("shortCode"):
        print("short code: %s" % pr["shortCode"], flush=True)
    if pr.get("url") and not args.barcode:
        print("pay at: %s" % pr["url"], flush=True)
    canceller, done = None, threading.Event()
    if args.cancel_after_seconds is not None:
        def cancel_later():
            if done.wait(args.cancel_after_seconds):
                return  # the sale ended first
            try:
                client.post("/sales/%s/cancel" % urllib.parse.quote(sale["id"]))
                print("cancel requested", flush=True)
            except TillError as e:
                print("error: %s" % e, file=sys.stderr, flush=True)
        canceller = threading.Thread(target=cancel_later, daemon=True)
        canceller.start()
    try:
        final = follow(client, sale, args.accept_conditions)
    finally:
        done.set()
        if canceller is not None:
            canceller.join(timeout=REQUEST_TIMEOUT)
    if final.get("status") == "paid":
        for p in final.get("paidBy") or []:
            print("paid by %s: %s" % (p.get("description") or p.get("assetType"), money(p.get("amount", 0))))
        if final.get("remainingAmount"):
            print("remaining: %s" % money(final["remainingAmount"]))
        return 0
    return 2


def cmd_cancel(client, args):
    sale = client.post("/sales/%s/cancel" % urllib.parse.quote(args.sale_id))
    print("sale %s: status: %s" % (sale.get("id", args.sale_id), sale.get("status")))
    return 0


def cmd_refund(client, args):
    body = {"value": cents(args.amount)}
    if args.sale:
        body["saleId"] = args.sale
    else:
        body["shortCode"] = args.short_code
    if args.reason:
        body["reason"] = args.reason
    op = client.post("/refunds", body)
    state = op.get("state")
    print("refund %s: %s %s" % (op.get("id"), money(op.get("amount", body["value"])), state))
    if state == "failed":
        raise TillError(op.get("error") or op.get("message") or "the refund failed")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="A command-line till for a centrapos server.")
    ap.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--token", required=True, help="the terminal's token (cpt_…)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sale", help="take a payment")
    s.add_argument("--amount", required=True, help="e.g. 12.50")
    s.add_argument("--barcode", help="the patron's barcode (else a QR sale)")
    s.add_argument("--ref", help="the receipt number (externalRef)")
    s.add_argument("--accept-conditions", action="store_true",
                   help="accept merchant conditions (e.g. photo ID checked); else decline them")
    s.add_argument("--cancel-after-seconds", type=float, help="cancel the sale after this long if still open")

    c = sub.add_parser("cancel", help="cancel a sale")
    c.add_argument("sale_id")

    r = sub.add_parser("refund", help="refund a payment")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--sale", help="the sale id")
    g.add_argument("--short-code", help="the payment request's short code")
    r.add_argument("--amount", required=True, help="e.g. 5.00")
    r.add_argument("--reason")

    args = ap.parse_args(argv)
    client = Client(args.url, args.token)
    try:
        return {"sale": cmd_sale, "cancel": cmd_cancel, "refund": cmd_refund}[args.cmd](client, args)
    except TillError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
