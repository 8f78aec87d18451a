#!/bin/sh
# tools/deps.sh — check, and on Debian install, what building and testing cuguard needs.
#
# Usage: tools/deps.sh demo|test|all
#   demo  what `make` and `make demo` need (compiler, headers, libraries)
#   test  demo + what `make test` and `make fuzz` need (Check, clang and its
#         libFuzzer runtime, python3 with pytest, pytest-xdist and numba,
#         valgrind, procps)
#   all   test + what `make lint` needs (clang-format, cppcheck); .ci/run uses it
#
# Each dependency is checked directly (a header compiles, a module imports,
# a program is on PATH), so it does not matter how it was installed. When
# something is missing, the Debian packages that provide it are installed
# with apt-get: as root, or through `sudo -n` when that works without a
# password; `apt-get update` runs first when the package lists are missing,
# and again when the install fails. Otherwise the script stops with one
# message naming the exact `apt-get install` line to run.
#
# The CUDA Toolkit (headers and stub libraries under $CUDA, default
# /usr/local/cuda) is not a Debian package: its absence is reported, never
# installed.
#
# For tests: CUGUARD_DEPS_HIDE="NAME ..." pretends those checks fail (names
# as in the table below), CUGUARD_DEPS_INSTALL=no never installs.
#
# Must never: install anything but the packages of the table below, prompt,
# or print more than one message for what is missing.
set -u
group=${1:-test}
CUDA=${CUDA:-/usr/local/cuda}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
HIDE=${CUGUARD_DEPS_HIDE:-}
INSTALL=${CUGUARD_DEPS_INSTALL:-yes}

# The one list: GROUP NAME PACKAGES(comma-separated)   (the check is check_NAME)
TABLE='
demo cc         build-essential
demo pkgconfig  pkg-config
demo uthash     uthash-dev
demo libdw      libdw-dev,libelf-dev
test check      check
test clang      clang,llvm
test libfuzzer  libclang-rt-dev
test python3    python3
test pytest     python3-pytest
test xdist      python3-pytest-xdist
test numba      python3-numba
test valgrind   valgrind
test procps     procps
all  clangformat clang-format
all  cppcheck   cppcheck
'

compiles() { # HEADER: does a file including HEADER compile?
    printf '#include <%s>\nint main(void) { return 0; }\n' "$1" |
        $CC -x c -fsyntax-only - >/dev/null 2>&1
}

check_cc() { command -v "$CC" >/dev/null && command -v make >/dev/null && compiles stdio.h; }
check_pkgconfig() { command -v pkg-config >/dev/null; }
check_uthash() { compiles uthash.h; }
check_libdw() { compiles elfutils/libdw.h && compiles libelf.h; }
check_check() { pkg-config --exists check 2>/dev/null; }
check_clang() { command -v clang >/dev/null && command -v llvm-symbolizer >/dev/null; }
check_libfuzzer() {
    command -v clang >/dev/null || return 1
    out=$(mktemp) || return 1
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
        clang -fsanitize=fuzzer -x c - -o "$out" >/dev/null 2>&1
    rc=$?
    rm -f "$out"
    return $rc
}
check_python3() { [ -x "$PYTHON" ]; }
check_pytest() { "$PYTHON" -c 'import pytest' >/dev/null 2>&1; }
check_xdist() { "$PYTHON" -c 'import xdist' >/dev/null 2>&1; }
check_numba() { "$PYTHON" -c 'import numba.cuda' >/dev/null 2>&1; }
check_valgrind() { command -v valgrind >/dev/null; }
check_procps() { command -v ps >/dev/null && command -v pgrep >/dev/null; }
check_clangformat() { command -v clang-format >/dev/null; }
check_cppcheck() { command -v cppcheck >/dev/null; }

wanted() { # GROUP of a row: is it part of $group?
    case $group:$1 in
    demo:demo | test:demo | test:test | all:*) return 0 ;;
    *) return 1 ;;
    esac
}

hidden() { case " $HIDE " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Sets $missing (names) and $packages (Debian packages) for what fails now.
find_missing() {
    missing= packages=
    while read -r g name pkgs; do
        [ -n "$g" ] && wanted "$g" || continue
        if hidden "$name" || ! "check_$name"; then
            missing="$missing $name"
            packages="$packages $(echo "$pkgs" | tr ',' ' ')"
        fi
    done <<EOF
$TABLE
EOF
    missing=${missing# } packages=${packages# }
}

# How to run apt-get here: as root, through sudo -n, or not at all.
apt_runner() {
    if [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "sudo -n"
    else
        return 1
    fi
}

lists_present() { ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; }

install_packages() { # RUNNER PACKAGES...
    runner=$1
    shift
    export DEBIAN_FRONTEND=noninteractive
    if ! lists_present; then
        $runner apt-get update -q || return 1
    fi
    $runner apt-get install -y -q --no-install-recommends "$@" && return 0
    $runner apt-get update -q && $runner apt-get install -y -q --no-install-recommends "$@"
}

cuda_present() { [ -f "$CUDA/include/cuda.h" ] && [ -f "$CUDA/include/cuda_runtime_api.h" ]; }

case $group in demo | test | all) ;; *) echo "usage: tools/deps.sh demo|test|all" >&2; exit 2 ;; esac

if ! cuda_present; then
    echo "deps: the CUDA Toolkit headers are missing ($CUDA/include/cuda.h): install the CUDA" \
        "Toolkit (no GPU needed), or give its directory with CUDA=DIR" >&2
    exit 1
fi

find_missing
[ -z "$missing" ] && exit 0

line="apt-get install --no-install-recommends $packages"
if [ "$INSTALL" != no ] && command -v apt-get >/dev/null && runner=$(apt_runner); then
    echo "deps: missing $missing; installing: $packages"
    # shellcheck disable=SC2086
    if install_packages "$runner" $packages; then
        find_missing
        [ -z "$missing" ] && exit 0
    fi
    echo "deps: still missing after apt-get: $missing (run '$line' and look at its errors)" >&2
    exit 1
fi
echo "deps: missing $missing; as root run: $line" >&2
exit 1
