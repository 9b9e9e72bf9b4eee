package pos_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/centrapos/centrapos/centrapay"
	"github.com/centrapos/centrapos/clock"
	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/sandbox"
	"github.com/centrapos/centrapos/store/sqlite"
)

// Example embeds the engine in a Go POS: a journal, a Centrapay client
// (here on the sandbox), a sale by barcode, and the engine driving it.
// A real POS calls Run in a goroutine instead of Step.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pos-example")
	defer os.RemoveAll(dir)

	fake := clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sb, _ := sandbox.New(sandbox.Config{Clock: fake})
	centrapayServer := httptest.NewServer(sb)
	defer centrapayServer.Close()
	seed := sb.Seed()

	client, err := centrapay.NewClient(centrapay.WithBaseURL(centrapayServer.URL), centrapay.WithAPIKey(seed.APIKey), centrapay.WithClock(fake))
	if err != nil {
		log.Fatal(err)
	}
	journal, err := sqlite.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()
	engine, err := pos.New(pos.Config{Centrapay: client, Journal: journal, MerchantAccountID: seed.MerchantAccountID, Clock: fake})
	if err != nil {
		log.Fatal(err)
	}
	if err := engine.Recover(ctx); err != nil { // resume whatever a crash interrupted
		log.Fatal(err)
	}

	sale, err := engine.StartSale(ctx, pos.SaleInput{TerminalID: "till-1", DeviceID: "SN-42", ConfigID: seed.ConfigID,
		Value: 1250, ExternalRef: "R-1042", Flow: pos.FlowBarcode, Barcode: sb.Scenarios()["quick-pay"].Barcode})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sale.Status, sale.PaymentRequest.ShortCode)

	for engine.Step(ctx) > 0 { // the first poll takes the Quick Pay
	}
	sale, _ = engine.Sale(ctx, sale.ID)
	fmt.Println(sale.Status, "by", sale.PaidBy[0].Description)
	// Output:
	// pending CP-000-1Y
	// paid by Centrapay NZD wallet
}
