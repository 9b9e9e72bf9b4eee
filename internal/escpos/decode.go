package escpos

import (
	"fmt"
	"strings"
)

// Cmd is one command of a stream, as Decode reads it.
type Cmd struct {
	// Name is the command as the reference writes it: "ESC @", "ESC t",
	// "ESC a", "ESC E", "GS !", "ESC d", "GS h", "GS w", "GS H", "GS V",
	// "QR model", "QR size", "QR level", "QR store", "QR print",
	// "Code 128", or "text" for a printed line (LF ends it).
	Name string
	// Arg is the command's argument: the code page, alignment, bold,
	// size byte, lines fed, the barcode's height, width or text position,
	// the QR model, size or level, the cut's function.
	Arg int
	// Text is a text line (without its LF) in UTF-8, a QR code's data, or
	// a barcode's data (without the code set, braces undoubled).
	Text string
}

// Decode reads a stream that Writer wrote back into its commands. A byte
// or command the writer does not write is an error, so a test that
// decodes a stream proves that it holds nothing a printer would misread.
// Text is decoded with the code page the stream selected (ESC t); text
// left at the end without its LF is an error too: the printer would not
// print it.
func Decode(b []byte) ([]Cmd, error) {
	var out []Cmd
	cp := PC437
	var line []byte
	flush := func() {
		var s strings.Builder
		cm := cp.charmap()
		for _, c := range line {
			s.WriteRune(cm.DecodeByte(c))
		}
		out = append(out, Cmd{Name: "text", Text: s.String()})
		line = line[:0]
	}
	need := func(i, n int) error {
		if i+n > len(b) {
			return fmt.Errorf("escpos: stream ends inside the command at byte %d", i)
		}
		return nil
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == LF:
			flush()
			i++
			continue
		case c >= 0x20 && c != 0x7F:
			line = append(line, c)
			i++
			continue
		case c != ESC && c != GS:
			return nil, fmt.Errorf("escpos: control byte %#02x at %d", c, i)
		}
		if err := need(i, 2); err != nil {
			return nil, err
		}
		name := map[byte]string{ESC: "ESC ", GS: "GS "}[c] + string(b[i+1])
		if len(line) > 0 && name != "ESC E" && name != "GS !" {
			return nil, fmt.Errorf("escpos: %s at %d in the middle of a line", name, i)
		}
		switch name {
		case "ESC @":
			out = append(out, Cmd{Name: name})
			cp = PC437
			i += 2
		case "ESC t", "ESC a", "ESC E", "GS !", "ESC d", "GS h", "GS w", "GS H":
			if err := need(i, 3); err != nil {
				return nil, err
			}
			arg := b[i+2]
			switch {
			case name == "ESC t" && arg != byte(PC437) && arg != byte(PC858):
				return nil, fmt.Errorf("escpos: code page %d", arg)
			case name == "ESC a" && arg > 2, name == "ESC E" && arg > 1, name == "GS H" && arg > 3,
				name == "GS w" && (arg < 2 || arg > 6), name == "GS h" && arg < 1:
				return nil, fmt.Errorf("escpos: %s %d", name, arg)
			}
			if name == "ESC t" {
				cp = CodePage(arg)
			}
			out = append(out, Cmd{Name: name, Arg: int(arg)})
			i += 3
		case "GS V":
			if err := need(i, 4); err != nil {
				return nil, err
			}
			if m := b[i+2]; m != 65 && m != 66 {
				return nil, fmt.Errorf("escpos: GS V %d", m)
			}
			out = append(out, Cmd{Name: name, Arg: int(b[i+2])})
			i += 4
		case "GS k":
			if err := need(i, 4); err != nil {
				return nil, err
			}
			m, n := b[i+2], int(b[i+3])
			if m != 73 {
				return nil, fmt.Errorf("escpos: barcode system %d", m)
			}
			if err := need(i, 4+n); err != nil {
				return nil, err
			}
			data := string(b[i+4 : i+4+n])
			if !strings.HasPrefix(data, "{B") {
				return nil, fmt.Errorf("escpos: Code 128 data %q without code set B", data)
			}
			data = data[2:]
			for j := 0; j < len(data); j++ {
				if data[j] < 32 || data[j] > 126 {
					return nil, fmt.Errorf("escpos: Code 128 set B byte %#02x", data[j])
				}
				if data[j] == '{' {
					if j+1 >= len(data) || data[j+1] != '{' {
						return nil, fmt.Errorf("escpos: Code 128 function %q", data[j:])
					}
					data = data[:j] + data[j+1:]
				}
			}
			out = append(out, Cmd{Name: "Code 128", Text: data})
			i += 4 + n
		case "GS (":
			if err := need(i, 5); err != nil {
				return nil, err
			}
			if b[i+2] != 'k' {
				return nil, fmt.Errorf("escpos: GS ( %c", b[i+2])
			}
			p := int(b[i+3]) | int(b[i+4])<<8
			if err := need(i, 5+p); err != nil {
				return nil, err
			}
			args := b[i+5 : i+5+p]
			cmd, err := decodeQR(args)
			if err != nil {
				return nil, err
			}
			out = append(out, cmd)
			i += 5 + p
		default:
			return nil, fmt.Errorf("escpos: unknown command %s (%#02x %#02x) at %d", name, c, b[i+1], i)
		}
	}
	if len(line) > 0 {
		return nil, fmt.Errorf("escpos: text %q not ended by LF", line)
	}
	return out, nil
}

// decodeQR reads the arguments of a GS ( k command: cn fn and the rest.
func decodeQR(a []byte) (Cmd, error) {
	if len(a) < 3 || a[0] != 49 {
		return Cmd{}, fmt.Errorf("escpos: GS ( k %v: not a QR code command", a)
	}
	switch {
	case a[1] == 65 && len(a) == 4 && (a[2] == 49 || a[2] == 50) && a[3] == 0:
		return Cmd{Name: "QR model", Arg: int(a[2]) - 48}, nil
	case a[1] == 67 && len(a) == 3 && a[2] >= 1 && a[2] <= 16:
		return Cmd{Name: "QR size", Arg: int(a[2])}, nil
	case a[1] == 69 && len(a) == 3 && a[2] >= 48 && a[2] <= 51:
		return Cmd{Name: "QR level", Arg: int(a[2])}, nil
	case a[1] == 80 && a[2] == 48 && len(a) > 3:
		return Cmd{Name: "QR store", Text: string(a[3:])}, nil
	case a[1] == 81 && len(a) == 3 && a[2] == 48:
		return Cmd{Name: "QR print"}, nil
	}
	return Cmd{}, fmt.Errorf("escpos: GS ( k %v: a QR code function the writer does not use", a)
}

// Lines is the text lines of cmds, in order.
func Lines(cmds []Cmd) []string {
	var out []string
	for _, c := range cmds {
		if c.Name == "text" {
			out = append(out, c.Text)
		}
	}
	return out
}
