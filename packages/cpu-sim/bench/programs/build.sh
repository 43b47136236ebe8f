#!/bin/sh
# Rebuilds the benchmark programs (committed binaries; the benchmark does not need a compiler).
set -e
cd "$(dirname "$0")"
musl-gcc -static -O2 -fno-stack-protector cpubound.c -o cpubound
strip cpubound
