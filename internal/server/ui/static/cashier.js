// The cashier page: rings up sales through the terminal API and follows
// them by Server-Sent Events. Amounts are handled as whole cents (strings
// are parsed, never floats); times are shown in the store's time zone,
// never the browser's.
"use strict";

const $ = (id) => document.getElementById(id);

// cents parses "12", "12.5" or "12.50" into 1250; null if it is not an amount.
function cents(text) {
  const m = /^\s*(\d{1,6})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return parseInt(m[1], 10) * 100 + parseInt((m[2] || "0").padEnd(2, "0"), 10);
}

// plain writes cents as 12.50, for inputs.
function plain(c) {
  const s = c < 0 ? "-" : "";
  c = Math.abs(c);
  return s + Math.floor(c / 100) + "." + String(c % 100).padStart(2, "0");
}

// symbols are the currencies written with a sign before the amount.
const symbols = { NZD: "NZ$", AUD: "A$", USD: "US$", CAD: "CA$", FJD: "FJ$", SGD: "S$", HKD: "HK$" };

// money writes cents of a currency as every amount on this page is
// written: NZ$12.50 (or 12.50 EUR for a currency without a sign here).
function money(c, currency) {
  return moneyText(plain(c), currency);
}

// moneyText writes a decimal string ("12.50", as reports give) the same way.
function moneyText(text, currency) {
  currency = currency || "NZD";
  let sign = "";
  if (text.startsWith("-")) { sign = "-"; text = text.slice(1); }
  return symbols[currency] ? sign + symbols[currency] + text : sign + text + " " + currency;
}

function luhnOK(d) {
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
    sum += n;
  }
  return sum % 10 === 0;
}

const prefixes = ["121921", "123000", "282828", "293000", "321000", "321123", "636863", "713131", "765432", "777000", "839234", "848484", "888444", "929394", "987600", "999000"];

// barcodeProblem says what is wrong with a typed or scanned code, or "".
function barcodeProblem(code) {
  if (code === "") return "enter or scan the patron's code";
  if (!/^\d+$/.test(code)) return "digits only";
  if (code.length === 16) {
    if (!prefixes.includes(code.slice(0, 6))) return "not a Centrapay code (unknown prefix)";
    if (!luhnOK(code)) return "check digit does not match: scan again";
    return "";
  }
  if (code.length < 8) return "too short";
  if (code.length > 19) return "too long";
  return "";
}

function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// api calls the terminal API. A POST carries key, the Idempotency-Key of
// the user's intent: when the network fails or the server answers that
// the same request is still running (409 in_progress) or unavailable,
// the very same request is sent again, so one press is one sale or one
// refund however often it is retried.
async function api(method, path, body, key) {
  const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.headers["Idempotency-Key"] = key || uuid();
    opts.body = JSON.stringify(body);
  }
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) { // no answer: the server may have done it; ask again with the same key
      if (body === undefined || attempt >= 8) throw new Error("The server did not answer. Check the connection and try again: it will not be charged twice.");
      await sleep(Math.min(250 * attempt, 2000));
      continue;
    }
    const data = await res.json().catch(() => ({}));
    if (body !== undefined && attempt < 8 && (data.code === "in_progress" || res.status === 502 || res.status === 503 || res.status === 504)) {
      await sleep(1000 * (parseInt(res.headers.get("Retry-After"), 10) || 1));
      continue;
    }
    if (!res.ok) throw new Error(data.detail || res.statusText);
    return data;
  }
}

// intent returns the Idempotency-Key of what the user is asking for: the
// same key while they ask for the same thing (a retry after an error), a
// new one when they ask for something else. done() forgets it.
function intentKeeper() {
  let current = null;
  return {
    key(body) {
      const json = JSON.stringify(body);
      if (!current || current.json !== json) current = { json, key: uuid() };
      return current.key;
    },
    done() { current = null; },
  };
}

const saleIntent = intentKeeper();
const refundIntent = intentKeeper();
const confirmIntent = intentKeeper();

// busy disables the buttons while a request they started is in flight, so
// a double press sends one request.
async function busy(buttons, fn) {
  if (buttons.some((b) => b.disabled)) return;
  for (const b of buttons) b.disabled = true;
  try { return await fn(); } finally { for (const b of buttons) b.disabled = false; }
}

// --- times, in the store's zone ---

// when formats a time of the API in the store's time zone (the server's
// --timezone): by its name, or, for a zone with no name, by the store's
// offset from UTC as the server gave it.
function when(iso, opts) {
  const body = document.body.dataset;
  const t = new Date(iso);
  if (body.zone) return t.toLocaleString(undefined, Object.assign({ timeZone: body.zone }, opts));
  const shifted = new Date(t.getTime() + 1000 * (parseInt(body.offset, 10) || 0));
  return shifted.toLocaleString(undefined, Object.assign({ timeZone: "UTC" }, opts));
}

const clock = (iso) => when(iso, { hour: "numeric", minute: "2-digit" });

// dayName writes a store date ("2026-11-25") as "Wed, Nov 25": a date
// with no time, so no zone moves it.
function dayName(date) {
  const [y, m, d] = date.split("-").map((n) => parseInt(n, 10));
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { timeZone: "UTC", weekday: "short", month: "short", day: "numeric" });
}

// --- what a sale's state means to a cashier ---

// declines are Centrapay's reasons that mean the payment was refused, not
// called off.
const declines = ["PAYMENT_DECLINED", "DECLINED_BY_PATRON", "DECLINED_BY_MERCHANT", "INSUFFICIENT_ASSET_VALUE", "INACTIVE_ASSET", "PATRON_CODE_INVALID", "PATRON_CODE_EXPIRED", "NO_AVAILABLE_PAYMENT_OPTIONS", "PAYMENT_FAILED"];

function paidOf(sale) {
  return (sale.paidBy || []).reduce((n, p) => n + p.amount, 0);
}

// declineCode is Centrapay's code for a refused payment, or "".
function declineCode(sale) {
  const pr = sale.paymentRequest || {};
  if (pr.cancellationReason && declines.includes(pr.cancellationReason)) return pr.cancellationReason;
  if (sale.status === "failed") return declines.find((c) => (sale.reason || "").includes(c)) || "";
  return "";
}

// stillToPay is what the patron of a part-paid sale still owes:
// Centrapay's remainingAmount less what the till took in cash or by card.
function stillToPay(sale) {
  if (sale.status !== "paid" || sale.preAuth) return 0;
  const taken = (sale.tenders || []).reduce((n, t) => n + t.amount, 0);
  return Math.max((sale.remainingAmount || 0) - taken, 0);
}

// stateOf says in a word what a sale's state is, and the class that
// colours it: green only when all of it is paid.
function stateOf(sale) {
  const pr = sale.paymentRequest || {};
  switch (sale.status) {
    case "pending":
      if ((sale.conditions || []).some((c) => c.status === "awaiting-merchant")) return { label: "Check needed", cls: "part" };
      return { label: "Waiting for payment", cls: "pending" };
    case "resolving": return { label: "Checking with Centrapay", cls: "pending" };
    case "paid":
      if (sale.preAuth && pr.preAuthStatus === "released") return { label: "Pre-auth released", cls: "done" };
      if (sale.preAuth) return { label: "Authorised", cls: "part" };
      if (stillToPay(sale) > 0) return { label: "Part paid", cls: "part" };
      return { label: "Paid", cls: "paid" };
    case "cancelled":
      return declineCode(sale) ? { label: "Declined", cls: "declined" } : { label: "Cancelled", cls: "cancelled" };
    case "expired": return { label: "Expired", cls: "cancelled" };
    case "failed": return declineCode(sale) ? { label: "Declined", cls: "declined" } : { label: "Failed", cls: "cancelled" };
  }
  return { label: sale.status, cls: "" };
}

function capital(s) { return s ? s[0].toUpperCase() + s.slice(1) : s; }

// reasonOf is why a sale ended as it did, with Centrapay's code.
function reasonOf(sale) {
  const code = declineCode(sale);
  let r = capital(sale.reason || "");
  if (code && !r.includes(code)) r += (r ? " " : "") + "(" + code + ")";
  return r;
}

const refundWords = { sending: "Refund sending", pending: "Refund pending", refunded: "Refunded", failed: "Refund failed" };

function refundLine(rf, currency) {
  let s = (refundWords[rf.status] || rf.status) + " " + money(rf.amount, currency) + " · " + clock(rf.createdAt);
  if (rf.reason) s += " · " + rf.reason;
  if (rf.error) s += " · " + rf.error;
  return s;
}

// --- a new sale ---

let current = null;
let events = null;

// lineOf reads an item row: quantity, unit price, GST (typed, or 3/23 of
// the line: 15% included) and the line's total, all in whole cents.
function lineOf(row) {
  const [name, qty, unit, tax] = row.querySelectorAll("input");
  const q = /^\s*0*[1-9]\d{0,3}\s*$/.test(qty.value) ? parseInt(qty.value, 10) : null; // a whole number, 1 or more
  const u = cents(unit.value);
  const line = q !== null && u !== null ? q * u : null;
  const gst = line === null ? null : Math.floor((line * 3 + 11) / 23);
  const typedTax = tax.value.trim() === "" ? null : cents(tax.value);
  return { name: name.value.trim(), qty: q, unit: u, line, tax: typedTax !== null ? typedTax : gst, taxInput: tax, auto: gst, empty: name.value.trim() === "" && unit.value.trim() === "" };
}

function itemRows() {
  return Array.from(document.querySelectorAll("#item-rows .item-row")).map(lineOf).filter((i) => !i.empty);
}

// itemsChanged shows each line's total and GST, and makes the amount the
// items' total.
function itemsChanged() {
  let total = 0, ok = true;
  for (const row of document.querySelectorAll("#item-rows .item-row")) {
    const l = lineOf(row);
    row.querySelector(".line").textContent = l.line === null ? "" : money(l.line);
    l.taxInput.placeholder = l.auto === null ? "" : plain(l.auto);
    if (l.empty) continue;
    if (l.line === null) ok = false; else total += l.line;
  }
  const items = itemRows();
  if (!items.length && $("amount").readOnly) $("amount").value = ""; // the items that made it are gone
  $("amount").readOnly = items.length > 0;
  $("items-total").textContent = items.length ? "· " + items.length + (items.length === 1 ? " item" : " items") + (ok ? ", " + money(total) : "") : "";
  if (items.length && ok) $("amount").value = plain(total);
}

function addItemRow() {
  const row = document.createElement("div");
  row.className = "item-row";
  row.innerHTML = '<input placeholder="Item" aria-label="Item name" class="c-name">' +
    '<input value="1" inputmode="numeric" aria-label="Quantity" class="c-qty">' +
    '<input placeholder="0.00" inputmode="decimal" aria-label="Unit price" class="c-price">' +
    '<input inputmode="decimal" aria-label="GST included" class="c-tax">' +
    '<span class="line c-line"></span><button type="button" aria-label="Remove item" class="small c-x">×</button>';
  row.querySelector("button").onclick = () => {
    row.remove();
    $("items-table").hidden = !$("item-rows").children.length;
    itemsChanged();
  };
  for (const i of row.querySelectorAll("input")) i.oninput = itemsChanged;
  $("item-rows").appendChild(row);
  $("items-table").hidden = false;
  row.querySelector("input").focus();
}

async function startSale(flow) {
  $("form-error").textContent = "";
  const value = cents($("amount").value);
  if (value === null || value <= 0) { $("form-error").textContent = "Enter an amount such as 12.50"; $("amount").focus(); return; }
  const body = { value, flow };
  if ($("ref").value.trim()) body.externalRef = $("ref").value.trim();
  if (flow === "barcode") {
    const problem = barcodeProblem($("barcode").value.trim());
    if (problem) { $("form-error").textContent = "Barcode: " + problem; $("barcode").focus(); return; }
    body.barcode = $("barcode").value.trim();
  }
  const items = itemRows();
  if (items.length) {
    if (items.some((i) => i.name === "" || i.line === null || i.tax === null)) { $("form-error").textContent = "Each item needs a name, a quantity and a price"; return; }
    body.lineItems = items.map((i) => ({ name: i.name, qty: String(i.qty), price: String(i.line), tax: String(i.tax) }));
  }
  if ($("opt-not-present").checked) body.patronNotPresent = true;
  if ($("opt-partial").checked) body.basketAmount = value; // opts in to partial payment
  if ($("opt-preauth").checked) {
    if (!items.length) {
      $("form-error").textContent = "A pre-auth needs line items: say what is authorised";
      if (!$("item-rows").children.length) addItemRow();
      return;
    }
    body.preAuth = true;
  }
  await busy([$("pay-qr"), $("pay-barcode")], async () => {
    try {
      const sale = await api("POST", "/api/v1/sales", body, saleIntent.key(body));
      saleIntent.done();
      follow(sale);
    } catch (e) {
      $("form-error").textContent = e.message;
    }
  });
}

// --- the sale in progress ---

function follow(sale) {
  current = sale;
  $("new-sale").hidden = true;
  $("current").hidden = false;
  render(sale);
  listen(sale);
  loadList(); // the new sale in the list, at once
}

function listen(sale) {
  if (events) events.close();
  events = null;
  if (["pending", "resolving"].includes(sale.status)) {
    events = new EventSource("/api/v1/sales/" + sale.id + "/events");
    events.addEventListener("sale", (ev) => render(JSON.parse(ev.data)));
  }
}

// refresh reads the sale again: after a confirmation, a release or a
// refund, which its event stream (ended when the sale was final) does not
// bring.
async function refresh() {
  if (!current) return;
  try { render(await api("GET", "/api/v1/sales/" + current.id)); } catch (e) { /* keep what is shown */ }
}

function render(sale) {
  const wasFinal = current && current.id === sale.id && ["paid", "cancelled", "expired", "failed"].includes(current.status) && current.version === sale.version;
  current = sale;
  const cur = sale.currency;
  $("sale-ref").textContent = sale.externalRef;
  $("sale-time").textContent = clock(sale.createdAt);
  $("sale-amount").textContent = money(sale.value, cur);
  const state = stateOf(sale);
  const st = $("sale-status");
  st.textContent = state.label;
  st.className = "status " + state.cls;
  st.dataset.status = sale.status; // the API's word, for scripts that drive the page
  $("sale-reason").textContent = ["cancelled", "expired", "failed", "resolving"].includes(sale.status) ? reasonOf(sale) : "";
  const pr = sale.paymentRequest;
  $("sale-code").textContent = pr ? "Code " + pr.shortCode + (sale.patronNotPresent ? " · patron not present" : "") : "";
  const qr = $("sale-qr");
  if (pr && sale.flow === "qr" && sale.status === "pending") {
    const src = "/api/v1/sales/" + sale.id + "/qr.svg";
    if (qr.getAttribute("src") !== src) qr.src = src;
    qr.hidden = false;
  } else {
    qr.hidden = true;
  }
  const basket = $("sale-items");
  basket.innerHTML = "";
  for (const li of sale.lineItems || []) {
    const el = document.createElement("li");
    el.textContent = li.qty + " × " + li.name + " — " + money(parseInt(li.price, 10), cur) + (li.tax ? " (GST " + money(parseInt(li.tax, 10), cur) + ")" : "");
    basket.appendChild(el);
  }
  basket.hidden = !basket.children.length;
  renderConditions(sale);
  const paid = paidOf(sale);
  const rem = $("remaining");
  const owed = stillToPay(sale);
  rem.hidden = owed <= 0;
  const tendered = (sale.tenders || []).reduce((n, t) => n + t.amount, 0);
  $("remaining-text").textContent = "Paid " + money(paid + tendered, cur) + " — " + money(owed, cur) + " still to pay";
  $("take-cash").textContent = money(owed, cur) + " in cash";
  $("take-card").textContent = money(owed, cur) + " by card";
  $("refund-paid").hidden = paid - sale.refunded <= 0;
  renderPreAuth(sale, paid);
  const by = sale.preAuth ? "Authorised by " : "Paid by ";
  $("paid-by").textContent = (sale.paidBy || []).map((p) => by + p.description + " (" + p.assetType + ") " + money(p.amount, cur))
    .concat((sale.tenders || []).map((t) => (t.method === "cash" ? "Cash " : "Card ") + money(t.amount, cur) + " (outside Centrapay)")).join("; ");
  const refunds = $("sale-refunds");
  refunds.innerHTML = "";
  for (const rf of sale.refunds || []) {
    const el = document.createElement("li");
    el.className = "refund " + rf.status;
    el.textContent = refundLine(rf, cur);
    refunds.appendChild(el);
  }
  updateRow(sale);
  const final = ["paid", "cancelled", "expired", "failed"].includes(sale.status);
  $("cancel").hidden = final;
  $("done").hidden = !final;
  const receipt = $("receipt");
  receipt.hidden = !final;
  receipt.href = "/api/v1/sales/" + sale.id + "/receipt";
  if (final && !wasFinal) {
    loadList();
    // Enter starts the next sale, unless the cashier is typing elsewhere
    const a = document.activeElement;
    if (!a || a === document.body || $("current").contains(a)) $("done").focus();
  }
}

function renderConditions(sale) {
  const conds = $("conditions");
  conds.innerHTML = "";
  for (const c of sale.conditions || []) {
    if (c.status !== "awaiting-merchant" && c.status !== "awaiting-patron") continue;
    const box = document.createElement("div");
    box.className = "condition";
    const msg = document.createElement("p");
    msg.className = "condition-message";
    msg.textContent = c.message || c.name; // Centrapay's message, verbatim
    box.appendChild(msg);
    if (c.status === "awaiting-merchant") {
      for (const verb of ["accept", "decline"]) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = verb === "accept" ? "Accept" : "Decline";
        b.className = verb === "accept" ? "primary" : "danger";
        b.id = "condition-" + verb;
        b.onclick = async () => {
          b.disabled = true;
          try { render(await api("POST", "/api/v1/sales/" + sale.id + "/conditions/" + c.id + "/" + verb, {})); }
          catch (e) { $("sale-reason").textContent = e.message; b.disabled = false; }
        };
        box.appendChild(b);
      }
    } else {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "Waiting for the patron to answer in their app.";
      box.appendChild(p);
    }
    conds.appendChild(box);
  }
}

// renderPreAuth shows what a pre-auth holds: authorised, confirmed, and
// what remains to confirm or release.
function renderPreAuth(sale, paid) {
  const box = $("preauth");
  const pr = sale.paymentRequest || {};
  box.hidden = !(sale.preAuth && sale.status === "paid");
  if (box.hidden) return;
  const cur = sale.currency, confirmed = sale.confirmed || 0;
  const released = pr.preAuthStatus === "released";
  const left = released ? 0 : paid - confirmed;
  let text = "Authorised " + money(paid, cur) + " · confirmed " + money(confirmed, cur) + " · ";
  text += released ? "the rest released" : money(left, cur) + " remaining authorised";
  if (!released && pr.preAuthExpiresAt) text += " (until " + when(pr.preAuthExpiresAt, { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" }) + ")";
  $("preauth-text").textContent = text;
  $("confirm-form").hidden = released || left <= 0;
  $("release").hidden = released;
}

async function confirmPreAuth(ev) {
  ev.preventDefault();
  if (!current) return;
  const out = $("preauth-result");
  const value = cents($("confirm-amount").value);
  if (value === null || value <= 0) { out.className = "error"; out.textContent = "Enter the amount to confirm, such as 20.00"; return; }
  const body = { invoiceRef: current.externalRef, lineItems: [{ name: "Pre-auth confirmation", qty: "1", price: String(value) }] };
  const id = current.id;
  await busy([$("confirm"), $("release")], async () => {
    out.className = "";
    out.textContent = "Confirming " + money(value, current.currency) + "…";
    try {
      const op = await api("POST", "/api/v1/sales/" + id + "/confirmations", body, confirmIntent.key({ id, body }));
      confirmIntent.done();
      out.textContent = op.state === "succeeded" ? "Confirmed " + money(op.amount, current.currency) : "Confirmation of " + money(op.amount, current.currency) + " sent; Centrapay has not answered yet";
      $("confirm-amount").value = "";
    } catch (e) { out.className = "error"; out.textContent = e.message; }
    await refresh();
  });
}

async function releasePreAuth() {
  if (!current) return;
  const out = $("preauth-result");
  const id = current.id;
  await busy([$("confirm"), $("release")], async () => {
    try {
      const op = await api("POST", "/api/v1/sales/" + id + "/release", {}, "release-" + id);
      out.className = "";
      out.textContent = op.state === "failed" ? "Release failed: " + (op.message || op.error) : "Released what was not confirmed";
    } catch (e) { out.className = "error"; out.textContent = e.message; }
    await refresh();
  });
}

async function cancelSale(id) {
  try {
    const sale = await api("POST", "/api/v1/sales/" + id + "/cancel", {}, "cancel-" + id);
    if (current && current.id === id) render(sale);
  } catch (e) {
    if (current && current.id === id) $("sale-reason").textContent = e.message;
    else alert(e.message);
  }
  loadList();
}

function newSale() {
  if (events) events.close();
  events = null;
  current = null;
  $("current").hidden = true;
  $("new-sale").hidden = false;
  $("sale-form").reset();
  $("item-rows").innerHTML = "";
  $("items-table").hidden = true;
  $("amount").readOnly = false;
  $("items-total").textContent = "";
  $("barcode-check").textContent = "";
  $("preauth-result").textContent = "";
  $("amount").focus();
}

// --- refunds ---

async function sendRefund(body, label, out) {
  out.className = "";
  out.textContent = "Refunding " + money(body.value) + "…";
  const op = await api("POST", "/api/v1/refunds", body, refundIntent.key(body));
  refundIntent.done();
  lastRefund = { id: op.id, amount: op.amount, label, out };
  refundSays(op.refundStatus || (op.state === "succeeded" ? "pending" : "sending"));
  return op;
}

// lastRefund is the refund the cashier last made: its message follows its
// status as the list reads it again.
let lastRefund = null;

function refundSays(status) {
  const r = lastRefund;
  if (!r) return;
  r.out.className = status === "failed" ? "error" : "";
  r.out.textContent = status === "refunded" ? "Refunded " + money(r.amount) + " of " + r.label + " (" + r.id + ")"
    : status === "pending" ? "Refund pending: Centrapay accepted " + money(r.amount) + " of " + r.label + " and has not completed it yet (" + r.id + ")"
      : status === "failed" ? "Refund of " + money(r.amount) + " of " + r.label + " failed (" + r.id + ")"
        : "Refund of " + money(r.amount) + " sent; Centrapay has not confirmed it yet (" + r.id + "): it is retried until it answers";
}

async function refund(ev) {
  ev.preventDefault();
  const out = $("refund-result");
  const value = cents($("refund-amount").value);
  if (value === null || value <= 0) { out.textContent = "Enter an amount such as 5.00"; out.className = "error"; return; }
  const code = $("refund-code").value.trim();
  const body = { value, reason: $("refund-reason").value.trim() };
  if (/^cp[-\s]?/i.test(code)) body.shortCode = code; else body.externalRef = code;
  await busy([$("refund-submit")], async () => {
    try {
      await sendRefund(body, code, out);
      $("refund-form").reset(); // done: the next refund starts from an empty form
      loadList();
      if (current) refresh();
    } catch (e) {
      out.className = "error";
      out.textContent = e.message;
    }
  });
}

const tenderIntent = intentKeeper();

// takeRest records that the till took what a part-paid sale still owes
// in cash or by card (outside Centrapay), once: one key per press, the
// buttons disabled while it is in flight.
async function takeRest(method) {
  if (!current) return;
  const amount = stillToPay(current);
  if (amount <= 0) return;
  const body = { method, amount };
  const out = $("tender-result");
  await busy([$("take-cash"), $("take-card"), $("refund-paid")], async () => {
    try {
      const sale = await api("POST", "/api/v1/sales/" + current.id + "/tenders", body, tenderIntent.key(body));
      tenderIntent.done();
      out.className = "ok";
      out.textContent = money(amount, sale.currency) + (method === "cash" ? " taken in cash." : " taken by card.");
      render(sale);
    } catch (e) {
      out.className = "error";
      out.textContent = e.message;
    }
    loadList();
  });
}

// refundPaid refunds what a part-paid sale took, when the rest is not
// paid another way.
async function refundPaid() {
  if (!current) return;
  const value = paidOf(current) - current.refunded;
  if (value <= 0) return;
  const body = { saleId: current.id, value, reason: "part payment: the rest was not paid" };
  await busy([$("refund-paid")], async () => {
    try { await sendRefund(body, current.externalRef, $("refund-result")); }
    catch (e) { $("refund-result").className = "error"; $("refund-result").textContent = e.message; }
    await refresh();
    loadList();
  });
}

// refundFrom fills the refund form for a sale of the list.
function refundFrom(s) {
  $("refund-code").value = s.paymentRequest ? s.paymentRequest.shortCode : s.externalRef;
  $("refund-amount").value = plain(paidOf(s) - s.refunded);
  $("refund-result").textContent = "";
  $("refund").scrollIntoView({ block: "nearest" });
  $("refund-amount").focus();
  $("refund-amount").select();
}

// resume takes up this till's open sale after a reload, with its QR code,
// status and Cancel button.
async function resume() {
  const q = "?open=true&limit=1&terminal=" + encodeURIComponent(document.body.dataset.terminal);
  try {
    const list = await api("GET", "/api/v1/sales" + q);
    if (list.items && list.items.length) follow(list.items[0]);
  } catch (e) { /* nothing to take up */ }
}

// --- the list of sales: a day, a status, a page at a time ---

const pageSize = 10;
// cursors[i] is the startingAfter of page i (page 0 has none).
let cursors = [""];
let pageIndex = 0;
let listSeq = 0;
let listTimer = null;

function listDay() {
  return $("filter-day").value || document.body.dataset.today || "today";
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  if (text instanceof Node) td.appendChild(text); else td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function action(label, cls, fn) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small " + cls;
  b.textContent = label;
  b.onclick = fn;
  return b;
}

function saleRow(s) {
  const cur = s.currency;
  const tr = document.createElement("tr");
  tr.className = "sale-row";
  tr.dataset.sale = s.id;
  // the sale: its receipt number, then when (the store's time) and its code
  const ref = document.createElement("span");
  ref.className = "ref" + (s.externalRef.length > 14 ? " long" : "");
  ref.textContent = s.externalRef;
  const at = document.createElement("span");
  at.className = "hint when";
  at.textContent = clock(s.createdAt) + (s.paymentRequest ? " · " + s.paymentRequest.shortCode : "") +
    (s.terminalId !== document.body.dataset.terminal ? " · " + s.terminalId : ""); // a manager sees every till's
  const saleCell = cell(tr, ref, "sale");
  saleCell.appendChild(at);
  const state = stateOf(s);
  const st = document.createElement("span");
  st.className = "tag " + state.cls;
  st.textContent = state.label;
  const stCell = cell(tr, st);
  const code = declineCode(s);
  if (code) {
    const c = document.createElement("span");
    c.className = "hint code";
    c.textContent = code;
    stCell.append(" ", c);
  }
  const amt = cell(tr, money(s.value, cur), "n");
  if (stillToPay(s) > 0) {
    const owed = document.createElement("div");
    owed.className = "owed-note";
    owed.textContent = money(stillToPay(s), cur) + " still to pay";
    amt.appendChild(owed);
  }
  for (const t of s.tenders || []) {
    const c = document.createElement("div");
    c.className = "hint";
    c.textContent = money(t.amount, cur) + (t.method === "cash" ? " in cash" : " by card");
    amt.appendChild(c);
  }
  if (s.preAuth && s.status === "paid") {
    const c = document.createElement("div");
    c.className = "hint";
    c.textContent = money(s.confirmed || 0, cur) + " confirmed";
    amt.appendChild(c);
  }
  cell(tr, (s.paidBy || []).map((p) => p.description).join(", "));
  const acts = document.createElement("div");
  acts.className = "actions";
  if (["paid", "cancelled", "expired", "failed"].includes(s.status)) {
    const a = document.createElement("a");
    a.className = "button small receipt-link";
    a.href = "/api/v1/sales/" + s.id + "/receipt";
    a.target = "_blank";
    a.textContent = "Receipt";
    acts.appendChild(a);
  }
  // a pre-auth's money is refunded by confirmation, not from its row
  if (s.status === "paid" && !s.preAuth && paidOf(s) - s.refunded > 0) acts.appendChild(action("Refund", "refund-action", () => refundFrom(s)));
  if (s.status === "pending" || s.status === "resolving") acts.appendChild(action("Cancel", "danger cancel-action", () => cancelSale(s.id)));
  cell(tr, acts, "acts");
  const rows = [tr];
  for (const rf of s.refunds || []) {
    const r = document.createElement("tr");
    r.className = "refund-row";
    const what = document.createElement("span");
    what.textContent = "↳ refund";
    const rat = document.createElement("span");
    rat.className = "hint when";
    rat.textContent = clock(rf.createdAt);
    cell(r, what, "sale").appendChild(rat);
    const tag = document.createElement("span");
    tag.className = "tag refund-" + rf.status;
    tag.textContent = refundWords[rf.status] || rf.status;
    cell(r, tag);
    cell(r, "−" + money(rf.amount, cur), "n");
    cell(r, [rf.reason, rf.error].filter(Boolean).join(" · "));
    cell(r, "");
    rows.push(r);
  }
  return rows;
}

// updateRow shows a sale's new state in its row of the list, if shown.
function updateRow(sale) {
  const tr = document.querySelector('#transactions tr.sale-row[data-sale="' + CSS.escape(sale.id) + '"]');
  if (!tr) return;
  for (let next = tr.nextElementSibling; next && next.classList.contains("refund-row"); next = tr.nextElementSibling) next.remove();
  tr.replaceWith(...saleRow(sale));
}

async function loadList() {
  const seq = ++listSeq;
  const day = listDay();
  const q = new URLSearchParams({ day, limit: String(pageSize) });
  if ($("filter-status").value) q.set("status", $("filter-status").value);
  if ($("filter-till") && $("filter-till").value) q.set("terminal", $("filter-till").value); // a manager's
  if (cursors[pageIndex]) q.set("startingAfter", cursors[pageIndex]);
  let page;
  try { page = await api("GET", "/api/v1/sales?" + q); } catch (e) {
    $("list-empty").hidden = false;
    $("list-empty").textContent = e.message;
    return;
  }
  if (seq !== listSeq) return; // a newer load is on its way
  $("today-date").textContent = (day === document.body.dataset.today ? "today, " : "") + dayName(day);
  const tb = document.querySelector("#transactions tbody");
  tb.innerHTML = "";
  for (const s of page.items) {
    tb.append(...saleRow(s));
    const rf = lastRefund && (s.refunds || []).find((r) => r.id === lastRefund.id);
    if (rf) refundSays(rf.status);
  }
  $("list-empty").hidden = page.items.length > 0;
  $("list-empty").textContent = pageIndex > 0 ? "No more sales." : "No sales on this day" + ($("filter-status").value ? " with this status." : ".");
  cursors.length = pageIndex + 1;
  if (page.hasMore) cursors.push(page.nextCursor);
  $("page-older").disabled = !page.hasMore;
  $("page-newer").disabled = pageIndex === 0;
  $("page-no").textContent = page.hasMore || pageIndex > 0 ? "Page " + (pageIndex + 1) : "";
  loadTotals(day);
  // a refund Centrapay has not completed, or a sale still open, is read
  // again until it is: the list never says refunded before Centrapay does
  clearTimeout(listTimer);
  const moving = page.items.some((s) => ["pending", "resolving"].includes(s.status) || (s.refunds || []).some((r) => r.status === "sending" || r.status === "pending"));
  if (moving) listTimer = setTimeout(loadList, 4000);
}

function firstPage() {
  cursors = [""];
  pageIndex = 0;
  loadList();
}

// loadTotals shows the day's totals by asset type. The server picks the
// day in the store's zone, never the browser's date.
async function loadTotals(day) {
  let q = "?day=" + encodeURIComponent(day);
  if ($("filter-till") && $("filter-till").value) q += "&terminal=" + encodeURIComponent($("filter-till").value);
  $("csv").href = "/api/v1/reports/transactions" + q + "&format=csv";
  $("z-report").href = "/api/v1/reports/z" + q + "&format=html";
  let rep;
  try { rep = await api("GET", "/api/v1/reports/transactions" + q); } catch (e) { return; }
  const tt = document.querySelector("#totals tbody");
  tt.innerHTML = "";
  for (const t of rep.totals || []) {
    const tr = document.createElement("tr");
    // report amounts are decimal strings ("12.50") in t.currency
    cell(tr, t.description + " (" + t.assetType + ")", "asset");
    cell(tr, String(t.payments), "n").dataset.label = "Count";
    for (const [label, v] of [["Paid", t.paid], ["Refunded", t.refunded], ["Net", t.net]]) cell(tr, moneyText(String(v), t.currency), "n").dataset.label = label;
    tt.appendChild(tr);
  }
}

// --- the keyboard ---

// A USB barcode scanner types a code's digits much faster than a person,
// then Enter. Wherever the cursor is, such a burst is taken out of the
// field it landed in and put in the barcode field, and the sale is paid by
// barcode. (The refund field keeps what is scanned into it: receipts.)
const scanGap = 60; // ms between a scanner's keys at most; 8 digits or more this fast, then Enter, is no person
let burst = null;

function scannerKeys(ev) {
  const t = ev.target;
  if (t === $("barcode") || t === $("refund-code") || $("new-sale").hidden || ev.ctrlKey || ev.altKey || ev.metaKey) { burst = null; return; }
  const now = performance.now();
  if (/^[0-9]$/.test(ev.key)) {
    if (!burst || now - burst.last > scanGap) {
      const input = t instanceof HTMLInputElement ? t : null;
      burst = { digits: "", input, before: input ? input.value : null, start: input ? input.selectionStart : null };
    }
    burst.digits += ev.key;
    burst.last = now;
    return;
  }
  if (ev.key === "Enter" && burst && burst.digits.length >= 8 && now - burst.last <= 4 * scanGap) {
    ev.preventDefault();
    ev.stopPropagation();
    if (burst.input) burst.input.value = burst.before; // what the scan typed there goes
    const b = $("barcode");
    b.value = burst.digits;
    b.dispatchEvent(new Event("input"));
    b.focus();
    burst = null;
    if (cents($("amount").value)) startSale("barcode");
    else { $("form-error").textContent = "Barcode scanned: enter the amount, then Enter"; $("amount").focus(); }
    return;
  }
  burst = null;
  // Enter with the cursor nowhere pays too
  if (ev.key === "Enter" && (t === document.body || t === document.documentElement)) {
    ev.preventDefault();
    startSale($("barcode").value.trim() ? "barcode" : "qr");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("sale-form").onsubmit = (ev) => {
    ev.preventDefault();
    const flow = ev.submitter && ev.submitter.dataset.flow;
    startSale(flow || ($("barcode").value.trim() ? "barcode" : "qr"));
  };
  // Enter in any field pays: by barcode when there is one, else by QR
  $("sale-form").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !(ev.target instanceof HTMLInputElement)) return;
    ev.preventDefault();
    startSale($("barcode").value.trim() ? "barcode" : "qr");
  });
  document.addEventListener("keydown", scannerKeys, true);
  $("add-item").onclick = addItemRow;
  $("barcode").oninput = () => {
    const input = $("barcode");
    input.value = input.value.replace(/\D/g, "");
    const p = input.value ? barcodeProblem(input.value) : "";
    $("barcode-check").textContent = input.value ? (p ? "✗ " + p : "✓ valid code") : "";
    input.setCustomValidity(p);
  };
  $("cancel").onclick = () => current && busy([$("cancel")], () => cancelSale(current.id));
  $("done").onclick = newSale;
  $("refund-form").onsubmit = refund;
  $("refund-paid").onclick = refundPaid;
  $("take-cash").onclick = () => takeRest("cash");
  $("take-card").onclick = () => takeRest("card");
  $("confirm-form").onsubmit = confirmPreAuth;
  $("release").onclick = releasePreAuth;
  $("filter-day").onchange = firstPage;
  $("filter-status").onchange = firstPage;
  if ($("filter-till")) $("filter-till").onchange = firstPage;
  $("page-older").onclick = () => { if (cursors[pageIndex + 1]) { pageIndex++; loadList(); } };
  $("page-newer").onclick = () => { if (pageIndex > 0) { pageIndex--; loadList(); } };
  loadList();
  resume();
});
