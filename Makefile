# perch: see README.md. `make demo` and `make test` do all the set-up on a
# fresh Debian machine (as root, or with sudo).

# Go: the one on PATH when it is at least go.mod's version, else the one
# scripts/go-toolchain.sh (run by deps) fetched into GO_DIR.
GO_VERSION := $(shell sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)
GO_DIR    ?= $(or $(PERCH_GO_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/perch/go$(GO_VERSION))
export PATH := $(GO_DIR)/bin:$(PATH)
# (make 4.3's $(shell) does not see the exported PATH: GO names it.)
GO        ?= $(if $(wildcard $(GO_DIR)/bin/go),$(GO_DIR)/bin/go,go)
BIN       := bin
FUZZTIME  ?= 50000x
# Packages whose tests do not need cgo/Fyne.
PURE_PKGS = $(shell $(GO) list ./... 2>/dev/null | grep -v -E '/ui($$|/)|/cmd/perch-tray')

.PHONY: all print-go-dir deps build man completions build-tray deb deb-test test vet unit fuzz demo bench soak flake clean

all: build

# Where the Makefile's Go is (scripts/fresh-debian.sh runs go test with it).
print-go-dir:
	@echo $(GO_DIR)

deps:
	scripts/deps.sh
	PERCH_GO_DIR=$(GO_DIR) scripts/go-toolchain.sh

# `perch version` names the git revision: Go stamps it (-buildvcs=true, as
# GOFLAGS may turn it off), except in a git worktree, where REVISION stands in.
REVISION  := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo +modified)
LDFLAGS   := -X github.com/perchdesk/perch/internal/cli.Revision=$(REVISION)
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=true -ldflags "$(LDFLAGS)" -o $(BIN)/perch ./cmd/perch

# Man pages (perch.1, perch-up.1, ...) from the command definitions, in $(BIN)/man.
man:
	rm -rf $(BIN)/man
	$(GO) run ./internal/cli/mangen $(BIN)/man

# Shell completion scripts for packages: bash, zsh and fish, in $(BIN)/completions.
completions: build
	mkdir -p $(BIN)/completions
	$(BIN)/perch completion bash > $(BIN)/completions/perch
	$(BIN)/perch completion zsh > $(BIN)/completions/_perch
	$(BIN)/perch completion fish > $(BIN)/completions/perch.fish

# The tray needs cgo (Fyne, GLFW); its first build takes a few minutes.
build-tray: deps
	$(GO) build -o $(BIN)/perch-tray ./cmd/perch-tray

# The Debian package bin/perch_$(VERSION)_amd64.deb (scripts/deb.sh, with
# dpkg-deb): both binaries, the systemd user unit, the tray's autostart
# entry, man pages (make man), shell completions, the example configuration
# and the icon. deb-test lints it, installs it with dpkg -i, runs the
# installed perch and verifies the installed unit (root or sudo).
VERSION ?= 0.5.0
# Both binaries are built for it as hardened position-independent
# executables (lintian: no static binaries, PIE, RELRO and BIND_NOW); the
# tray's PIE build recompiles Fyne and GLFW once (minutes).
DEB_LDFLAGS := -s -w -extldflags=-Wl,-z,relro,-z,now
deb: deps man
	mkdir -p $(BIN)/deb && ln -sfn ../man $(BIN)/deb/man
	CGO_ENABLED=0 $(GO) build -buildmode=pie -trimpath -ldflags='-s -w $(LDFLAGS) -X github.com/perchdesk/perch/internal/cli.Version=$(VERSION)' -o $(BIN)/deb/perch ./cmd/perch
	$(GO) build -buildmode=pie -trimpath -ldflags='$(DEB_LDFLAGS)' -o $(BIN)/deb/perch-tray ./cmd/perch-tray
	BIN=$(BIN)/deb scripts/deb.sh $(VERSION) $(BIN)

deb-test: deb
	scripts/deb-test.sh $(BIN)/perch_$(VERSION)_$$(dpkg --print-architecture).deb

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	@test -n "$(PURE_PKGS)" || { echo "vet: $(GO) list found no packages (Go $(GO_VERSION) or newer: make deps)"; exit 1; }
	CGO_ENABLED=0 $(GO) vet $(PURE_PKGS)
	$(GO) vet ./ui ./cmd/perch-tray/...
	$(GO) run ./scripts/shape .

# Every fuzz target, the Debian package, then every test, on the real Xorg
# dummy, sshd and xpra (CI=true: nothing may skip). The sessions log in to
# the test sshd as an unprivileged user (perchtest, made with useradd when
# running as root: the path users take, where sshd can signal the
# sessions); the root login's own path is run as well. scripts/testsum
# shows failures' output and skips with their reasons, and ends with
# "N passed, N failed, N skipped" (CI reads that line); it exits with go
# test's status. Three test binaries at a time (-p 3) on two cores: the
# packages mostly wait on their servers (CI used a quarter of the CPU at
# -p 2), and the timing-sensitive tests hold with both cores busy (make
# flake). The two longest packages start first (go test starts them in
# the order named).
test: deps vet build
	$(MAKE) fuzz
	$(MAKE) deb-test
	PERCH_TEST_REMOTE_USER=root $(GO) test -count=1 -timeout 10m -run 'TestFourDisplays|TestX11Cookies|TestDropKeepsTheOthers|TestMissingDisplay' ./sessions
	$(GO) run ./scripts/testsum -p 3 -count=1 -timeout 30m ./sessions ./agent ./...

unit:
	$(GO) test -count=1 -short ./...

# A short run of every fuzz target, one line each (go test -fuzz takes one
# target per run). Their seeds live in testdata/fuzz/<FuzzName> and plain
# `go test` runs them; new inputs a run finds go to the cache, not testdata.
# FUZZTIME is a count of executions, not a duration: with Go 1.26 a
# duration races the coordinator's deadline on a loaded machine and fails
# with "context deadline exceeded" (golang/go#75804, fixed in Go 1.27).
# 22 targets at 50000 executions each: about 3 minutes here.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzIndexLines$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzSaveProfile$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzRenderProfile$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/sys/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzParseDisplay$$' -fuzztime $(FUZZTIME) ./internal/sys/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzFind$$' -fuzztime $(FUZZTIME) ./internal/sys/xauth
	$(GO) test -run '^$$' -fuzz '^FuzzX11Setup$$' -fuzztime $(FUZZTIME) ./sessions/x11fwd
	$(GO) test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzExpand$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzGlob$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzSSHConfig$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzSSHConfigLine$$' -fuzztime $(FUZZTIME) ./sessions/sshconf
	$(GO) test -run '^$$' -fuzz '^FuzzKnownHosts$$' -fuzztime $(FUZZTIME) ./sessions/hostkey
	$(GO) test -run '^$$' -fuzz '^FuzzParseMode$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzParsePos$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzMakePlan$$' -fuzztime $(FUZZTIME) ./xrandr
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./wlr
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./control
	$(GO) test -run '^$$' -fuzz '^FuzzClientAnswer$$' -fuzztime $(FUZZTIME) ./control
	$(GO) test -run '^$$' -fuzz '^FuzzParseArgs$$' -fuzztime $(FUZZTIME) ./internal/cli
	$(GO) test -run '^$$' -fuzz '^FuzzRelevant$$' -fuzztime $(FUZZTIME) ./internal/sys/netwatch

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

# The flakiness check: the timing-sensitive tests FLAKE_N times each (30)
# with both cores kept busy; see scripts/flake.sh (PARALLEL=1: all
# packages at once).
FLAKE_N ?= 30
flake: deps
	GO=$(GO) scripts/flake.sh $(FLAKE_N)

clean:
	rm -rf $(BIN)
