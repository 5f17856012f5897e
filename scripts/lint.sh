#!/usr/bin/env bash
# Style check (CI): swift-format's lint with the repository's .swift-format (strict), and no line of
# Swift over 120 characters (swift-format cannot break a long string literal, so it does not flag it).
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Package.swift
if LC_ALL=C.UTF-8 grep -rnE '^.{121,}$' --include='*.swift' Sources Tests Package.swift; then
    echo "lint: the lines above are over 120 characters" >&2
    exit 1
fi
echo "lint: clean"
