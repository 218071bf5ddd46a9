#!/usr/bin/env bash
# Builds lowbit's Debian packages (dpkg-buildpackage -us -uc -b; not the -dbgsym ones), checks them
# with lintian (errors fail, warnings are listed), installs them with apt and
# tests what was installed: `lowbit --version`, `man lowbit`, a C program
# built with pkg-config and a CMake project with find_package, `import
# lowbit` and the Python test suite. Then removes the packages and checks
# nothing of them is left. Needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh --all
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
root=$PWD
out=$root/build/debs
rm -rf "$out"
mkdir -p "$out/src"

# dpkg-buildpackage writes next to the source tree: build in a copy under build/debs
git ls-files -z --cached --others --exclude-standard | tar -c --null -T - -f - | tar -x -C "$out/src"
echo "== dpkg-buildpackage" >&2
(cd "$out/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) noautodbgsym" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1) ||
  { tail -60 "$out/build.log" >&2; echo "test-debs: dpkg-buildpackage failed (log: $out/build.log)" >&2; exit 1; }
ls "$out"/*.deb | sed 's|.*/|   |' >&2
packages=(liblowbit0 liblowbit-dev lowbit python3-lowbit)
debs=()
for p in "${packages[@]}"; do debs+=("$out/${p}_"*.deb); done

echo "== lintian" >&2
lintian --fail-on error --tag-display-limit 0 "$out"/*.changes | tee "$out/lintian.txt" >&2 ||
  { echo "test-debs: lintian reports errors" >&2; exit 1; }

cleanup() { $sudo apt-get remove -y -qq --purge "${packages[@]}" >/dev/null 2>&1 || true; }
trap cleanup EXIT
echo "== apt-get install" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >"$out/install.log" 2>&1 ||
  { cat "$out/install.log" >&2; exit 1; }

echo "== installed lowbit" >&2
# from a folder outside the tree, so nothing resolves to the build
cd "$out"
version=$(/usr/bin/lowbit --version)
[[ $version == "lowbit $(sed -n 's/^project(lowbit VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")" ]] ||
  { echo "test-debs: lowbit --version printed '$version'" >&2; exit 1; }
echo "   $version" >&2
# the page read whole first (grep -q would stop reading early: SIGPIPE for man under pipefail)
# (wide, and runs of spaces squeezed: man justifies lines to the terminal's width)
page=$(MANWIDTH=200 man -P cat lowbit 2>/dev/null | tr -s ' ') || { echo "test-debs: man lowbit failed" >&2; exit 1; }
grep -q "quantize large language models to GGUF" <<<"$page" ||
  { echo "test-debs: man lowbit does not show the manual page" >&2; exit 1; }
/usr/bin/lowbit quantize "$root/models/stories260K.gguf" "$out/cli-q4_k_m.gguf" Q4_K_M >/dev/null 2>&1
"$root/tests/install/run_consumers.sh" /usr "$root/models/stories260K.gguf" "$out/consumers" >&2
/usr/bin/python3 -c "import lowbit, sys; print('   python: lowbit', lowbit.__version__, lowbit.__file__, file=sys.stderr)"
/usr/bin/python3 -c "import lowbit; assert lowbit.__file__.startswith('/usr/lib/python3/dist-packages/'), lowbit.__file__"
LOWBIT_CLI=/usr/bin/lowbit /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/python" >&2

echo "== apt-get remove" >&2
trap - EXIT
$sudo env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "${packages[@]}" >"$out/remove.log" 2>&1 ||
  { cat "$out/remove.log" >&2; exit 1; }
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
    echo "test-debs: $p is still installed" >&2
    exit 1
  fi
done
left=$(ls /usr/bin/lowbit /usr/include/lowbit /usr/lib/*/liblowbit* /usr/lib/python3/dist-packages/lowbit 2>/dev/null || true)
[[ -z $left ]] || { echo "test-debs: left after removal: $left" >&2; exit 1; }
echo "== Debian packages ok" >&2
