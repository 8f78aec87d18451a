#!/bin/sh
# tools/manpage.sh — write the cuguard(1) man page from the program's own help.
#
# Usage: tools/manpage.sh path/to/cuguard > cuguard.1
# The page is `cuguard --help` and `cuguard COMMAND --help` for each command
# it lists, as preformatted troff sections, so the man page and --help can
# never disagree. `make man` (and `make install`) run it.
#
# Must never: edit the help text beyond escaping it for troff.
set -eu
CG=$1

# Escape for troff: backslashes, and a leading dot or quote on a line.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

version=$("$CG" --version | sed 's/^cuguard //')
commands=$("$CG" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')

echo ".TH CUGUARD 1 \"\" \"cuguard $version\" \"User Commands\""
echo ".SH NAME"
echo "cuguard \\- find CUDA event, stream and pinned-memory lifecycle bugs"
echo ".SH SYNOPSIS"
for c in $commands; do
    echo ".B cuguard $c"
    echo "[OPTIONS] ..."
    echo ".br"
done
echo ".SH DESCRIPTION"
echo ".nf"
"$CG" --help | escape
echo ".fi"
for c in $commands; do
    echo ".SH \"cuguard $c\""
    echo ".nf"
    "$CG" "$c" --help | escape
    echo ".fi"
done
echo ".SH FILES"
echo "Traces: \\fIDIR\\fP/run-YYYYmmdd-HHMMSS-PID/\\fIhost\\fP-\\fIpid\\fP-\\fIstart\\fP.cgt, one per process;"
echo "\\fIDIR\\fP/latest points at the latest run."
echo ".SH SEE ALSO"
echo "The documents installed in share/doc/cuguard (README.md, design.md, environment.md,"
echo "json-schema.md, trace-format.md)."
