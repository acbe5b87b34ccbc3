# deploy/packages.sh: sourced (not run) by deploy/quickstart.sh and tests/run.sh. Installs the
# Debian packages named in deploy/packages-*.txt that are missing, and nothing when all are
# present, so re-runs are quick and work offline.
# shellcheck shell=bash

# hdf_missing_packages FILE...: print the packages of the lists that are not installed.
hdf_missing_packages() {
    local file pkg cmd status
    for file in "$@"; do
        while read -r pkg cmd _; do
            case "$pkg" in '' | '#'*) continue ;; esac
            if [[ -n "${cmd:-}" ]] && command -v "$cmd" >/dev/null 2>&1; then
                continue
            fi
            status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
            [[ "$status" == installed ]] || printf '%s\n' "$pkg"
        done <"$file"
    done
}

# hdf_install_packages FILE...: apt-get install whatever hdf_missing_packages reports.
hdf_install_packages() {
    local missing
    mapfile -t missing < <(hdf_missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "==> installing Debian packages: ${missing[*]}"
    local -a sudo=()
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "error: missing packages and not root (no sudo): ${missing[*]}" >&2
            return 1
        fi
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
