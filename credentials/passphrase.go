package credentials

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The passphrase rule of key files. Length alone lets "aaaaaaaaaaaa" and
// "123456789012" through; the rule also refuses what a guesser tries first.
const (
	// MinPassphraseLength is the fewest characters a passphrase may have.
	MinPassphraseLength = 12
	// MinPassphraseDistinct is the fewest different characters it may
	// have ("abababababab" has two).
	MinPassphraseDistinct = 6
)

// ErrWeakPassphrase is wrapped by the errors of CheckPassphrase (and of
// SealKey, which calls it).
var ErrWeakPassphrase = errors.New("the passphrase is too easy to guess")

// CheckPassphrase tells whether passphrase may seal a key file: at least
// MinPassphraseLength characters, at least MinPassphraseDistinct different
// ones, not one character repeated, and not a run of consecutive
// characters (abcdef..., 123456..., or descending: 987654..., fedcba...).
// Its errors wrap ErrWeakPassphrase and say, in plain words, what to do.
// It never quotes the passphrase.
func CheckPassphrase(passphrase []byte) error {
	chars := []rune(string(passphrase))
	if !utf8.Valid(passphrase) {
		// Not text, but bytes are as good as characters to a guesser.
		chars = make([]rune, len(passphrase))
		for i, b := range passphrase {
			chars[i] = rune(b)
		}
	}
	const advice = "use a few unrelated words instead, such as 'river lantern cobalt pepper': they are strong and easy to remember"
	if len(chars) < MinPassphraseLength {
		return fmt.Errorf("%w: it is shorter than %d characters; %s", ErrWeakPassphrase, MinPassphraseLength, advice)
	}
	distinct := map[rune]bool{}
	for _, c := range chars {
		distinct[unicode.ToLower(c)] = true
	}
	switch {
	case len(distinct) == 1:
		return fmt.Errorf("%w: it is one character repeated; %s", ErrWeakPassphrase, advice)
	case isRun(chars, 1) || isRun(chars, -1):
		return fmt.Errorf("%w: it is a run of consecutive characters (like abcdef or 654321); %s", ErrWeakPassphrase, advice)
	case len(distinct) < MinPassphraseDistinct:
		return fmt.Errorf("%w: it has fewer than %d different characters; %s", ErrWeakPassphrase, MinPassphraseDistinct, advice)
	}
	return nil
}

// isRun reports whether each character of chars follows the one before
// it by step (1 or -1), letters compared without case; digits wrap from 9
// to 0 and letters from z to a (and back, for -1), as on a keyboard's
// "1234567890" row.
func isRun(chars []rune, step int) bool {
	for i := 1; i < len(chars); i++ {
		if next(unicode.ToLower(chars[i-1]), step) != unicode.ToLower(chars[i]) {
			return false
		}
	}
	return true
}

func next(c rune, step int) rune {
	switch {
	case step > 0 && c == '9':
		return '0'
	case step < 0 && c == '0':
		return '9'
	case step > 0 && c == 'z':
		return 'a'
	case step < 0 && c == 'a':
		return 'z'
	}
	return c + rune(step)
}
