// The customer display: follows the terminal's latest sale.
"use strict";

const $ = (id) => document.getElementById(id);

function money(c) {
  return Math.floor(c / 100) + "." + String(c % 100).padStart(2, "0");
}

function render(sale) {
  $("amount").textContent = "$" + money(sale.value);
  const st = $("status");
  const words = { pending: "Scan to pay", resolving: "One moment…", paid: "Paid — thank you!", cancelled: "Cancelled", expired: "Timed out", failed: "Payment not started" };
  st.textContent = sale.flow === "barcode" && sale.status === "pending" ? "Approve the payment in your app" : words[sale.status] || sale.status;
  st.className = "status " + sale.status;
  const qr = $("qr");
  if (sale.paymentRequest && sale.flow === "qr" && sale.status === "pending") {
    const src = "/api/v1/sales/" + sale.id + "/qr.png?scale=10";
    if (qr.getAttribute("src") !== src) qr.src = src;
    qr.hidden = false;
  } else {
    qr.hidden = true;
  }
  const rem = $("remaining");
  rem.hidden = !(sale.status === "paid" && sale.remainingAmount > 0);
  rem.textContent = "Still to pay: $" + money(sale.remainingAmount);
  $("paid-by").textContent = (sale.paidBy || []).map((p) => "Paid by " + p.description).join(", ");
}

document.addEventListener("DOMContentLoaded", () => {
  const es = new EventSource("/display/" + encodeURIComponent(document.body.dataset.terminal) + "/events");
  es.addEventListener("sale", (ev) => render(JSON.parse(ev.data)));
});
