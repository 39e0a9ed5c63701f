#!/usr/bin/env bash
# The differential corpus (issue 10): every hostile re-encoding of a genuine
# bundle that tests/cmd/tarcraft.py can make (gzip container, end marker,
# member set, header fields and encodings, typeflags, pax and GNU extension
# headers, the pax-global + Solaris-ACL hidden stream).  For each variant:
#   - kcustody verify says INVALID (exit 3), or VALID only when GNU tar,
#     bsdtar and Python's tarfile all extract exactly the signed members;
#   - the VERIFY.txt commands of the genuine bundle, run as written on the
#     variant, either fail or leave exactly the signed members; and the
#     trusted key beside the bundle (the canary) and the extraction folder's
#     parent are unchanged either way.
# Also reported, not asserted: which variants each extractor would have
# read differently from the signed evidence (why canonical-only matters).
# No cluster needed.
# shellcheck disable=SC2317
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
CRAFT="python3 $here/tarcraft.py"
FIX=$KC_REPO/tests/data/bundles-0.1
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-hostile.XXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
cd "$W" || exit 1

# type, path and SHA-256 of everything under $1, sorted.
tree_digest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort | while read -r y p; do
		if [ "$y" = f ]; then printf 'f %s %s\n' "$p" "$(sha256sum <"$p" | cut -d' ' -f1)"
		else printf '%s %s\n' "$y" "$p"; fi
	done)
}

# Extract $2 with tool $1 into a fresh folder under an empty parent; print
# the tree digest of the parent (so anything written beside the folder shows).
extract_with() {
	local tool=$1 b=$2 d
	d=$(mktemp -d "$W/ex.XXXX")
	mkdir "$d/x"
	case $tool in
	gnutar) tar -xzf "$b" -C "$d/x" >/dev/null 2>&1 ;;
	bsdtar) bsdtar -xzf "$b" -C "$d/x" >/dev/null 2>&1 ;;
	tarfile) python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t: t.extractall(sys.argv[2], filter="data")' "$b" "$d/x" >/dev/null 2>&1 ;;
	esac
	local rc=$?
	chmod -R u+w "$d"
	tree_digest "$d"
	rm -rf "$d"
	return $rc
}

# Run the VERIFY.txt commands in file $4 as written on variant $2 placed
# under the genuine name; every line must exit 0.  $1 genuine bundle, $3
# trusted key.  Prints "pass" or "fail", then the tree digest of
# the folder (the canary signer.pub.pem is in it).
run_steps() {
	local g=$1 v=$2 key=$3 steps=$4 d top rc=0
	d=$(mktemp -d "$W/vt.XXXX")
	top=$(basename "$g" .tar.gz)
	cp "$v" "$d/$top.tar.gz"
	cp "$key" "$d/signer.pub.pem"
	cp "$steps" "$d/verify.sh"
	(cd "$d" && while IFS= read -r line; do
		eval "$line" >/dev/null 2>&1 || exit 1
	done <verify.sh) || rc=1
	[ "$rc" = 0 ] && echo pass || echo fail
	chmod -R u+w "$d"
	tree_digest "$d"
	rm -rf "$d"
}

t_begin "a genuine bundle for the corpus: long names (pax and ustar-splittable), spaces"
mkdir -p st/raw/pods "st/raw/name with spaces" "st/raw/$(printf 'd%.0s' {1..90})"
printf '{"kind":"PodList","items":[]}\n' >st/raw/pods/page-0001.json
printf 'x\n' >"st/raw/name with spaces/a b.txt"
printf 'long\n' >"st/raw/$(printf 'd%.0s' {1..90})/$(printf 'f%.0s' {1..40}).json"
printf 'pax\n' >"st/raw/$(printf 'e%.0s' {1..120}).json"
"$K" keygen -o k.pem --pub k.pub >/dev/null 2>&1
G=$W/IR-10_pre_corpus_20261129T120000Z.tar.gz
expect_exit 0 "$K" seal st -o "$G" --key k.pem --mtime 2026-11-29T12:00:00Z
expect_exit 0 "$K" verify "$G" --pubkey k.pub
mkdir gx && tar -xzf "$G" -C gx 2>/dev/null && chmod -R u+w gx
tree_digest gx >genuine.tree
[ "$(wc -l <genuine.tree)" -ge 10 ] || t_fail "genuine tree too small"
"$K" inspect "$G" VERIFY.txt | sed -n 's/^    //p' >steps-fresh.sh
out=$(run_steps "$G" "$G" k.pub steps-fresh.sh)
[ "$(head -n1 <<<"$out")" = pass ] || t_fail "VERIFY.txt steps fail on the genuine bundle"
t_pass

# corpus_round GENUINE KEY LABEL STEPS
corpus_round() {
	local g=$1 key=$2 label=$3 steps=$4 dir n cls what rc total=0 inv=0 ok=0 steps_failed=0
	local -A fooled=([gnutar]=0 [bsdtar]=0 [tarfile]=0)
	dir=$W/corpus-$label
	$CRAFT corpus "$g" "$dir" || { t_fail "tarcraft corpus failed"; return; }
	rm -rf gx && mkdir gx && tar -xzf "$g" -C gx 2>/dev/null && chmod -R u+w gx
	tree_digest gx >"genuine-$label.tree"
	# What a clean extraction looks like from the parent: x/ then the members.
	{ echo "d x"; sed -E 's/^(.) /\1 x\//' "genuine-$label.tree"; } | LC_ALL=C sort >"parent-$label.tree"
	canary=$(sha256sum <"$key" | cut -d' ' -f1)
	while IFS=$'\t' read -r n cls what; do
		total=$((total + 1))
		v=$dir/$n.tar.gz
		"$K" verify "$v" --pubkey "$key" >"$W/v.out" 2>&1
		rc=$?
		if [ "$cls" = valid ]; then
			[ "$rc" = 0 ] || t_fail "$label/$n ($what): a benign re-compression is not VALID (exit $rc)"
		elif [ "$rc" != 3 ]; then
			t_fail "$label/$n ($what): verify exit $rc, want 3: $(grep -m1 -E 'FAILED|VALID' "$W/v.out")"
		fi
		[ "$rc" = 3 ] && inv=$((inv + 1))
		# Every extractor: what it would have read.
		for tool in gnutar bsdtar tarfile; do
			extract_with "$tool" "$v" | LC_ALL=C sort >"$W/t.tree"
			if ! cmp -s "$W/t.tree" "parent-$label.tree"; then
				fooled[$tool]=$((fooled[$tool] + 1))
				[ "$rc" = 0 ] && t_fail "$label/$n: VALID but $tool extracts something else"
			fi
		done
		# VERIFY.txt as written, with the trusted key as the canary.
		out=$(run_steps "$g" "$v" "$key" "$steps")
		res=$(head -n1 <<<"$out")
		[ "$res" = fail ] && steps_failed=$((steps_failed + 1))
		grep -q "^f signer.pub.pem $canary\$" <<<"$out" || t_fail "$label/$n ($what): the trusted key beside the bundle changed"
		if grep -vE "^(f signer.pub.pem |f verify.sh |[df] $(basename "$g" .tar.gz)\.)" <<<"$out" | sed 1d | grep -q .; then
			t_fail "$label/$n ($what): VERIFY.txt steps wrote outside the extraction folder: $(grep -vE "^(f signer.pub.pem |f verify.sh |[df] $(basename "$g" .tar.gz)\.)" <<<"$out" | sed 1d | head -n2 | tr '\n' ' ')"
		fi
		if [ "$res" = pass ] && [ "$cls" != valid ]; then
			# Passing is allowed only when what was unpacked is the signed evidence.
			sed 1d <<<"$out" | sed -n "s|^\([df]\) $(basename "$g" .tar.gz)\.check/x/|\1 |p" | LC_ALL=C sort >"$W/s.tree"
			cmp -s "$W/s.tree" "genuine-$label.tree" || t_fail "$label/$n ($what): VERIFY.txt steps passed on other evidence"
		fi
		[ "$rc" = 0 ] && ok=$((ok + 1))
	done <"$dir/INDEX"
	printf '  %s: %d variants: %d INVALID, %d VALID (benign re-compressions); VERIFY.txt steps failed on %d\n' \
	    "$label" "$total" "$inv" "$ok" "$steps_failed"
	printf '  extracted differently from the signed members by: GNU tar %d, bsdtar %d, tarfile(data filter) %d\n' \
	    "${fooled[gnutar]}" "${fooled[bsdtar]}" "${fooled[tarfile]}"
	[ "$total" -ge 60 ] || t_fail "$label: only $total variants"
}

t_begin "differential corpus over a freshly sealed bundle: every hostile variant INVALID, nothing escapes"
corpus_round "$G" k.pub fresh steps-fresh.sh
t_pass

t_begin "differential corpus over a bundle sealed by 0.1 (committed fixture), checked by today's steps"
# A 0.1 bundle carries the 0.1 VERIFY.txt (unpack beside the bundle); the
# procedure of docs/FORMAT.md section 7 today is the one a verifier follows.
cp "$FIX/IR-0.1_pre_fixture_20261130T000000Z.tar.gz" "$W/"
sed "s/$(basename "$G" .tar.gz)/IR-0.1_pre_fixture_20261130T000000Z/g" steps-fresh.sh >steps-v01.sh
corpus_round "$W/IR-0.1_pre_fixture_20261130T000000Z.tar.gz" "$FIX/fixture-signer.pub.pem" v01 steps-v01.sh
t_pass

t_begin "0.1 fixtures still verify, and say what they do not bind"
for f in "$FIX"/*.tar.gz; do
	expect_exit 0 "$K" verify "$f" --pubkey "$FIX/fixture-signer.pub.pem"
	expect_grep "not bound \(sealed by 0.1\)" "$T_OUT"
	expect_exit 3 "$K" verify "$f" --pubkey k.pub
done
t_pass

t_begin "the top folder and mtime are bound: a renamed top folder with a recomputed container is INVALID"
# Re-seal-free rename: every member moved under another top folder, headers
# otherwise as seal writes them (so only the manifest binding can catch it).
# A short-named bundle, so every header can be rewritten in place.
mkdir -p st2/raw && printf 'x\n' >st2/raw/a.json
G2=$W/IR-10_pre_short_20261129T120000Z.tar.gz
"$K" seal st2 -o "$G2" --key k.pem --mtime 2026-11-29T12:00:00Z >/dev/null 2>&1
python3 -c '
import sys; sys.path.insert(0, sys.argv[1])
import tarcraft
raw, ms = tarcraft.read_stream(sys.argv[2])
old = ms[0].name; new = "IR-10_post_short_20261129T120000Z/"
for m in ms:
    m.hdr = tarcraft.ustar(m.hdr, new + m.name[len(old):]); m.name = new + m.name[len(old):]
tarcraft.write(sys.argv[3], tarcraft.emit(ms))
mt = ms[0].hdr[136:148]; later = b"%011o " % (int(mt[:11], 8) + 60)
_, ms = tarcraft.read_stream(sys.argv[2])
for m in ms:
    m.hdr = tarcraft.set_field(m.hdr, 136, 12, later)
tarcraft.write(sys.argv[4], tarcraft.emit(ms))
' "$here" "$G2" "$W/renamed.tar.gz" "$W/retimed.tar.gz"
expect_exit 3 "$K" verify renamed.tar.gz --pubkey k.pub
expect_grep "manifest +FAILED .*sealed for 'IR-10_pre_short_20261129T120000Z'" "$T_OUT"
expect_exit 3 "$K" verify retimed.tar.gz --pubkey k.pub
expect_grep "manifest +FAILED .*mtime" "$T_OUT"
expect_exit 0 "$K" verify "$G2" --pubkey k.pub
expect_grep "top folder and mtime bound" "$T_OUT"
t_pass

t_summary
