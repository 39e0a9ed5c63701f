#!/bin/bash
# layers.sh - every #include "DIR/x.h" points at the same layer or one below
# (docs/ARCHITECTURE.md):
#
#   util < manifest < collector < rbac < formats < pipeline < cli
#
# An include of a higher layer is an upward edge: it is what makes cycles
# (rbac <-> collector, say) possible, so it fails the check.  Tests, fuzz
# harnesses and benchmarks sit above everything and are not checked.
# Usage: layers.sh [REPO]   (exit 1 on any violation, listing each)
set -u
repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 2
# One perl pass over every file (a process per include was slow on a busy
# machine); the messages are the ones the shell version printed.
perl -e '
	my @layers = qw(util manifest collector rbac formats pipeline cli);
	my %rank; @rank{@layers} = (0 .. $#layers);
	my ($bad, $edges) = (0, 0);
	for my $d (@layers) {
		for my $f (sort glob("$d/*.[ch]")) {
			open(my $fh, "<", $f) or die "cannot read $f: $!\n";
			while (<$fh>) {
				next unless /^\s*#\s*include\s*"([^"]*)"/;
				my $inc = $1;
				$edges++;
				my $top = $inc =~ m{^([^/]*)/} ? $1 : $d;	# "x.h": the same folder
				if (!exists $rank{$top}) {
					print STDERR "layers: $f includes \"$inc\": \x27$top\x27 is not a layer\n";
					$bad++;
				} elsif ($rank{$top} > $rank{$d}) {
					print STDERR "layers: $f includes \"$inc\": $d may not include $top (upward)\n";
					$bad++;
				}
			}
			close($fh);
		}
	}
	if ($bad) {
		print STDERR "layers: $bad upward include(s) of $edges; see docs/ARCHITECTURE.md\n";
		exit 1;
	}
	print "layers: $edges includes, none upward\n";
'
