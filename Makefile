# perch: see README.md. `make demo` and `make test` do all the set-up on a
# fresh Debian machine (as root, or with sudo).

GO        ?= go
BIN       := bin
FUZZTIME  ?= 50000x
# Packages whose tests do not need cgo/Fyne.
PURE_PKGS := $(shell $(GO) list ./... 2>/dev/null | grep -v -E '/ui($$|/)|/cmd/perch-tray')

.PHONY: all deps build build-tray package-tray test vet unit fuzz demo bench soak clean

all: build

deps:
	scripts/deps.sh

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/perch ./cmd/perch

# The tray needs cgo (Fyne, GLFW); its first build takes a few minutes.
build-tray: deps
	$(GO) build -o $(BIN)/perch-tray ./cmd/perch-tray

# An installable bundle (tar.xz with binary, .desktop and icon, and a Makefile
# that installs them), made by Fyne's packaging tool.
FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4
package-tray: deps
	$(GO) install $(FYNE_TOOLS)
	mkdir -p $(BIN)
	cd $(BIN) && $$($(GO) env GOPATH)/bin/fyne package --os linux --release --src $(CURDIR)/cmd/perch-tray \
		--name perch-tray --app-id io.github.perchdesk.perch --app-version 0.5.0 --icon $(CURDIR)/assets/icons/perch.png

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	CGO_ENABLED=0 $(GO) vet $(PURE_PKGS)
	$(GO) vet ./ui ./cmd/perch-tray/...

# Every test, on the real Xorg dummy, sshd and xpra (CI=true: nothing may skip).
# The sessions log in to the test sshd as an unprivileged user (perchtest,
# made with useradd when running as root: the path users take, where sshd
# can signal the sessions); the root login's own path is run as well.
test: deps vet build
	$(GO) test -count=1 -timeout 30m ./...
	PERCH_TEST_REMOTE_USER=root $(GO) test -count=1 -timeout 10m -run 'TestFourDisplays|TestX11Cookies|TestDropKeepsTheOthers|TestMissingDisplay' ./sessions
	$(MAKE) fuzz

unit:
	$(GO) test -count=1 -short ./...

# A short run of every fuzz target, one line each (go test -fuzz takes one
# target per run). Their seeds live in testdata/fuzz/<FuzzName> and plain
# `go test` runs them; new inputs a run finds go to the cache, not testdata.
# FUZZTIME is a count of executions, not a duration: with Go 1.26 a
# duration races the coordinator's deadline on a loaded machine and fails
# with "context deadline exceeded" (golang/go#75804, fixed in Go 1.27).
# 18 targets at 50000 executions each: about 3 minutes here.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzIndexLines$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzSaveProfile$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzRenderProfile$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzParseDisplay$$' -fuzztime $(FUZZTIME) ./internal/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzFind$$' -fuzztime $(FUZZTIME) ./internal/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzX11Setup$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzSSHConfig$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzSSHConfigLine$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzKnownHosts$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzParseMode$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzParsePos$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzMakePlan$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./control
	$(GO) test -run '^$$' -fuzz '^FuzzClientAnswer$$' -fuzztime $(FUZZTIME) ./control
	$(GO) test -run '^$$' -fuzz '^FuzzParseArgs$$' -fuzztime $(FUZZTIME) ./internal/cli
	$(GO) test -run '^$$' -fuzz '^FuzzRelevant$$' -fuzztime $(FUZZTIME) ./internal/netwatch

DEMO_ARGS ?= --for 30s --shot demo.png
demo: deps build
	scripts/demo.sh $(DEMO_ARGS)

bench: deps build
	scripts/bench.sh

# The fault soak at full length (the CI tests run a short one): 50 kill -9,
# 10 freezes, sshd stopped 30 s, xpra servers killed, switches during reconnects;
# then its network-namespace variant (root): the veth to a namespaced sshd cut
# 10 times briefly and 10 times for longer than the dead-link threshold.
# Two runs, in this order: TestSoak starts the report, TestSoakNetns appends to it.
soak: deps
	PERCH_SOAK=full PERCH_SOAK_REPORT=$(CURDIR)/soak-report.txt $(GO) test -count=1 -timeout 20m -run '^TestSoak$$' -v ./sessions
	PERCH_SOAK=full PERCH_SOAK_REPORT=$(CURDIR)/soak-report.txt $(GO) test -count=1 -timeout 20m -run '^TestSoakNetns$$' -v ./sessions
	@cat soak-report.txt

clean:
	rm -rf $(BIN)
