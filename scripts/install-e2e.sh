#!/usr/bin/env bash
# Installs what the end-to-end tests need on a fresh machine: Debian's Chromium and build tools, and
# code-server in .e2e/code-server/ (git-ignored, not a dependency of the extension). Idempotent: a rerun
# only checks what is there. Why each step: /work/shared/notes/vscode-e2e.md.
set -euo pipefail

cd "$(dirname "$0")/.."
# 4.100.3 is the newest code-server whose engines accept Node 20 (VS Code 1.100).
CODE_SERVER_VERSION=4.100.3
# The @vscode/ripgrep version that code-server 4.100.3 pins (lib/vscode/npm-shrinkwrap.json).
RIPGREP_PKG_VERSION=1.15.11
DEST="$PWD/.e2e/code-server"
start=$SECONDS

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages, only the missing ones (apt-get update is the slow part).
missing=()
for p in chromium ripgrep build-essential python3 libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-e2e: apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

installed_version() { node -p "require('$DEST/node_modules/code-server/package.json').version" 2>/dev/null || true; }
if [ "$(installed_version)" = "$CODE_SERVER_VERSION" ] && [ -e "$DEST/node_modules/code-server/lib/vscode/node_modules.asar" ]; then
  echo "install-e2e: code-server $CODE_SERVER_VERSION already installed ($((SECONDS - start)) s)"
  exit 0
fi

# 2. @vscode/ripgrep's postinstall downloads ripgrep unless its cache already holds the tarball:
#    give it Debian's rg instead.
rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RIPGREP_PKG_VERSION"
mkdir -p "$rg_cache"
tar czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg

# 3. code-server. Its postinstall runs a nested `npm install` in lib/vscode (native modules built from
#    source, since their prebuilt downloads fail offline); allowScripts approves the two top-level
#    install scripts so npm 11 neither skips nor flags them.
rm -rf "$DEST"
mkdir -p "$DEST"
printf '{ "private": true, "dependencies": { "code-server": "%s" },\n  "allowScripts": { "code-server": true, "argon2": true } }\n' \
  "$CODE_SERVER_VERSION" >"$DEST/package.json"
# yes: a postinstall runs `npx node-gyp` and the machine's npm config may say yes=false.
# nodedir: node-gyp builds against the installed Node headers instead of downloading them.
(cd "$DEST" && npm_config_yes=true npm_config_nodedir=/usr \
  npm install --unsafe-perm --no-audit --no-fund --loglevel=error)
# The nested install's native modules: npm reports skipped install scripts only as a warning.
vscode_modules="$DEST/node_modules/code-server/lib/vscode/node_modules"
for built in node-pty/build/Release/pty.node @vscode/spdlog/build/Release/spdlog.node @vscode/ripgrep/bin/rg; do
  [ -e "$vscode_modules/$built" ] || { echo "install-e2e: $built missing: a code-server install script did not run" >&2; exit 1; }
done
echo "install-e2e: code-server $CODE_SERVER_VERSION installed in $DEST ($((SECONDS - start)) s)"
