#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compiler launcher of the `make tsa` build (-DPHENIX_SYNTAX_ONLY=ON): runs the compile command it
# is given with -fsyntax-only, so Clang parses, instantiates and analyses every function
# (-Wthread-safety runs in Sema, at the end of each function body) but generates no code, then
# leaves an empty file as the object so Ninja and the static-library steps stay incremental.
# The dependency file (-MD -MF) is still written, so a header change re-analyses what includes it.
# Nothing links these libraries: the build only exists for its diagnostics.
set -euo pipefail
out=""
prev=""
for arg in "$@"; do
  if [[ "$prev" == "-o" ]]; then out="$arg"; fi
  prev="$arg"
done
"$@" -fsyntax-only
if [[ -n "$out" ]]; then
  : >"$out"
fi
