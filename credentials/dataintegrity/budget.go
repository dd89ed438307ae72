package dataintegrity

import "fmt"

// maxExpansionWork bounds the work of JSON-LD expansion, counted as the
// scoped contexts it may apply times the term definitions it may copy for
// each: json-gold copies the whole active context whenever it applies a
// type-scoped or property-scoped context, and loads a context named by URL
// anew each time. 200 objects of six scoped types under an inline context
// of 1,800 terms (a 33 KB input, unsigned) cost it a second, and three
// more to explain an undefined term. A tally credential counts a few
// hundred; this allows about 10 ms of copying.
const maxExpansionWork = 1 << 15

// expansionWork estimates, from above, the work of expanding body (a
// document without its @context) under the @context value ctxValue: the
// number of places where a scoped context may be applied (members and
// string values that are names of terms with a local context, embedded
// @context members) times the number of term definitions any context in
// play may hold (those of every context, inline or named by URL, counted
// with their scoped contexts).
func expansionWork(ctxValue any, body map[string]any, l *loader) int {
	scoped := map[string]bool{}
	weight := contextWeight(ctxValue, l, scoped, 0)
	// Contexts embedded in the body count as contexts in play.
	embedded := 0
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, item := range x {
				if k == "@context" {
					embedded++
					weight += contextWeight(item, l, scoped, 0)
					continue
				}
				collect(item)
			}
		case []any:
			for _, item := range x {
				collect(item)
			}
		}
	}
	collect(body)
	uses := embedded
	var count func(v any)
	count = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, item := range x {
				if k == "@context" {
					continue
				}
				if scoped[k] {
					uses++
				}
				count(item)
			}
		case []any:
			for _, item := range x {
				count(item)
			}
		case string:
			if scoped[x] {
				uses++
			}
		}
	}
	count(body)
	return uses * weight
}

// maxWeightDepth bounds the contexts named by URL inside contexts that
// contextWeight follows.
const maxWeightDepth = 4

// contextWeight counts the members of a context value (a URL, an object or
// a list of them), the documents its URLs name included, and adds to
// scoped the terms that have a local context.
func contextWeight(v any, l *loader, scoped map[string]bool, depth int) int {
	switch x := v.(type) {
	case string:
		doc, ok := l.docs[x].(map[string]any)
		if !ok || depth >= maxWeightDepth {
			return 1
		}
		return 1 + contextWeight(doc["@context"], l, scoped, depth+1)
	case []any:
		n := 0
		for _, item := range x {
			n += contextWeight(item, l, scoped, depth)
		}
		return n
	case map[string]any:
		n := 0
		for k, item := range x {
			n++
			if def, ok := item.(map[string]any); ok {
				if local, has := def["@context"]; has {
					scoped[k] = true
					n += contextWeight(local, l, scoped, depth)
				}
			}
		}
		return n
	}
	return 0
}

// checkExpansionWork refuses a document whose expansion would cost more
// than maxExpansionWork.
func checkExpansionWork(ctxValue any, body map[string]any, l *loader) error {
	if work := expansionWork(ctxValue, body, l); work > maxExpansionWork {
		return fmt.Errorf("%w (its scoped contexts would cost JSON-LD expansion %d units of work, at most %d)", ErrTooComplex, work, maxExpansionWork)
	}
	return nil
}
