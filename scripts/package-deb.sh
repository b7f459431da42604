#!/usr/bin/env bash
# Builds Pith's Debian package: both programs, a desktop entry and icons,
# the manual page and the bash, zsh and fish completions generated from the
# command line's own definitions.
#
#   scripts/package-deb.sh                 the portable release build (no
#                                          target-cpu=native, no path of this
#                                          machine compiled in), packaged in
#                                          target/portable/
#   scripts/package-deb.sh --from DIR OUT  packages the programs already built
#                                          in DIR into OUT (the test build, for
#                                          the install check of ./pith.sh test)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
die() { printf 'package-deb: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
arch="$(dpkg --print-architecture)"
compress=xz
if [ "${1:-}" = "--from" ]; then
  [ $# -eq 3 ] || die "usage: scripts/package-deb.sh --from DIR OUT"
  bin="$2"; out="$3"
  # A check of the package's shape, not a release: fast compression.
  compress=gzip
else
  npm run -s build:ui
  # The path of the checkout and of the home folder become "." and "~" in
  # every file name the binaries keep (panic locations, debug paths).
  RUSTFLAGS="--remap-path-prefix=$root=. --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=~/.cargo --remap-path-prefix=$HOME=~" \
    cargo build --release --target-dir target/portable -p pith -p pith-desktop \
    --features pith-desktop/custom-protocol
  bin=target/portable/release; out=target/portable
  for b in pith pith-desktop; do
    if grep -aq "$root" "$bin/$b"; then
      die "$bin/$b holds the path $root of this machine"
    fi
  done
fi
for b in pith pith-desktop; do [ -x "$bin/$b" ] || die "no $bin/$b: build it first"; done

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pith"
install -Dm755 "$bin/pith" "$pkg/usr/bin/pith"
install -Dm755 "$bin/pith-desktop" "$pkg/usr/bin/pith-desktop"
"$bin/pith" generate-docs "$stage/docs"
install -Dm644 "$stage/docs/pith.1" "$pkg/usr/share/man/man1/pith.1"
gzip -9n "$pkg/usr/share/man/man1/pith.1"
install -Dm644 "$stage/docs/pith.bash" "$pkg/usr/share/bash-completion/completions/pith"
install -Dm644 "$stage/docs/_pith" "$pkg/usr/share/zsh/vendor-completions/_pith"
install -Dm644 "$stage/docs/pith.fish" "$pkg/usr/share/fish/vendor_completions.d/pith.fish"
for size in 32x32 64x64 128x128; do
  install -Dm644 "assets/icons/$size.png" "$pkg/usr/share/icons/hicolor/$size/apps/pith.png"
done
install -Dm644 "assets/icons/128x128@2x.png" "$pkg/usr/share/icons/hicolor/256x256/apps/pith.png"
install -Dm644 /dev/stdin "$pkg/usr/share/applications/pith.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Pith
GenericName=Writing assistant
Comment=Private writing help from small local language models
Exec=pith-desktop
Icon=pith
Terminal=false
Categories=Office;Utility;
Keywords=rephrase;summarize;chat;llm;
DESKTOP
install -Dm644 /dev/stdin "$pkg/usr/share/doc/pith/copyright" <<COPYRIGHT
Pith is licensed under MIT OR Apache-2.0.
Models are not included; the default model is fetched on request.
COPYRIGHT
size="$(du -sk "$pkg/usr" | cut -f1)"
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: pith
Version: $version
Architecture: $arch
Maintainer: Pith <pith@localhost>
Installed-Size: $size
Depends: libc6, libgcc-s1, libstdc++6, libgomp1, libwebkit2gtk-4.1-0, libgtk-3-0, libsoup-3.0-0, libjavascriptcoregtk-4.1-0, libxdo3
Recommends: libayatana-appindicator3-1, xclip, xdotool
Section: utils
Priority: optional
Description: private writing help from small local language models
 Pith runs small language models on this computer, with no network: it
 rephrases the clipboard from a global shortcut, summarizes documents,
 chats with a history, runs commands (action items, calendar events,
 replies, your own), and serves a local OpenAI-compatible API.
CONTROL
mkdir -p "$out"
deb="$out/pith_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compress" --build "$pkg" "$deb" >/dev/null
printf '%s\n' "$deb"
