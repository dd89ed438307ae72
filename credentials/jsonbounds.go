package credentials

import "fmt"

// Bounds on the JSON of credentials tally reads without a schema (another
// issuer's VC-JWT, an SD-JWT VC with any vct), checked before anything is
// decoded beyond the envelope and before the signature is checked: a
// forged token costs a verifier no more than a genuine one.
const (
	// maxTokenJSONDepth is how deeply objects and arrays may nest. Real
	// credentials nest four or five levels (an address in a subject in a
	// credential).
	maxTokenJSONDepth = 32
	// maxTokenJSONValues bounds the number of members and elements of all
	// objects and arrays together.
	maxTokenJSONValues = 4096
)

// checkJSONBounds checks that data nests at most maxTokenJSONDepth deep and has
// at most maxTokenJSONValues members and elements. It only counts; whether data
// is JSON at all is left to the decoder. what names data in the error.
func checkJSONBounds(data []byte, what string) error {
	depth, values := 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			// Skip the string, escapes included.
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			values++
			if depth > maxTokenJSONDepth {
				return fmt.Errorf("%s nests objects and arrays more than %d deep: %w", what, maxTokenJSONDepth, ErrMalformed)
			}
		case '}', ']':
			depth--
		case ',':
			values++
		}
		if values > maxTokenJSONValues {
			return fmt.Errorf("%s has more than %d members and elements: %w", what, maxTokenJSONValues, ErrMalformed)
		}
	}
	return nil
}
