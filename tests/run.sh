#!/usr/bin/env bash
# tests/run.sh: the whole test suite, the README's second command and all that .ci/run calls.
# On a fresh Debian 12 machine (as root, or as a user with the packages already present) it
# installs what is missing, builds Release (build/) and ASan+UBSan (build-asan/), runs the unit
# tests and fuzz-corpus replays (ctest, both builds), the clang-format check, the API tests
# (pytest against the ASan server and a private Postgres that the fixture starts itself), the
# webhook signature cross-check against the standardwebhooks npm package (a ctest), the
# OpenAPI lint and, when ../shared is beside the checkout, the conformance interface check.
#
# A failed install or build stops the run; every test step runs even if an earlier one failed.
# The last line is "steps: N passed, N failed" (CI reads it); the exit status is 0 only when
# every step passed.
#
# Knobs (environment):
#   HDF_DETECT_LEAKS=0|1      LeakSanitizer in the ASan runs (default 1); ignored if ASAN_OPTIONS is set
#   HDF_PYTEST_TIMEOUT=secs   bound on the API test step (default 600)
#   HDF_PYTEST_ARGS="..."     extra pytest arguments, e.g. "-x -k auth"
#   HDF_JOBS=N                build/ctest parallelism (default nproc)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=deploy/packages.sh
source deploy/packages.sh

JOBS=${HDF_JOBS:-$(nproc)}
PYTEST_TIMEOUT=${HDF_PYTEST_TIMEOUT:-600}
INTERFACE_CHECK=$ROOT/../shared/conformance/interface-check
TOOLS_DIR=$ROOT/build-tools/npm # gitignored (/build*/); node_modules for tests/tools
: "${HOME:=$(getent passwd "$(id -un)" | cut -d: -f6)}"
export HOME

# Sanitizer settings for everything started from here (ctest on build-asan, the API tests'
# server). UBSan is compiled with -fno-sanitize-recover, so any report is fatal as well.
HDF_DETECT_LEAKS=${HDF_DETECT_LEAKS:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=$HDF_DETECT_LEAKS:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# tests/lsan.supp: reviewed third-party leaks (h2o per-thread state), for every ASan run.
if [[ -z "${LSAN_OPTIONS:-}" && -f tests/lsan.supp ]]; then
    export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
fi

passed=0
failed=0
skipped=0
results=()

# bounded SECS CMD...: run CMD with a time limit, so a hung step cannot eat CI's budget. On a
# terminal the limit is left off: timeout(1) moves CMD out of the foreground process group,
# and Ctrl-C would no longer reach it.
bounded() {
    local secs=$1
    shift
    if [[ -t 0 ]]; then
        "$@"
    else
        timeout -k 15 "$secs" "$@"
    fi
}

# run_step NAME FUNCTION: run one step, record PASS/FAIL and how long it took.
# Step functions run with errexit off (they are called in a condition), so they chain their
# commands with && or return explicitly.
run_step() {
    local name=$1 fn=$2 start=$SECONDS rc=0
    echo
    echo "==> $name"
    "$fn" || rc=$?
    if ((rc == 0)); then
        passed=$((passed + 1))
        results+=("PASS  $name ($((SECONDS - start))s)")
    else
        failed=$((failed + 1))
        results+=("FAIL  $name (exit $rc, $((SECONDS - start))s)")
    fi
    return "$rc"
}

skip_step() {
    skipped=$((skipped + 1))
    results+=("SKIP  $1 ($2)")
    echo
    echo "==> $1: skipped ($2)"
}

summary() {
    echo
    echo "==> summary (${SECONDS}s)"
    printf '  %s\n' "${results[@]}"
    if ((skipped > 0)); then
        echo "steps: $passed passed, $failed failed, $skipped skipped"
    else
        echo "steps: $passed passed, $failed failed"
    fi
}

# Install/build steps: a failure here makes every later step meaningless, so stop.
run_fatal() {
    if ! run_step "$@"; then
        summary
        exit 1
    fi
}

step_packages() {
    hdf_install_packages deploy/packages-build.txt deploy/packages-test.txt || return
    local missing
    missing=$(hdf_missing_packages deploy/packages-build.txt deploy/packages-test.txt)
    if [[ -n "$missing" ]]; then
        echo "still missing after install: $missing" >&2
        return 1
    fi
    echo "cmake $(cmake --version | sed -n 's/^cmake version //p'), $(cc --version | head -n1)," \
        "node $(node --version), $(/usr/lib/postgresql/15/bin/postgres --version)"
}

step_build_release() {
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHDF_BUILD_TESTS=ON &&
        cmake --build build -j"$JOBS"
}

step_build_asan() {
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHDF_SANITIZE=ON -DHDF_BUILD_TESTS=ON &&
        cmake --build build-asan -j"$JOBS"
}

# Unit tests and fuzz-corpus replays are ctest tests; --no-tests=error so an empty run fails.
step_ctest_release() {
    ctest --test-dir build --output-on-failure --no-tests=error --timeout 300 -j"$JOBS"
}

step_ctest_asan() {
    ctest --test-dir build-asan --output-on-failure --no-tests=error --timeout 300 -j"$JOBS"
}

step_clang_format() {
    local -a dirs=() files=()
    local d
    for d in server/src tests/unit tests/fuzz; do
        [[ -d "$d" ]] && dirs+=("$d")
    done
    if ((${#dirs[@]} > 0)); then
        mapfile -t files < <(find "${dirs[@]}" -path tests/fuzz/corpus -prune -o \
            -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort)
    fi
    if ((${#files[@]} == 0)); then
        echo "no C sources found" >&2
        return 1
    fi
    echo "checking ${#files[@]} files against .clang-format"
    clang-format --dry-run --Werror "${files[@]}"
}

# The fixture in tests/api/conftest.py starts its own Postgres cluster and the server named by
# HDF_BIN. pytest exits 5 when it collected no tests: that is a failure too.
step_api_tests() {
    local rc=0
    local -a extra=()
    read -r -a extra <<<"${HDF_PYTEST_ARGS:-}"
    bounded "$PYTEST_TIMEOUT" env -u PYTHONPATH -u PYTHONHOME HDF_BIN="$ROOT/build-asan/helpdeskflow" \
        /usr/bin/python3 -m pytest -q -ra -p no:cacheprovider tests/api "${extra[@]}" || rc=$?
    case $rc in
    0) ;;
    5) echo "pytest collected no tests: counted as a failure" >&2 ;;
    124 | 137) echo "pytest did not finish within ${PYTEST_TIMEOUT}s" >&2 ;;
    esac
    return "$rc"
}

# Node tools pinned with a lockfile in tests/tools (@redocly/cli for the OpenAPI lint, the
# standardwebhooks package for the webhook signature cross-check that ctest runs), installed once
# into build-tools/npm and reinstalled when the lockfile changes. Before ctest, which needs them.
step_node_tools() {
    if ! cmp -s tests/tools/package-lock.json "$TOOLS_DIR/package-lock.json" ||
        [[ ! -x "$TOOLS_DIR/node_modules/.bin/redocly" ]] || [[ ! -d "$TOOLS_DIR/node_modules/standardwebhooks" ]]; then
        mkdir -p "$TOOLS_DIR" &&
            cp tests/tools/package.json tests/tools/package-lock.json "$TOOLS_DIR/" &&
            (cd "$TOOLS_DIR" && bounded 600 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
            return
    fi
    echo "Node tools ready in $TOOLS_DIR (tests/tools/package-lock.json)"
}

# @redocly/cli (recommended ruleset, tuned in redocly.yaml if present).
step_openapi_lint() {
    REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
        bounded 300 "$TOOLS_DIR/node_modules/.bin/redocly" lint schemas/openapi.yaml
}

step_interface_check() {
    bounded 300 /usr/bin/python3 "$INTERFACE_CHECK" build/helpdeskflow
}

run_fatal "install packages" step_packages
run_fatal "build Release (build/)" step_build_release
run_fatal "build ASan+UBSan (build-asan/)" step_build_asan

run_step "install Node test tools (build-tools/npm)" step_node_tools || true
# the webhook cross-check (ctest webhook_interop) fails rather than skips without its package
export HDF_REQUIRE_NODE_TOOLS=1
run_step "unit tests + fuzz replays, Release (ctest)" step_ctest_release || true
run_step "unit tests + fuzz replays, ASan+UBSan (ctest)" step_ctest_asan || true
run_step "clang-format" step_clang_format || true
run_step "API tests, ASan+UBSan server (pytest)" step_api_tests || true
run_step "OpenAPI lint (redocly)" step_openapi_lint || true
if [[ -f "$INTERFACE_CHECK" ]]; then
    run_step "conformance interface check" step_interface_check || true
else
    skip_step "conformance interface check" "no $INTERFACE_CHECK"
fi

summary
((failed == 0))
