#!/bin/bash
# digest_cmp.sh - digests, MACs and signatures are compared in constant time.
#
# strcmp/strncmp/memcmp (and bcmp, strcasecmp) stop at the first differing
# byte, so the time they take tells an attacker how much of a forged digest
# or MAC was right.  Compare them with kc_digest_eq (NUL-terminated, hex) or
# kc_mem_eq_ct (bytes) from util/sha256.h: lengths first, then CRYPTO_memcmp.
#
# A violation is such a call where an operand names a digest: the last
# identifier of the operand (a->rs.sha256 -> sha256, sums->v[i].hex -> hex,
# get_sig(x) -> get_sig), split at '_' and camelCase, has a part sha/shaN,
# digest(s), hash(es), sig(s)/signature(s), mac(s), hmac or tag(s); also
# hex (what this code calls a hex digest: KC_SHA256_HEX) and fpr/fingerprint
# (the SHA-256 of a key).
# Comparisons with a string literal are not digest comparisons (an
# algorithm name, a fixed marker) and are skipped.  Comments and string
# contents are not read.
# Usage: digest_cmp.sh [ROOT]   (exit 1 on any violation, listing each)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
. "$here/lib.bash"
tmp=$(mktemp "${TMPDIR:-/tmp}/kc-lint-digest.XXXXXX") || exit 2
trap 'rm -f "$tmp" "$tmp.n"' EXIT
cd "$root" || exit 2
lint_sources . | perl -e '
	require $ARGV[0];
	my $part = qr/^(?:sha\d*|digests?|hash|hashes|sigs?|signatures?|macs?|hmacs?|tags?|hex|fpr|fingerprints?)$/i;
	my $calls = 0;
	# the identifier an operand ends in: bracketed and parenthesised parts
	# (indexes, call arguments, casts) removed first
	sub last_ident {
		my ($s) = @_;
		1 while $s =~ s/\[[^\[\]]*\]//g;
		1 while $s =~ s/\([^()]*\)//g;
		my @ids = $s =~ /([A-Za-z_]\w*)/g;
		return @ids ? $ids[-1] : "";
	}
	sub digestish {
		my ($id) = @_;
		for my $p (split /_+/, $id =~ s/([a-z0-9])([A-Z])/$1_$2/gr) {
			return 1 if $p =~ $part;
		}
		return 0;
	}
	while (my $f = <STDIN>) {
		chomp $f;
		my $t = c_text($f);
		while ($t =~ /\b(strn?cmp|memcmp|bcmp|strn?casecmp)\s*\(/g) {
			my ($fn, $at, $open) = ($1, $-[0], $+[0] - 1);
			$calls++;
			my @a = call_args($t, $open);
			next if @a < 2;
			next if grep { /^\s*"/ } @a[0, 1];
			my @hit = grep { digestish($_) } map { last_ident($_) } @a[0, 1];
			next unless @hit;
			printf "%s:%d: %s on %s; compare digests with kc_digest_eq or kc_mem_eq_ct (util/sha256.h)\n",
			    $f, line_of($t, $at), $fn, $hit[0];
		}
	}
	print STDERR "#calls $calls\n";
' "$here/cscan.pl" >"$tmp" 2>"$tmp.n" || { cat "$tmp.n" >&2; exit 2; }
calls=$(sed -n 's/^#calls //p' "$tmp.n")
if ! lint_report digest_cmp "$tmp"; then
	echo "digest_cmp: violations found; see docs/ARCHITECTURE.md (House rules)" >&2
	exit 1
fi
echo "digest_cmp: $calls comparisons, none of a digest"
