package sandbox

import "fmt"

// Scenario is a test barcode with a fixed patron behaviour.
type Scenario struct {
	Barcode     string `json:"barcode"`
	Description string `json:"description"`
}

// scenario names.
const (
	scQuickPay          = "quick-pay"
	scPatronApproval    = "patron-approval"
	scPhotoID           = "photo-id"
	scInsufficientFunds = "insufficient-funds"
	scPartial           = "partial"
	scPreAuth           = "pre-auth"
	scInvalid           = "invalid"
	scFarmlands         = "farmlands-card"
)

// Scenarios returns the test barcodes by name. The 16-digit ones carry a
// Centrapay prefix and a valid Luhn digit.
func (s *Sandbox) Scenarios() map[string]Scenario {
	return map[string]Scenario{
		scQuickPay:          {testBarcode(1), "paid on the first poll"},
		scPatronApproval:    {testBarcode(2), "waits for the patron to approve in the wallet or through the control API"},
		scPhotoID:           {testBarcode(3), "raises the photo-id condition (awaiting-merchant) when conditionsEnabled"},
		scInsufficientFunds: {testBarcode(4), "cancelled with PAYMENT_DECLINED on the first poll"},
		scPartial:           {testBarcode(5), "pays half of the value on the first poll: paid with a remainingAmount"},
		scPreAuth:           {testBarcode(6), "authorizes a pre-auth request on the first poll"},
		scInvalid:           {testBarcode(7), "create answers 403 PATRON_CODE_INVALID"},
		scFarmlands:         {"900000001", "a 9-digit Farmlands card: quick pay with farmlands.nzd.test"},
	}
}

// scenarioOf names the scenario of a barcode; other barcodes wait for the
// patron, like patron-approval.
func (s *Sandbox) scenarioOf(barcode string) string {
	for name, sc := range s.Scenarios() {
		if sc.Barcode == barcode {
			return name
		}
	}
	return scPatronApproval
}

// testBarcode is 121921, then n on 9 digits, then the Luhn check digit.
func testBarcode(n int) string {
	body := fmt.Sprintf("121921%09d", n)
	for d := byte('0'); d <= '9'; d++ {
		if luhnValid(body + string(d)) {
			return body + string(d)
		}
	}
	panic("unreachable")
}

// luhnValid reports whether the last digit of digits is its Luhn digit.
func luhnValid(digits string) bool {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if (len(digits)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
