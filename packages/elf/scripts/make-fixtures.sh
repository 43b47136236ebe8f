#!/bin/sh
# Rebuilds the small binary fixtures in test/fixtures/bin from test/fixtures/src. The fuzz and
# error-message tests read the committed binaries, so they run without a compiler and give the
# same cases everywhere; run this only when the sources change, then commit the binaries.
# Needs gcc, GNU as/ld, and sys/sdt.h (Debian: systemtap-sdt-dev).
set -eu
cd "$(dirname "$0")/../test/fixtures"
mkdir -p bin
small="-Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--build-id=sha1 -Wl,--hash-style=gnu"
gcc -Os -fPIE -pie -nostartfiles -o bin/tiny64 src/tiny64.c $small
gcc -Os -fPIC -shared -nostartfiles -o bin/tinylib.so src/tinylib.c -Wl,--version-script=src/tinylib.map $small
as --32 -o bin/tiny32.o src/tiny32.s
ls -l bin
