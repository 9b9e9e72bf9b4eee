// The cashier page: rings up sales through the terminal API and follows
// them by Server-Sent Events. Amounts are handled as whole cents (strings
// are parsed, never floats).
"use strict";

const $ = (id) => document.getElementById(id);

// cents parses "12", "12.5" or "12.50" into 1250; null if it is not an amount.
function cents(text) {
  const m = /^\s*(\d{1,6})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return parseInt(m[1], 10) * 100 + parseInt((m[2] || "0").padEnd(2, "0"), 10);
}

function money(c) {
  const s = c < 0 ? "-" : "";
  c = Math.abs(c);
  return s + Math.floor(c / 100) + "." + String(c % 100).padStart(2, "0");
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

// busy disables the buttons while a request they started is in flight, so
// a double press sends one request.
async function busy(buttons, fn) {
  if (buttons.some((b) => b.disabled)) return;
  for (const b of buttons) b.disabled = true;
  try { return await fn(); } finally { for (const b of buttons) b.disabled = false; }
}

let current = null;
let events = null;

function itemRows() {
  return Array.from(document.querySelectorAll(".item-row")).map((row) => {
    const [name, price] = row.querySelectorAll("input");
    return { name: name.value.trim(), qty: "1", price: cents(price.value) };
  }).filter((i) => i.name !== "" || i.price !== null);
}

function addItemRow() {
  const row = document.createElement("div");
  row.className = "item-row";
  row.innerHTML = '<input placeholder="Item" aria-label="Item name"><input placeholder="0.00" inputmode="decimal" aria-label="Item price"><button type="button" aria-label="Remove item">×</button>';
  row.querySelector("button").onclick = () => row.remove();
  $("item-rows").appendChild(row);
}

async function startSale(flow) {
  $("form-error").textContent = "";
  const value = cents($("amount").value);
  if (value === null || value <= 0) { $("form-error").textContent = "Enter an amount such as 12.50"; return; }
  const body = { value, flow };
  if ($("ref").value.trim()) body.externalRef = $("ref").value.trim();
  if (flow === "barcode") {
    const problem = barcodeProblem($("barcode").value.trim());
    if (problem) { $("form-error").textContent = "Barcode: " + problem; return; }
    body.barcode = $("barcode").value.trim();
  }
  const items = itemRows();
  if (items.length) {
    if (items.some((i) => i.name === "" || i.price === null)) { $("form-error").textContent = "Each item needs a name and a price"; return; }
    body.lineItems = items.map((i) => ({ name: i.name, qty: i.qty, price: String(i.price) }));
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

function follow(sale) {
  current = sale;
  $("new-sale").hidden = true;
  $("current").hidden = false;
  render(sale);
  if (events) events.close();
  events = new EventSource("/api/v1/sales/" + sale.id + "/events");
  events.addEventListener("sale", (ev) => render(JSON.parse(ev.data)));
}

function render(sale) {
  current = sale;
  $("sale-ref").textContent = sale.externalRef;
  $("sale-amount").textContent = "$" + money(sale.value);
  const st = $("sale-status");
  st.textContent = sale.status;
  st.className = "status " + sale.status;
  $("sale-reason").textContent = sale.reason || "";
  const pr = sale.paymentRequest;
  $("sale-code").textContent = pr ? "Code " + pr.shortCode : "";
  const qr = $("sale-qr");
  if (pr && sale.flow === "qr" && sale.status === "pending") {
    const src = "/api/v1/sales/" + sale.id + "/qr.svg";
    if (qr.getAttribute("src") !== src) qr.src = src;
    qr.hidden = false;
  } else {
    qr.hidden = true;
  }
  const conds = $("conditions");
  conds.innerHTML = "";
  for (const c of sale.conditions || []) {
    const box = document.createElement("div");
    box.className = "condition";
    const msg = document.createElement("p");
    msg.textContent = c.message || c.name; // Centrapay's message, verbatim
    box.appendChild(msg);
    if (c.status === "awaiting-merchant") {
      for (const verb of ["accept", "decline"]) {
        const b = document.createElement("button");
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
    } else if (c.status === "awaiting-patron") {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "Waiting for the patron.";
      box.appendChild(p);
    }
    conds.appendChild(box);
  }
  const rem = $("remaining");
  rem.hidden = !(sale.status === "paid" && sale.remainingAmount > 0);
  rem.textContent = "Part paid: collect the remaining $" + money(sale.remainingAmount) + " another way.";
  $("paid-by").textContent = (sale.paidBy || []).map((p) => "Paid by " + p.description + " (" + p.assetType + ") $" + money(p.amount)).join("; ");
  const final = ["paid", "cancelled", "expired", "failed"].includes(sale.status);
  $("cancel").hidden = final;
  $("done").hidden = !final;
  const receipt = $("receipt");
  receipt.hidden = !final;
  receipt.href = "/api/v1/sales/" + sale.id + "/receipt";
  if (final) loadToday();
}

async function cancelSale() {
  if (!current) return;
  const id = current.id;
  await busy([$("cancel")], async () => {
    try { render(await api("POST", "/api/v1/sales/" + id + "/cancel", {}, "cancel-" + id)); }
    catch (e) { $("sale-reason").textContent = e.message; }
  });
}

function newSale() {
  if (events) events.close();
  current = null;
  $("current").hidden = true;
  $("new-sale").hidden = false;
  $("sale-form").reset();
  $("item-rows").innerHTML = "";
  $("barcode-check").textContent = "";
  $("amount").focus();
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
    out.className = "";
    out.textContent = "Refunding $" + money(value) + "…";
    try {
      const op = await api("POST", "/api/v1/refunds", body, refundIntent.key(body));
      refundIntent.done();
      out.textContent = op.state === "succeeded"
        ? "Refunded $" + money(op.amount) + " of " + code + " (" + op.id + ")"
        : "Refund of $" + money(op.amount) + " sent; Centrapay has not confirmed it yet (" + op.id + "): it is retried until it answers";
      $("refund-form").reset(); // done: the next refund starts from an empty form
      loadToday();
    } catch (e) {
      out.className = "error";
      out.textContent = e.message;
    }
  });
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

// zoned formats times in the store's time zone (the server's --timezone),
// not the browser's, so the list agrees with the receipts.
function zoned(opts) {
  const zone = document.body.dataset.zone;
  return zone ? Object.assign({ timeZone: zone }, opts) : opts;
}

// loadToday shows the store's day as the server's clock sees it: the
// server picks the day (day=today), never the browser's date.
async function loadToday() {
  const q = "?day=today";
  $("csv").href = "/api/v1/reports/transactions" + q + "&format=csv";
  let rep;
  try { rep = await api("GET", "/api/v1/reports/transactions" + q); } catch (e) { return; }
  $("today-date").textContent = new Date(rep.from).toLocaleDateString(undefined, zoned({ weekday: "short", day: "numeric", month: "short" }));
  const tb = document.querySelector("#transactions tbody");
  tb.innerHTML = "";
  for (const s of rep.transactions || []) {
    const tr = document.createElement("tr");
    const cells = [new Date(s.createdAt).toLocaleTimeString(undefined, zoned({})), s.externalRef, s.status, money(s.value),
      (s.paidBy || []).map((p) => p.description + " (" + p.assetType + ")").join(", "), s.refunded ? money(s.refunded) : ""];
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    tb.appendChild(tr);
  }
  const tt = document.querySelector("#totals tbody");
  tt.innerHTML = "";
  for (const t of rep.totals || []) {
    const tr = document.createElement("tr");
    // report amounts are decimal strings ("12.50") in t.currency
    for (const c of [t.description + " (" + t.assetType + ")", t.payments, t.paid, t.refunded, t.net]) {
      const td = document.createElement("td"); td.textContent = c; tr.appendChild(td);
    }
    tt.appendChild(tr);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  let flow = "qr";
  for (const b of document.querySelectorAll("#sale-form button[data-flow]")) b.onclick = () => { flow = b.dataset.flow; };
  $("sale-form").onsubmit = (ev) => { ev.preventDefault(); startSale(flow); };
  $("add-item").onclick = addItemRow;
  $("barcode").oninput = () => {
    const input = $("barcode");
    input.value = input.value.replace(/\D/g, "");
    const p = input.value ? barcodeProblem(input.value) : "";
    $("barcode-check").textContent = input.value ? (p ? "✗ " + p : "✓ valid code") : "";
    input.setCustomValidity(p);
  };
  // a scanner types the digits then Enter: pay by barcode
  $("barcode").onkeydown = (ev) => { if (ev.key === "Enter") { ev.preventDefault(); startSale("barcode"); } };
  $("cancel").onclick = cancelSale;
  $("done").onclick = newSale;
  $("refund-form").onsubmit = refund;
  loadToday();
  resume();
});
