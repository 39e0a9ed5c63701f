#!/bin/bash
# snprintf.sh - no snprintf/vsnprintf result is thrown away.
#
# snprintf truncates silently: a path, key or member name cut short names
# a different file or member, and nothing notices.  So every call's return
# value is used and compared with the size, or the call goes through a
# util/fmt.h helper that does it:
#   kc_fmt(buf, n, fmt, ...)        KC_ERR_LIMIT (kc_err_set) on truncation
#   kc_fmt_trunc(buf, n, fmt, ...)  truncation is intended (a display
#                                   string, a detail line); says so by name
# A violation is a call whose value is discarded: a statement that starts
# with snprintf( / vsnprintf( (after ; { } else a label, or the condition of
# if/while/for), or with a (void) cast; multi-line calls included.  A value
# compared only with 0 ("snprintf(...) < 0") checks for an encoding error,
# not truncation, and is a violation too.  Comments and string literals are
# not read.
# Usage: snprintf.sh [ROOT]   (exit 1 on any violation, listing each)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
. "$here/lib.bash"
tmp=$(mktemp "${TMPDIR:-/tmp}/kc-lint-snprintf.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT
cd "$root" || exit 2
lint_sources . | sed 's|^\./||' | perl -e '
	require $ARGV[0];
	my $calls = 0;
	while (my $f = <STDIN>) {
		chomp $f;
		my $t = c_text($f);
		while ($t =~ /\b(v?snprintf)\s*\(/g) {
			my ($fn, $at, $open) = ($1, $-[0], $+[0] - 1);
			$calls++;
			# what precedes the call, back to the start of its statement at
			# most (400 bytes is plenty and keeps this linear)
			my $from = $at > 400 ? $at - 400 : 0;
			my $before = substr($t, $from, $at - $from);
			my $why;
			if ($before =~ /\(\s*void\s*\)\s*$/) {
				$why = "(void) discards";
			} elsif (($from == 0 && $before =~ /^\s*$/) || $before =~ /[;{}]\s*$/ || $before =~ /\belse\s*$/ ||
			    $before =~ /[;{}]\s*(?:case\b[^;{}?]*|default|[A-Za-z_]\w*)\s*:\s*$/) {
				$why = "the value is discarded";
			} elsif ($before =~ /\)\s*$/) {
				my $o = open_paren($t, $from + length($before =~ s/\s*$//r) - 1);
				$why = "the value is discarded"
				    if substr($t, $o > 40 ? $o - 40 : 0, $o > 40 ? 40 : $o) =~ /\b(?:if|while|for)\s*$/;
			}
			if (!defined $why) {
				my $end = close_paren($t, $open);
				$why = "only compared with 0 (truncation unchecked)"
				    if substr($t, $end) =~ /^\s*<\s*0\b/;
			}
			printf "%s:%d: %s: %s; check it against the size or use kc_fmt/kc_fmt_trunc (util/fmt.h)\n",
			    $f, line_of($t, $at), $fn, $why if defined $why;
		}
	}
	print STDERR "#calls $calls\n";
' "$here/cscan.pl" >"$tmp" 2>"$tmp.calls" || { rm -f "$tmp.calls"; exit 2; }
calls=$(sed -n 's/^#calls //p' "$tmp.calls"); rm -f "$tmp.calls"
if ! lint_report snprintf "$tmp"; then
	echo "snprintf: violations found; see docs/ARCHITECTURE.md (House rules)" >&2
	exit 1
fi
echo "snprintf: $calls calls, every result checked"
