// The customer display: follows the terminal's latest sale. A patron reads
// it from a metre away: the basket and the total while they pay, what the
// cashier needs from them, and whether all of it is paid.
"use strict";

const $ = (id) => document.getElementById(id);

const symbols = { NZD: "NZ$", AUD: "A$", USD: "US$", CAD: "CA$", FJD: "FJ$", SGD: "S$", HKD: "HK$" };

// money writes whole cents as the cashier's page does: NZ$12.50.
function money(c, currency) {
  currency = currency || "NZD";
  const n = Math.floor(c / 100) + "." + String(c % 100).padStart(2, "0");
  return symbols[currency] ? symbols[currency] + n : n + " " + currency;
}

const declines = ["PAYMENT_DECLINED", "DECLINED_BY_PATRON", "DECLINED_BY_MERCHANT", "INSUFFICIENT_ASSET_VALUE", "INACTIVE_ASSET", "PATRON_CODE_INVALID", "PATRON_CODE_EXPIRED", "NO_AVAILABLE_PAYMENT_OPTIONS", "PAYMENT_FAILED"];

function declined(sale) {
  const pr = sale.paymentRequest || {};
  return pr.cancellationReason ? declines.includes(pr.cancellationReason) : sale.status === "failed" && declines.some((c) => (sale.reason || "").includes(c));
}

// idleAfter is how long a finished sale stays on the screen.
const idleAfter = 30000;
let idleTimer = null;

function idle() {
  document.body.classList.add("idle");
  $("idle").hidden = false;
  $("sale").hidden = true;
}

// conditionText is what the patron is asked for: an ID the cashier checks,
// or Centrapay's message to the patron, verbatim.
function conditionText(sale) {
  for (const c of sale.conditions || []) {
    if (c.status === "awaiting-merchant") {
      return /photo|id/i.test(c.name + " " + (c.message || "")) ? "Please show your photo ID to the cashier" : "Please wait: the cashier is checking your payment";
    }
    if (c.status === "awaiting-patron") return (c.message || c.name) + " — answer in your app";
  }
  return "";
}

function render(sale, first) {
  clearTimeout(idleTimer);
  const final = ["paid", "cancelled", "expired", "failed"].includes(sale.status);
  if (first && final) { idle(); return; } // a sale that ended before the screen opened
  document.body.classList.remove("idle");
  $("idle").hidden = true;
  $("sale").hidden = false;
  const cur = sale.currency;
  $("amount").textContent = money(sale.value, cur);
  const basket = $("basket");
  const tb = basket.querySelector("tbody");
  tb.innerHTML = "";
  for (const li of sale.lineItems || []) {
    const tr = document.createElement("tr");
    for (const [text, cls] of [[li.qty + " ×", "qty"], [li.name, "name"], [money(parseInt(li.price, 10), cur), "n"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = cls;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  basket.hidden = !tb.children.length;
  const tendered = (sale.tenders || []).reduce((n, t) => n + t.amount, 0);
  const paid = (sale.paidBy || []).reduce((n, p) => n + p.amount, 0) + tendered;
  const owed = sale.status === "paid" && !sale.preAuth ? Math.max((sale.remainingAmount || 0) - tendered, 0) : 0;
  const part = owed > 0;
  const st = $("status");
  const words = { pending: "Scan to pay", resolving: "One moment…", paid: "Paid — thank you!", cancelled: "Cancelled", expired: "Timed out", failed: "Payment not started" };
  let text = words[sale.status] || sale.status, cls = sale.status;
  if (sale.status === "pending" && sale.flow === "barcode") text = "Approve the payment in your app";
  const cond = conditionText(sale);
  if (sale.status === "pending" && cond) text = "One moment";
  if (sale.status === "paid" && sale.preAuth) text = "Authorised — thank you!";
  if (part) { text = "Part paid"; cls = "part"; }
  if (declined(sale)) { text = "Declined"; cls = "declined"; }
  st.textContent = text;
  st.className = "status " + cls;
  st.dataset.status = sale.status; // the API's word, for scripts that drive the page
  const rem = $("remaining");
  rem.hidden = !part;
  rem.textContent = "Paid " + money(paid, cur) + " — " + money(owed, cur) + " still to pay";
  $("condition").hidden = !cond || sale.status !== "pending";
  $("condition").textContent = cond;
  $("reason").textContent = declined(sale) ? "Your payment was declined. Please pay another way." : "";
  const qr = $("qr");
  const showQR = !!sale.paymentRequest && sale.flow === "qr" && sale.status === "pending";
  if (showQR) {
    const src = "/api/v1/sales/" + sale.id + "/qr.png?scale=10";
    if (qr.getAttribute("src") !== src) qr.src = src;
  }
  qr.hidden = !showQR;
  $("qr-side").hidden = !showQR;
  $("sale").classList.toggle("with-qr", showQR);
  $("paid-by").textContent = (sale.paidBy || []).map((p) => "Paid by " + p.description + " " + money(p.amount, cur)).join(", ");
  if (final) idleTimer = setTimeout(idle, idleAfter);
}

document.addEventListener("DOMContentLoaded", () => {
  let first = true;
  const es = new EventSource("/display/" + encodeURIComponent(document.body.dataset.terminal) + "/events");
  es.addEventListener("sale", (ev) => { render(JSON.parse(ev.data), first); first = false; });
});
