// Package peopletest makes spreadsheets of made-up people for the import
// tests and benchmarks: every name and date of birth different enough that
// no row is a likely duplicate of another.
package peopletest

import (
	"bytes"
	"fmt"
	"strings"
)

// Name is a made-up name part for n. Name keys are consonant skeletons
// (vowels and doubled letters dropped, like-sounding letters one): six
// consonants the keys tell apart, never one twice in a row, make a part no
// other number shares (checked for the first 12,000 and those 500,000 on).
func Name(n int) string {
	cs := "bdfgklmnrs"
	var w []byte
	for range 6 {
		c := cs[n%len(cs)]
		if len(w) > 0 && w[len(w)-2] == c {
			c = 't'
		}
		w = append(w, c, 'a')
		n /= len(cs)
	}
	return strings.ToUpper(string(w[:1])) + string(w[1:])
}

// Born is person i's date of birth, YYYY-MM-DD.
func Born(i int) string {
	return fmt.Sprintf("%d-%02d-%02d", 1950+i%60, 1+(i/60)%12, 1+(i/720)%28)
}

// Gender is person i's gender.
func Gender(i int) string { return []string{"female", "male"}[i%2] }

// CSV is a spreadsheet of n people, with a header row and the registration
// IDs PREFIX-000001 on: ID, full name, date of birth, gender, language and
// household size.
func CSV(prefix string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("Registration ID,Full name,Date of birth,Gender,Language,Household size\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s-%06d,%s %s,%s,%s,som,%d\n", prefix, i, Name(i), Name(i+500000), Born(i), Gender(i), 1+i%9)
	}
	return b.Bytes()
}
