#!/usr/bin/env bash
# Regenerates src/driver/symbols.txt: every driver function that cudarc's bindings resolve by
# name (the `load::<_F>("cuXxx")` calls in cudarc's src/driver/sys/mod.rs, whatever their
# #[cfg(feature)]), one a line, sorted. cudarc panics on the first missing name, so build.rs
# exports a stub for each of these that the emulator does not implement.
# The cudarc source is the one /work/main's Cargo.lock resolves (cargo metadata), falling back
# to the newest cudarc-0.19.* in the cargo registry.
set -euo pipefail
emu="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$emu")"

src=""
if manifest=$(cargo metadata --format-version 1 --manifest-path "$root/Cargo.toml" 2>/dev/null |
  python3 -c 'import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "cudarc":
        print(p["manifest_path"])
        break'); then
  if [ -n "$manifest" ]; then
    src="$(dirname "$manifest")/src/driver/sys/mod.rs"
  fi
fi
if [ ! -f "$src" ]; then
  registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
  src=$(ls -d "$registry"/*/cudarc-0.19.*/src/driver/sys/mod.rs 2>/dev/null | sort -V | tail -1 || true)
fi
if [ ! -f "$src" ]; then
  echo "driver-symbols.sh: no cudarc 0.19 source (cargo metadata on $root, cargo registry)" >&2
  exit 1
fi

out="$emu/src/driver/symbols.txt"
grep -oE 'load::<_F>\("cu[A-Za-z0-9_]+"\)' "$src" | sed -E 's/.*\("(cu[A-Za-z0-9_]+)"\)/\1/' |
  LC_ALL=C sort -u >"$out.tmp"
count=$(wc -l <"$out.tmp")
if [ "$count" -lt 400 ]; then
  echo "driver-symbols.sh: only $count names found in $src; its layout changed?" >&2
  rm -f "$out.tmp"
  exit 1
fi
mv "$out.tmp" "$out"
echo "driver-symbols.sh: $count names from $src -> $out" >&2
