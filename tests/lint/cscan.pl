# cscan.pl - reading C for the rules of tests/lint/ (required, not a rule).
use strict;
use warnings;

# The text of a C file with comments blanked and the contents of string and
# character literals blanked (the quotes stay, so a literal is still seen as
# one); every newline is kept, so offsets give the right line numbers.
sub c_text {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "cannot read $path: $!\n";
	local $/;
	my $t = <$fh>;
	close($fh);
	$t =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')}{
		my $m = $1;
		if ($m =~ /^["']/) {
			my $q = substr($m, 0, 1);
			$q . (' ' x (length($m) - 2)) . $q;
		} else {
			(my $k = $m) =~ s/[^\n]/ /g;
			$k;
		}
	}gse;
	# preprocessor lines are not statements
	$t =~ s{^([ \t]*#(?:[^\n]*\\\n)*[^\n]*)}{ (my $k = $1) =~ s/[^\n]/ /g; $k }gme;
	return $t;
}

sub line_of {
	my ($t, $pos) = @_;
	return 1 + (substr($t, 0, $pos) =~ tr/\n//);
}

# The index just past the parenthesis that closes the one at $open.
sub close_paren {
	my ($t, $open) = @_;
	my $depth = 0;
	for (my $i = $open; $i < length($t); $i++) {
		my $c = substr($t, $i, 1);
		$depth++ if $c eq '(';
		$depth-- if $c eq ')';
		return $i + 1 if $depth == 0;
	}
	return length($t);
}

# The index of the parenthesis that opens the one closing at $close.
sub open_paren {
	my ($t, $close) = @_;
	my $depth = 0;
	for (my $i = $close; $i >= 0; $i--) {
		my $c = substr($t, $i, 1);
		$depth++ if $c eq ')';
		$depth-- if $c eq '(';
		return $i if $depth == 0;
	}
	return 0;
}

# The top-level comma-separated arguments of the call whose '(' is at $open.
sub call_args {
	my ($t, $open) = @_;
	my $end = close_paren($t, $open);
	my $in = substr($t, $open + 1, $end - $open - 2);
	my (@args, $cur, $depth);
	$cur = ''; $depth = 0;
	for my $c (split //, $in) {
		if ($c eq ',' && $depth == 0) { push @args, $cur; $cur = ''; next; }
		$depth++ if $c =~ /[(\[{]/;
		$depth-- if $c =~ /[)\]}]/;
		$cur .= $c;
	}
	push @args, $cur;
	return @args;
}

1;
