package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perchdesk/perch/api"
)

// bashComplete completes the words as bash does at the end of line (the
// last word is the one being typed): it sources `perch completion bash`
// in a bash with bash-completion (as a user has it), sets COMP_WORDS and calls the completion function that
// `complete -p perch` names, and returns COMPREPLY.
func bashComplete(t *testing.T, bin string, vars []string, words ...string) []string {
	t.Helper()
	script := `set -e
source /usr/share/bash-completion/bash_completion
source <(perch completion bash)
fn=$(complete -p perch | sed -n 's/.*-F \([^ ]*\) perch$/\1/p')
[ -n "$fn" ] || { echo "no completion function: $(complete -p perch)" >&2; exit 9; }
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
set +e
"$fn" perch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command("bash", append([]string{"-c", script, "bash"}, words...)...)
	cmd.Env = append(append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "PERCH_CONFIG=", "XDG_RUNTIME_DIR="+t.TempDir()), vars...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("bash completion of %q: %v\n%s", words, err, stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

const completionConfig = twoScreens + `
[server.far]
ssh = "far.example"

[server.near]
ssh = "me@near.example:2222"
`

// TestCompletionBash: profile names from the configuration (--config in
// any form, or $PERCH_CONFIG), server names, flag values; without an
// agent, switch offers the configuration's profiles and reconnect nothing.
func TestCompletionBash(t *testing.T) {
	bin := buildPerch(t)
	cfg := writeConfig(t, completionConfig)
	env := []string{"PERCH_CONFIG=" + cfg}
	sshConfig := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(sshConfig, []byte("Host alpha beta\n  Port 2222\nHost *.example !gamma\nMatch all\nhost delta\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		vars  []string
		words []string
		want  []string
	}{
		{env, []string{"perch", "up", ""}, []string{"auto", "desk", "one", "rotated"}},
		{nil, []string{"perch", "--config", cfg, "layout", "apply", ""}, []string{"desk", "one", "rotated"}},
		{nil, []string{"perch", "layout", "apply", "--config=" + cfg, "d"}, []string{"desk"}},
		{env, []string{"perch", "switch", "r"}, []string{"rotated"}},
		{env, []string{"perch", "exec", ""}, []string{"far", "near"}},
		{env, []string{"perch", "up", "--log-format", ""}, []string{"json", "text"}},
		{env, []string{"perch", "lay"}, []string{"layout"}},
		{env, []string{"perch", "layout", ""}, []string{"apply", "save"}},
		{env, []string{"perch", "reconnect", ""}, nil},
		{env, []string{"perch", "init", "--ssh-config", sshConfig, "--server", ""}, []string{"alpha", "beta", "delta"}},
		{env, []string{"perch", "completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
	}
	for _, tc := range cases {
		if got := bashComplete(t, bin, tc.vars, tc.words...); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}
	// The other shells' scripts come from the same definitions.
	for _, sh := range []string{"zsh", "fish"} {
		out, err := exec.Command(bin, "completion", sh).Output()
		if err != nil || !strings.Contains(string(out), "__complete") {
			t.Errorf("perch completion %s: %v\n%.200s", sh, err, out)
		}
	}
}

// TestCompletionFromAgent: with an agent running, switch offers the
// agent's profiles and auto, and reconnect its sessions.
func TestCompletionFromAgent(t *testing.T) {
	needRemote(t)
	bin := buildPerch(t)
	cfg := remoteConfig(t)
	vars := map[string]string{"DISPLAY": bed.Name}
	sock := upInProcess(t, vars, "desk", "--config", cfg).sock
	st := waitStatus(t, sock, "a session", 30*time.Second, func(s api.Status) bool { return len(s.Sessions) == 1 })
	// A configuration that is not the agent's: switch must offer the
	// agent's profiles.
	other := writeConfig(t, twoScreens)
	if got, want := bashComplete(t, bin, []string{"PERCH_CONFIG=" + other}, "perch", "switch", "--socket", sock, ""), []string{"auto", "desk"}; !slices.Equal(got, want) {
		t.Errorf("switch: %q, want %q", got, want)
	}
	want := []string{st.Sessions[0].Name}
	if got := bashComplete(t, bin, nil, "perch", "reconnect", "--socket="+sock, ""); !slices.Equal(got, want) {
		t.Errorf("reconnect: %q, want %q (status %+v)", got, want, st.Sessions)
	}
}
