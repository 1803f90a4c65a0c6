package triage

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// FormatError says an input is in a form triage does not read. Nothing of it was analysed, so a
// report without findings would be a false all-clear: the command refuses it (exit 2).
type FormatError struct {
	Source string
	// Format names what the input looks like: "xz-compressed", "binary data", ...
	Format string
	// Hint says how to give triage the text instead.
	Hint string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s is %s, which triage cannot read: %s", e.Source, e.Format, e.Hint)
}

// ReadError says reading an input stopped part-way (a truncated or corrupt gzip stream, an I/O
// error): the Lines before were analysed, the rest was not, so the report is incomplete.
type ReadError struct {
	Source string
	Lines  int64
	Err    error
}

func (e *ReadError) Error() string {
	why := e.Err.Error()
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		why = "the compressed stream is truncated (" + why + ")"
	}
	return fmt.Sprintf("reading %s stopped after %d lines: %s; the report covers only those lines", e.Source, e.Lines, why)
}

func (e *ReadError) Unwrap() error { return e.Err }

const (
	// sniffSize is how much of an input is looked at to recognise its form.
	sniffSize = 8 << 10
	// maxLayers bounds nested encodings (gzip of gzip, gzip of UTF-16, ...).
	maxLayers = 4
	// paddingRun is the shortest run of NUL bytes at the start taken for padding: what a log
	// truncated in place by logrotate's copytruncate starts with while its writer keeps its offset.
	paddingRun = 16
)

// refused are forms recognised by their magic bytes that triage does not decode, with what to do.
var refused = []struct {
	magic  []byte
	format string
	hint   string
}{
	{[]byte{0xFD, '7', 'z', 'X', 'Z', 0x00}, "xz-compressed", "decompress it first: xz -dc FILE | kubectl aksbackup triage --file -"},
	{[]byte{0x28, 0xB5, 0x2F, 0xFD}, "zstd-compressed", "decompress it first: zstd -dc FILE | kubectl aksbackup triage --file -"},
	{[]byte("PK\x03\x04"), "a zip archive", "extract the log first: unzip -p FILE LOG | kubectl aksbackup triage --file -"},
	{[]byte("PK\x05\x06"), "an empty zip archive", "extract the log first: unzip -p FILE LOG | kubectl aksbackup triage --file -"},
	{[]byte("PK\x07\x08"), "a zip archive", "extract the log first: unzip -p FILE LOG | kubectl aksbackup triage --file -"},
	{[]byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}, "a 7-Zip archive", "extract the log first: 7z x -so FILE | kubectl aksbackup triage --file -"},
	{[]byte{0x04, 0x22, 0x4D, 0x18}, "lz4-compressed", "decompress it first: lz4 -dc FILE | kubectl aksbackup triage --file -"},
	{[]byte{0x1F, 0x9D}, "compress(1)-compressed (.Z)", "decompress it first: uncompress -c FILE | kubectl aksbackup triage --file -"},
}

// openInput recognises an input's form and returns a reader of its text:
//   - gzip, including several members one after the other (what `cat a.gz b.gz` and pigz give),
//     and bzip2, both decoded, then looked at again for what they hold;
//   - UTF-8 with or without a byte order mark;
//   - UTF-16 LE or BE with a byte order mark (what Windows PowerShell's > writes), or without one
//     when the NUL bytes of ASCII text show the order;
//   - a run of NUL bytes at the start is skipped (a log truncated in place).
//
// xz, zstd, zip, 7z, lz4, tar archives and binary data are refused with a *FormatError.
func openInput(r io.Reader, source string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	for layer := 0; ; layer++ {
		if err := skipPadding(br); err != nil {
			return nil, &ReadError{Source: source, Err: err}
		}
		head, err := br.Peek(sniffSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, &ReadError{Source: source, Err: err}
		}
		if len(head) == 0 {
			return br, nil
		}
		if layer == maxLayers {
			return nil, &FormatError{Source: source, Format: "encoded more than 4 times over", Hint: "decode it first"}
		}
		var next io.Reader
		switch {
		case bytes.HasPrefix(head, []byte{0x1F, 0x8B}):
			gz, err := gzip.NewReader(br)
			if err != nil {
				return nil, &ReadError{Source: source, Err: fmt.Errorf("it starts like gzip but its header is not valid: %w", err)}
			}
			next = gz
		case isBzip2(head):
			next = bzip2.NewReader(br)
		case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
			_, _ = br.Discard(3)
			continue
		case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
			next = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
		default:
			if order, ok := utf16WithoutBOM(head); ok {
				next = transform.NewReader(br, unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder())
				break
			}
			for _, f := range refused {
				if bytes.HasPrefix(head, f.magic) {
					return nil, &FormatError{Source: source, Format: f.format, Hint: f.hint}
				}
			}
			if isTar(head) {
				return nil, &FormatError{Source: source, Format: "a tar archive", Hint: "extract the log first: tar -xOf FILE LOG | kubectl aksbackup triage --file -"}
			}
			if isBinary(head) {
				return nil, &FormatError{Source: source, Format: "binary data, not a text log",
					Hint: "give the log as text (kubectl logs ... > velero.log), plain or gzip-compressed"}
			}
			return br, nil
		}
		br = bufio.NewReaderSize(next, sniffSize)
	}
}

// skipPadding drops a leading run of at least paddingRun NUL bytes.
func skipPadding(br *bufio.Reader) error {
	for {
		head, err := br.Peek(sniffSize)
		zeros := 0
		for zeros < len(head) && head[zeros] == 0 {
			zeros++
		}
		if zeros < paddingRun {
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
				err = nil
			}
			return err
		}
		if _, err := br.Discard(zeros); err != nil {
			return err
		}
		if zeros < len(head) {
			return nil
		}
	}
}

func isBzip2(head []byte) bool {
	return len(head) >= 10 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' &&
		(bytes.HasPrefix(head[4:], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) || bytes.HasPrefix(head[4:], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}))
}

// isTar: a POSIX tar header says "ustar" at offset 257.
func isTar(head []byte) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

// utf16WithoutBOM recognises UTF-16 text without a byte order mark by where the NUL bytes of its
// ASCII characters fall: every odd byte for little-endian, every even one for big-endian.
func utf16WithoutBOM(head []byte) (unicode.Endianness, bool) {
	pairs := len(head) / 2
	if pairs < 4 {
		return unicode.LittleEndian, false
	}
	evenNUL, oddNUL := 0, 0
	for i := 0; i+1 < len(head); i += 2 {
		if head[i] == 0 {
			evenNUL++
		}
		if head[i+1] == 0 {
			oddNUL++
		}
	}
	switch {
	case oddNUL*10 >= pairs*9 && evenNUL*10 < pairs:
		return unicode.LittleEndian, true
	case evenNUL*10 >= pairs*9 && oddNUL*10 < pairs:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}

// isBinary: text logs hold no NUL bytes and few control characters. Invalid UTF-8 alone is not
// binary (a Latin-1 log is still a log).
func isBinary(head []byte) bool {
	control := 0
	for _, c := range head {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != '\b' && c != 0x1B, c == 0x7F:
			control++
		}
	}
	return control*10 > len(head)
}
