#!/usr/bin/env bash
# Style check (CI): swift-format's lint with the repository's .swift-format, strict.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Package.swift
echo "lint: clean"
