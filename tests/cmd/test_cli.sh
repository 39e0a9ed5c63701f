#!/usr/bin/env bash
# The command-line interface as a new user meets it: shell completion.
# No cluster needed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-cli.XXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/bin" && ln -s "$K" "$W/bin/kcustody"

# complete WORDS...: what bash completion offers for the last word
complete_words() {
	PATH="$W/bin:$PATH" bash -c '
		source <(kcustody completion bash) || exit 9
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
		_kcustody
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

t_begin "completion bash: commands, then a command's own options (from its --help)"
complete_words kcustody ver >"$T_OUT" || t_fail "completion failed: $?"
expect_grep "^verify$" "$T_OUT"
expect_grep "^version$" "$T_OUT"
expect_no_grep "^seal$" "$T_OUT"
complete_words kcustody verify --pub >"$T_OUT"
expect_grep "^--pubkey$" "$T_OUT"
complete_words kcustody diff --for >"$T_OUT"
expect_grep "^--format$" "$T_OUT"
expect_grep "^--force$" "$T_OUT"
# negative twin: an option of another command is not offered
complete_words kcustody diff --se >"$T_OUT"
expect_grep "^--seal$" "$T_OUT"
complete_words kcustody verify --se >"$T_OUT"
expect_no_grep "^--seal$" "$T_OUT"
t_pass

t_begin "completion zsh and fish name every command; an unknown shell is a usage error"
for sh in zsh fish; do
	expect_exit 0 "$K" completion $sh
	for c in archive audit can-i collect custody diff inspect keygen report seal verify who-can; do
		grep -qw -- "$c" "$T_OUT" || t_fail "$sh completion lacks $c"
	done
done
expect_exit 2 "$K" completion tcsh
expect_grep "bash, zsh or fish" "$T_ERR"
t_pass

t_begin "the same flag names everywhere: --operator/--name and --org/--organisation on collect, custody, archive"
for c in collect custody archive; do
	"$K" $c --help >"$W/h.txt"
	for o in --operator --name --org --organisation; do
		grep -qF -- "$o" "$W/h.txt" || t_fail "$c --help lacks $o"
	done
done
mkdir -p "$W/st" && echo x >"$W/st/a.txt"
"$K" keygen -o "$W/k.pem" >/dev/null 2>&1
"$K" seal "$W/st" -o "$W/F_pre_c_20261130T000000Z.tar.gz" --key "$W/k.pem" >/dev/null 2>&1
expect_exit 0 "$K" custody append "$W/F_pre_c_20261130T000000Z.tar.gz" --action sealed --key "$W/k.pem" \
	--operator "Ana Alias" --org "Alias Org"
jq -r '.actor.name + "|" + .actor.organisation' "$W/F_pre_c_20261130T000000Z.tar.gz.custody.jsonl" >"$T_OUT"
expect_grep "^Ana Alias\|Alias Org$" "$T_OUT"
# the twin: an unknown flag is still refused
expect_exit 2 "$K" custody append "$W/F_pre_c_20261130T000000Z.tar.gz" --action accessed --key "$W/k.pem" --operater X
t_pass

t_begin "--format text|json|yaml is the one output flag (--json its short form) on the report commands"
for c in verify who-can can-i custody archive inspect diff recertify; do
	"$K" $c --help | grep -q -- "--format FMT .*json.*yaml" || t_fail "$c --help lacks --format FMT with json and yaml"
done
expect_exit 0 "$K" inspect "$W/F_pre_c_20261130T000000Z.tar.gz" --format json
jq -e .schema "$T_OUT" >/dev/null || t_fail "inspect --format json is not the manifest"
"$K" inspect "$W/F_pre_c_20261130T000000Z.tar.gz" --json | cmp -s - "$T_OUT" || t_fail "--json and --format json differ"
expect_exit 2 "$K" verify "$W/F_pre_c_20261130T000000Z.tar.gz" --format xml
expect_grep "^kcustody verify: --format must be text, json or yaml here, not 'xml'" "$T_ERR"
expect_exit 2 "$K" diff "$W/F_pre_c_20261130T000000Z.tar.gz" "$W/F_pre_c_20261130T000000Z.tar.gz" --no-verify --format xml
expect_grep "format must be text, json, yaml, md or html" "$T_ERR"
t_pass

# yaml_same CMD...: CMD --format yaml, loaded by PyYAML (a YAML 1.1 loader:
# the strictest about what a plain scalar means), equals CMD --format json
yaml_same() {
	"$K" "$@" --format yaml >"$W/y.yaml" 2>"$W/y.err"; local ry=$?
	"$K" "$@" --format json >"$W/j.json" 2>/dev/null; local rj=$?
	[ "$ry" = "$rj" ] || { t_fail "$*: exit $ry for yaml, $rj for json ($(head -c 200 "$W/y.err"))"; return; }
	python3 - "$W/y.yaml" "$W/j.json" <<'PY' || t_fail "$*: the YAML does not load as the JSON"
import json, sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
j = json.load(open(sys.argv[2]))
if y != j:
    print("yaml != json", file=sys.stderr)
    sys.exit(1)
PY
}

t_begin "--format yaml is the JSON document as YAML, type for type, on every command that has it"
F=$KC_REPO/tests/data/bundles-0.1
FP=$F/IR-0.1_pre_fixture_20261130T000000Z.tar.gz FQ=$F/IR-0.1_post_fixture_20261130T010000Z.tar.gz
yaml_same verify "$FP" --pubkey "$F/fixture-signer.pub.pem"
yaml_same verify "$FP" --pubkey "$W/k.pub.pem"
yaml_same who-can "$FP" get secrets
yaml_same inspect "$W/F_pre_c_20261130T000000Z.tar.gz"
yaml_same custody show "$W/F_pre_c_20261130T000000Z.tar.gz"
"$K" inspect "$W/F_pre_c_20261130T000000Z.tar.gz" --format yaml >"$T_OUT"
expect_grep '^schema_version: 1$' "$T_OUT"
expect_grep '^  top: F_pre_c_20261130T000000Z$' "$T_OUT"
# the negative twin: the comparison sees types (a number written as a
# string is another document), so a quoting slip cannot pass unseen
"$K" inspect "$W/F_pre_c_20261130T000000Z.tar.gz" --format json >"$W/j.json"
sed 's/^schema_version: 1$/schema_version: "1"/' "$T_OUT" >"$W/y2.yaml"
python3 -c 'import json,sys,yaml; sys.exit(0 if yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' \
	"$W/y2.yaml" "$W/j.json" && t_fail "the twin: a quoted number compared equal"
t_pass

t_begin "a usage error is one line naming the command and its --help, on every command"
for c in archive audit can-i collect custody diff inspect keygen report seal verify who-can; do
	"$K" $c --bogus >/dev/null 2>"$W/e.txt"; rc=$?
	[ "$rc" = 2 ] || t_fail "$c --bogus: exit $rc"
	[ "$(wc -l <"$W/e.txt")" = 1 ] || t_fail "$c --bogus: $(wc -l <"$W/e.txt") lines on stderr: $(head -c 200 "$W/e.txt")"
	grep -q "^kcustody $c: .*see 'kcustody $c --help'" "$W/e.txt" || t_fail "$c --bogus: $(head -c 200 "$W/e.txt")"
done
# the twin: --help itself is not an error and prints the whole help
expect_exit 0 "$K" audit --help
[ "$(wc -l <"$T_OUT")" -gt 10 ] || t_fail "audit --help printed $(wc -l <"$T_OUT") lines"
t_pass

t_begin "the man page documents every command and every option, as the binary prints them"
cp "$KC_REPO/man/kcustody.1" "$W/k.1"
bash "$KC_REPO/man/gen-options.sh" "$K" "$W/k.1" || t_fail "gen-options failed"
cmp -s "$W/k.1" "$KC_REPO/man/kcustody.1" || t_fail "man/kcustody.1 is stale: run 'make man' ($(diff "$KC_REPO/man/kcustody.1" "$W/k.1" | head -n 3 | tr '\n' ' '))"
for c in archive audit can-i collect completion custody diff inspect keygen report seal verify who-can; do
	grep -q "^\.SS $c\$" "$KC_REPO/man/kcustody.1" || t_fail "no man section for $c"
	opts=$("$K" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	# (completion takes a shell name, no option; every other command has some)
	[ -n "$opts" ] || [ "$c" = completion ] || t_fail "$c --help names no option: nothing to look for in the man page"
	for o in $opts; do
		grep -qF -- "$o" "$KC_REPO/man/kcustody.1" || t_fail "man page lacks $c $o"
	done
done
man -l "$KC_REPO/man/kcustody.1" >/dev/null 2>"$W/man.err" || t_fail "man cannot render the page"
[ -s "$W/man.err" ] && t_fail "man warns: $(head -n 2 "$W/man.err")"
t_pass

t_begin "make install PREFIX=~/.local works without root: binary, kubectl plugin link, man page, completions"
H=$W/home
expect_exit 0 env HOME="$H" make -s -C "$KC_REPO" install PREFIX="$H/.local" SANITIZE="${KCUSTODY_SANITIZE:-0}"
for f in bin/kcustody bin/kubectl-custody share/man/man1/kcustody.1 share/bash-completion/completions/kcustody \
    share/zsh/vendor-completions/_kcustody share/fish/vendor_completions.d/kcustody.fish; do
	[ -e "$H/.local/$f" ] || t_fail "not installed: $f"
done
expect_exit 0 "$H/.local/bin/kcustody" version
expect_exit 0 env HOME="$H" make -s -C "$KC_REPO" uninstall PREFIX="$H/.local"
[ -e "$H/.local/bin/kcustody" ] && t_fail "uninstall left the binary"
t_pass

t_begin "CHANGELOG: Unreleased first, then a release section for the Makefile's VERSION; tag vVERSION is on this history"
V=$(sed -n 's/^VERSION := //p' "$KC_REPO/Makefile")
heads=$(grep '^## ' "$KC_REPO/CHANGELOG.md")
[ "$(printf '%s\n' "$heads" | head -1)" = "## [Unreleased]" ] || t_fail "the first section is not Unreleased: $(printf '%s' "$heads" | head -1)"
printf '%s\n' "$heads" | grep -Eq "^## \[$V\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$" || t_fail "no '## [$V] - DATE' section"
for s in $(awk '/^## /{sec=$2} /^### /{print sec"/"$2}' "$KC_REPO/CHANGELOG.md" | sort | uniq -d); do
	t_fail "section $s appears twice"
done
awk '/^### /{ if ($2 !~ /^(Added|Changed|Deprecated|Removed|Fixed|Security)$/) print }' "$KC_REPO/CHANGELOG.md" >"$T_DIR/bad"
[ -s "$T_DIR/bad" ] && t_fail "not a Keep a Changelog heading: $(head -1 "$T_DIR/bad")"
# a clone without tags (CI) cannot check the tag; a checkout with it must agree
if git -C "$KC_REPO" rev-parse -q --verify "refs/tags/v$V" >/dev/null; then
	git -C "$KC_REPO" merge-base --is-ancestor "v$V" HEAD || t_fail "tag v$V is not an ancestor of HEAD"
	[ "$(git -C "$KC_REPO" cat-file -t "v$V")" = tag ] || t_fail "tag v$V is not annotated"
fi
t_pass

t_summary
