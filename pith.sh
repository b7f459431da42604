#!/usr/bin/env bash
# Pith's two set-up commands, for a fresh Debian/Ubuntu machine:
#
#   ./pith.sh start   install what is missing, fetch the default model, build, open the app
#   ./pith.sh test    the same set-up (plus the second test model), then every test
#
# Installs apt packages when run as root; otherwise prints the exact command.
# CARGO_TARGET_DIR is honoured, so a warm build folder can be shared.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'pith.sh: %s\n' "$*" >&2; exit 1; }

# Build and run: compilers, llama.cpp's cmake build, WebKitGTK for the window.
APT_BUILD=(build-essential pkg-config cmake clang libclang-dev libssl-dev
           libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
           python3 python3-pip file xdotool xclip)
# End-to-end tests: a virtual screen, input and clipboard tools, screenshots, WebDriver.
APT_TEST=(xvfb xauth xdotool xclip imagemagick webkit2gtk-driver x11-utils iproute2 python3-gi gir1.2-gtk-3.0)

install_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing system packages. Run:
  sudo apt-get update && sudo apt-get install -y ${missing[*]}
then run this command again."
  fi
}

check_rust() {
  command -v cargo >/dev/null || die "Rust is not installed. Install it with rustup (https://rustup.rs), then run this command again."
  local v; v=$(rustc --version | awk '{print $2}')
  [ "$(printf '%s\n1.95.0\n' "$v" | sort -V | head -n1)" = "1.95.0" ] || die "Rust $v is too old; Pith needs 1.95 or newer (rustup update)."
}

install_npm() {
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || die "Node.js $(node --version) is too old; the UI build needs Node.js 18 or newer."
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

install_tauri_driver() {
  # The W3C WebDriver bridge the end-to-end tests drive the window through.
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    say "installing tauri-driver"
    cargo install tauri-driver --locked --version 2.0.6
  fi
}

install_cargo_fuzz() {
  # The fuzzer driver; the targets build with stable Rust (no sanitizer).
  if ! command -v cargo-fuzz >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
  fi
}

install_cargo_deny() {
  # Built in the build folder, so a warm one (a CI cache) skips the compile.
  if ! command -v cargo-deny >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo-deny" ]; then
    say "installing cargo-deny"
    cargo install cargo-deny --locked --version 0.20.2 --target-dir "$(target_dir)/tools"
  fi
}

# Dependency hygiene: licenses, duplicate versions and sources always
# (deny.toml); the advisory databases (RustSec's on GitHub, the npm
# registry's audit endpoint) wherever they can be reached, saying so where
# they cannot.
check_dependencies() {
  say "dependencies: licenses, duplicates, sources, advisories"
  cargo deny --log-level error check licenses bans sources
  local out
  if ! out="$(cargo deny --log-level error check advisories 2>&1)"; then
    if grep -qiE "unable to access|could not resolve|failed to (fetch|clone|open)" <<<"$out"; then
      say "advisories: the RustSec database cannot be fetched from this machine; not checked"
    else
      printf '%s\n' "$out" >&2
      die "cargo deny found advisories (see above)"
    fi
  fi
  if ! out="$(npm audit --audit-level=high 2>&1)"; then
    if grep -qE "audit endpoint returned an error|ENOTFOUND|EAI_AGAIN" <<<"$out"; then
      say "npm audit: this registry answers no audit requests; not checked"
    else
      printf '%s\n' "$out" >&2
      die "npm audit found vulnerabilities (see above)"
    fi
  fi
}

install_pydeps() {
  # The official OpenAI client, which the API's end-to-end test drives
  # Pith with; kept in the build folder, away from the system's Python.
  local dir; dir="$(target_dir)/pydeps"
  if [ ! -f "$dir/.installed" ] || [ tests/e2e/requirements.txt -nt "$dir/.installed" ]; then
    say "installing the end-to-end tests' Python packages"
    rm -rf "$dir"
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$dir" -r tests/e2e/requirements.txt
    touch "$dir/.installed"
  fi
}

run_fuzz() { # seconds per target
  local t log
  (cd fuzz && cargo fuzz build --sanitizer none -O)
  for t in documents pdf docx html text gguf state settings api_json; do
    mkdir -p "fuzz/corpus/$t"
    log="$(mktemp)"
    if (cd fuzz && cargo fuzz run --sanitizer none -O "$t" "corpus/$t" "seeds/$t" -- \
          -max_total_time="$1" -rss_limit_mb=2048 -timeout=20) >"$log" 2>&1; then
      echo "fuzz $t: $(grep -E '^Done' "$log" | tail -n1)" >&2
      rm -f "$log"
    else
      tail -n 40 "$log" >&2
      die "fuzz target $t found a crash (fuzz/artifacts/$t; see above)"
    fi
  done
}

target_dir() {
  cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

setup() { # extra apt packages...
  install_apt "${APT_BUILD[@]}" "$@"
  check_rust
  install_npm
}

cmd_start() {
  setup
  say "fetching the default model"
  scripts/fetch-models.sh
  say "building"
  npm run -s build:ui
  cargo build --workspace --all-targets
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    die "no display: the app needs a desktop session (the command line works anywhere: $(target_dir)/debug/pith --help)"
  fi
  say "starting Pith"
  exec "$(target_dir)/debug/pith-desktop"
}

cmd_test() {
  setup "${APT_TEST[@]}"
  install_tauri_driver
  install_cargo_fuzz
  install_cargo_deny
  install_pydeps
  say "fetching the models the tests use"
  scripts/fetch-models.sh --all
  say "format and lint"
  cargo fmt --all --check
  npm run -s check:ui
  npm run -s build:ui
  cargo clippy --workspace --all-targets -- -D warnings
  check_dependencies
  say "UI unit tests"
  npm run -s test:ui
  say "Rust tests (unit, real model, command line)"
  cargo test --workspace --all-targets
  say "fuzz: a short bounded run of every parser's target from its seeds"
  run_fuzz 15
  say "end-to-end: the real app under Xvfb"
  PITH_DESKTOP_BIN="$(target_dir)/debug/pith-desktop" PITH_PYDEPS="$(target_dir)/pydeps" \
    python3 -m unittest discover -s tests/e2e -t . -v
  package_check
}

# The .deb built from the test build's programs (the release package is
# `scripts/package-deb.sh`), installed with dpkg, run from the PATH, and
# removed again. Installing needs root (as in CI); otherwise the package is
# only built and its contents listed.
package_check() {
  say "package: the .deb, installed and run"
  local deb; deb="$(scripts/package-deb.sh --from "$(target_dir)/debug" "$(target_dir)/package")"
  say "built $deb ($(du -h "$deb" | cut -f1))"
  dpkg-deb --contents "$deb" | grep -c './usr/share/man/man1/pith.1.gz' >/dev/null || die "the package has no manual page"
  if [ "$(id -u)" -ne 0 ]; then
    say "not root: the package is built but not installed (sudo dpkg -i $deb)"
    return
  fi
  dpkg -i "$deb" >/dev/null
  local ok=0
  python3 -m tests.e2e.installed || ok=$?
  dpkg -r pith >/dev/null
  [ "$ok" -eq 0 ] || die "the installed package does not run (see above)"
}

case "${1:-}" in
  start) cmd_start ;;
  test) cmd_test ;;
  *) echo "usage: ./pith.sh start | test" >&2; exit 2 ;;
esac
