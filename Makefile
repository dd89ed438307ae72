# tally: two commands on a fresh machine with only Go installed.
#   make run    tally serve: the staff pages and API on 127.0.0.1:8080, data in ./tally-data
#   make test   vet, race-enabled tests, fuzz seed corpora
GO ?= go
PKGS := ./...
FUZZTIME ?= 20s

.PHONY: run demo test test-deps vet fmt-check bench fuzz build clean

run:
	$(GO) run ./cmd/tally serve

# The command-line demo: issue the samples in every format, verify them.
demo:
	$(GO) run ./cmd/tally demo --out demo-out

build:
	$(GO) build -o bin/tally ./cmd/tally

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# go test runs every fuzz target's seed corpus (testdata/fuzz/...) as tests.
test: fmt-check vet test-deps
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# poppler-utils and chromium for the PDF and browser tests, installed with
# apt-get when missing and running as root; otherwise those tests skip.
test-deps:
	@./.ci/deps

# Benchmarks in package verifier, printed with their ratios to the bare
# ed25519.Verify baseline measured in the same run: five rounds, each
# measuring the baseline and then every format, so that a change of load
# on a shared machine falls on both sides; the ratios are of the medians.
bench:
	@rm -f bench.out; for i in 1 2 3 4 5; do $(GO) test -run '^$$' -bench . -benchmem -count 1 ./verifier | tee -a bench.out || exit 1; done
	$(GO) run ./internal/benchratio < bench.out
	@$(GO) test -count=1 -run TestEmbedderFootprint -v ./verifier | grep 'embedder:' | sed 's/^ *embed_test.go:[0-9]*: //'
	@echo "bulk issuance, 10,000 spreadsheet rows to signed cards and their PDF (target <= 20 s on 2 cores):"
	@$(GO) test ./internal/pdf -run '^$$' -bench Bulk10000RowsToPDF -benchtime 1x | grep '^Benchmark'
	@echo "dedup registry, 1,000,000 tokens in bbolt (targets: >= 20,000 inserts/s batched, lookup p99 <= 1000 us):"
	@$(GO) test ./internal/bolt -run '^$$' -bench 'Registry1M$$' -benchtime 1x | grep '^Benchmark' | awk '{ for (i = 2; i < NF; i++) { \
	  if ($$(i+1) == "inserts/s") ins = $$i; if ($$(i+1) == "lookup-p50-µs") p50 = $$i; if ($$(i+1) == "lookup-p99-µs") p99 = $$i } \
	  printf "  inserts/s batched: %d\n  lookup p50: %s µs\n  lookup p99: %s µs\n", ins, p50, p99 }'
	@echo "bulk import, the whole path: 10,000 rows registered and issued in bbolt on disk (audit entries too), then the PDF of every card re-signed (target <= 20 s on 2 cores):"
	@$(GO) test ./internal/pdf -run '^$$' -bench Import10000RowsToPDF -benchtime 1x | grep '^Benchmark'
	@echo "OpenID4VCI, offer to credential over the real handlers and bbolt, server time per credential (target <= 10 ms):"
	@$(GO) test ./internal/http -run '^$$' -bench OfferToCredential -benchtime 200x | grep '^Benchmark'
	@echo "VC API, POST /credentials/verify of a VC-JWT over HTTP on loopback, 3 s of keep-alive clients (targets: >= 5,000 verifications/s on 2 cores, p99 <= 5 ms; cpu-bound-verifications/s is what the cores sustain when nothing else runs on them):"
	@$(GO) test ./internal/http -run '^$$' -bench VCAPIVerifyHTTP -benchtime 1x | grep '^Benchmark'
	@echo "QR decoding of synthetic camera frames (rotated, skewed, blurred, low contrast, glare; target >= 95 %):"
	@$(GO) test ./internal/scan -count=1 -run '^TestDecodeRate$$' -v | grep -o 'decode rate: .*'
	@echo "verifier service memory, idle, with a signed 1,000-issuer trust list (the real binary; target <= 40 MB resident):"
	@$(GO) test ./internal/cli -run '^$$' -bench IdleMemory -benchtime 1x | grep '^Benchmark'
	@echo "wallet, a holder signing in at the default argon2id cost on bbolt (opening a wallet costs two):"
	@$(GO) test ./holder -run '^$$' -bench SignIn -benchtime 20x | grep '^Benchmark'

# Run every fuzz target for FUZZTIME each. Minimizing a new input is capped
# (it can take a whole minute on a 2 KiB credential and no input runs then).
fuzz:
	@# Every package with a fuzz target, found anew each time.
	@for pkg in $$(grep -rl '^func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10x $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin demo-out bench.out
