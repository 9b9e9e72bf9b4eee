package centrapay

import (
	"encoding/json"
	"testing"
)

func TestBigNumberJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    BigNumber
		wantErr bool
	}{
		{in: `"10000"`, want: "10000"},
		{in: `"15.00"`, want: "15.00"},
		{in: `"-400"`, want: "-400"},
		{in: `100`, want: "100"},
		{in: `""`, want: ""},
		{in: `null`, want: ""},
		{in: `"1e5"`, wantErr: true},
		{in: `1e5`, wantErr: true},
		{in: `"12a"`, wantErr: true},
		{in: `"."`, wantErr: true},
		{in: `"1."`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		var b BigNumber
		err := json.Unmarshal([]byte(tt.in), &b)
		if (err != nil) != tt.wantErr {
			t.Errorf("Unmarshal(%s) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && b != tt.want {
			t.Errorf("Unmarshal(%s) = %q, want %q", tt.in, b, tt.want)
		}
	}
	out, err := json.Marshal(Monetary{Amount: Int64BigNumber(9000), Currency: "NZD"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"amount":"9000","currency":"NZD"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

func TestBigNumberInt64(t *testing.T) {
	tests := []struct {
		in      BigNumber
		want    int64
		wantErr bool
	}{
		{in: "8991", want: 8991},
		{in: "-1", want: -1},
		{in: "15.00", want: 15},
		{in: "15.50", wantErr: true},
		{in: "", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "abc", wantErr: true},
	}
	for _, tt := range tests {
		got, err := tt.in.Int64()
		if (err != nil) != tt.wantErr {
			t.Errorf("%q.Int64() error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%q.Int64() = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestBigNumberCmpAndParse(t *testing.T) {
	if BigNumber("15.00").Cmp("15") != 0 {
		t.Error(`"15.00" != "15"`)
	}
	if BigNumber("0.1").Cmp("0.09") != 1 {
		t.Error(`"0.1" <= "0.09"`)
	}
	if BigNumber("").Cmp("1") != -1 {
		t.Error(`absent >= 1`)
	}
	if _, err := ParseBigNumber("12,50"); err == nil {
		t.Error(`ParseBigNumber("12,50") accepted`)
	}
	if b, err := ParseBigNumber("12.50"); err != nil || b != "12.50" {
		t.Errorf(`ParseBigNumber("12.50") = %q, %v`, b, err)
	}
}
