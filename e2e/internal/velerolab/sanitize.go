package velerolab

import (
	"regexp"
	"strings"
)

var (
	// Azure SAS query parameters, which carry the signature and its scope.
	reSAS = regexp.MustCompile(`([?&])(sig|se|st|sp|spr|sv|sr|sip|srt|ss)=([^&\s<>]+)`)
	// azcore's ResponseError text: "ERROR CODE: ContainerNotFound".
	reErrorCode = regexp.MustCompile(`ERROR CODE:\s*(\w+)`)
	// A one-line <Message> in an XML error body. Azure Storage's messages go on with
	// "\nRequestId:...", and those are read from the RESPONSE line instead.
	reXMLMessage = regexp.MustCompile(`<Message>([^\n]*?)</Message>`)
	// "RESPONSE 404: 404 The specified container does not exist."
	reResponseLine = regexp.MustCompile(`RESPONSE\s+\d+:\s+\d+\s+([^\n]+)`)
	reDesc         = regexp.MustCompile(`desc\s*=\s*(.+)`)
)

// StatusMessage is what Velero 1.18 writes into a BSL's status.message for a validation error:
// SAS parameters scrubbed, and an Azure HTTP error (azcore's multi-line "RESPONSE ...: / ERROR CODE:"
// text) cut down to "Code: Message" after the "desc = " of the plugin's gRPC error. Any other error
// is kept whole, including multi-line authentication errors.
func StatusMessage(msg string) string {
	msg = reSAS.ReplaceAllString(msg, "${1}${2}=***REDACTED***")
	if !strings.Contains(msg, "RESPONSE") || !strings.Contains(msg, "ERROR CODE:") {
		return msg
	}
	var code, text string
	if m := reErrorCode.FindStringSubmatch(msg); m != nil {
		code = m[1]
	}
	if m := reXMLMessage.FindStringSubmatch(msg); m != nil {
		text = m[1]
	} else if m := reResponseLine.FindStringSubmatch(msg); m != nil {
		text = strings.TrimSpace(m[1])
	}
	var clean string
	switch {
	case code != "" && text != "":
		clean = code + ": " + text
	case code != "" || text != "":
		clean = code + text
	default:
		clean = firstLine(msg)
		if m := reDesc.FindStringSubmatch(msg); m != nil {
			clean = m[1]
			if i := strings.Index(clean, "RESPONSE"); i >= 0 {
				clean = strings.TrimSpace(clean[:i])
			}
		}
	}
	if before, _, found := strings.Cut(msg, "desc = "); found {
		return before + "desc = " + clean
	}
	return clean
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
