#!/bin/bash
# Regenerate the "OPTIONS OF EVERY COMMAND" section of man/kcustody.1 from
# each command's own --help, so that the page documents every command and
# option and cannot drift from the code (tests/cmd/test_cli.sh checks it).
# usage: man/gen-options.sh KCUSTODY_BINARY [MANPAGE]
set -euo pipefail
K=$1
M=${2:-$(dirname "$0")/kcustody.1}
begin='.\" BEGIN GENERATED: man/gen-options.sh'
end='.\" END GENERATED'
{
	echo "$begin"
	echo ".SH OPTIONS OF EVERY COMMAND"
	echo "Each command's own"
	echo ".B \\-\\-help"
	echo "text, as the program prints it."
	for c in $("$K" completion bash | sed -n 's/.*compgen -W "\([^"]*\) help version".*/\1/p' | head -n 1); do
		echo ".SS $c"
		echo ".nf"
		"$K" "$c" --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"
		echo ".fi"
	done
	echo "$end"
} > "$M.gen"
if grep -qF "$begin" "$M"; then
	# markers through the environment: awk -v would eat the backslash of .\"
	B="$begin" E="$end" G="$M.gen" awk '
		$0 == ENVIRON["B"] { while ((getline l < ENVIRON["G"]) > 0) print l; skip = 1; next }
		$0 == ENVIRON["E"] { skip = 0; next }
		!skip' "$M" > "$M.new"
else
	awk -v g="$M.gen" '/^\.SH EXIT STATUS/ && !done { while ((getline l < g) > 0) print l; done = 1 } { print }' "$M" > "$M.new"
fi
mv "$M.new" "$M"
rm -f "$M.gen"
