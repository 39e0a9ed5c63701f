#!/bin/bash
# banned.sh - calls that have no safe use in kcustody's C sources.
#
#   strcpy strcat sprintf vsprintf   no bound: use kc_fmt (util/fmt.h), kc_buf
#                                    (util/buf.h) or memcpy with a checked length
#   gets                             no bound at all
#   strtok                           hidden state, not reentrant: strtok_r
#   atoi atol atoll atof             no error detection ("12x", overflow):
#                                    strtol/strtoul/strtod with endptr and errno
#   tmpnam tempnam mktemp            a name another process can take first:
#                                    mkstemp, mkdtemp, O_EXCL
#   system popen                     a shell: its quoting turns data into
#                                    commands; posix_spawn with an argv
#                                    (exec credential plugins do, kubeconfig.c)
#
# A call is a name followed by "(" outside comments and string literals, in
# the C files of util manifest collector rbac formats pipeline cli.
#
# Exceptions are per call site, in the EXCEPTIONS table below: the file, the
# banned call, a fragment of the source line that identifies the call site,
# and the reason.  There are none: no site needs one (exec plugins run
# through posix_spawn, never popen/system).
# Usage: banned.sh [ROOT]   (exit 1 on any violation, listing each)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
. "$here/lib.bash"

# FILE<TAB>CALL<TAB>LINE FRAGMENT<TAB>REASON, one a line.
EXCEPTIONS=''

cd "$root" || exit 2
out=$(lint_sources . | EXCEPTIONS="$EXCEPTIONS" perl -e '
	require $ARGV[0];
	my @allow = map { [split /\t/] } grep { /\S/ } split /\n/, $ENV{EXCEPTIONS};
	my $banned = qr/\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|atof|tmpnam|tempnam|mktemp|system|popen)\s*\(/;
	my ($bad, $files) = (0, 0);
	while (my $f = <STDIN>) {
		chomp $f;
		$files++;
		my $t = c_text($f);
		open(my $fh, "<", $f) or die;
		my @src = <$fh>;
		close($fh);
		while ($t =~ /$banned/g) {
			my ($fn, $at) = ($1, $-[0]);
			# a member or a declaration of our own named so is not a call
			next if substr($t, 0, $at) =~ /(?:->|\.)\s*$/;
			my $ln = line_of($t, $at);
			next if grep { $_->[0] eq $f && $_->[1] eq $fn && index($src[$ln - 1], $_->[2]) >= 0 } @allow;
			print "$f:$ln: $fn() is banned (tests/lint/banned.sh says why and what to use)\n";
			$bad++;
		}
	}
	print "#files $files\n";
	exit($bad ? 1 : 0);
' "$here/cscan.pl")
rc=$?
if [ "$rc" -ne 0 ]; then
	printf '%s\n' "$out" | grep -v '^#files' | sed 's/^/banned: /' >&2
	echo "banned: violations found; see docs/ARCHITECTURE.md (House rules)" >&2
	exit 1
fi
echo "banned: $(printf '%s\n' "$out" | sed -n 's/^#files //p') files, no banned call"
