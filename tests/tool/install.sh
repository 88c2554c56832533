#!/bin/sh
# `make install` into a temporary prefix, then build README.md's C quick
# start against it with pkg-config, as a user would. Usage: install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/amiko-install.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cmake --install "$build" --prefix "$dir/prefix" >/dev/null
pc=$(find "$dir/prefix" -name amiko.pc | head -1)
[ -n "$pc" ] || { echo "install: no amiko.pc installed"; exit 1; }
# The first C block after "## Quick start in C" in README.md.
awk '/^## Quick start in C/{f=1} f&&/^```c/{g=1;next} g&&/^```/{exit} g' "$src/README.md" > "$dir/quickstart.c"
[ -s "$dir/quickstart.c" ] || { echo "install: README has no C quick start"; exit 1; }
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs amiko)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror "$dir/quickstart.c" $flags -o "$dir/quickstart"
echo "install: headers, library and amiko.pc work; README's quick start builds and links"
