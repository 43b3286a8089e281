#!/usr/bin/env bash
# The container engine and the Lambda runtime image that `sam local` needs,
# without any container registry.
#
#   runtime_image.sh runtime   print the runtime template.yaml names (python3.11)
#   runtime_image.sh engine    start dockerd if it is installed and not running;
#                              prints the pid of a dockerd it started, nothing else
#   runtime_image.sh image     engine, then build the image unless it exists
#
# The image stands in for public.ecr.aws/lambda/python:<version>-x86_64 (and
# :<version>), the tags `sam local --skip-pull-image` looks for: a minimal Debian
# rootfs (debootstrap) whose python3.X is the runtime's version, awslambdaric in
# /var/runtime, the aws-lambda-rie binary that ships in the aws-sam-cli wheel,
# /lambda-entrypoint.sh and /var/runtime/bootstrap, then `docker import`.
#
# Environment: TEMPLATE (template.yaml), SAM_PYTHON (.venv-sam/bin/python, the
# interpreter that has samcli), PIP (.venv/bin/pip), DEBIAN_MIRROR,
# DOCKERD_LOG (build/sam-local/dockerd.log), FORCE=1 to rebuild an existing image.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEMPLATE=${TEMPLATE:-$REPO_ROOT/template.yaml}
SAM_PYTHON=${SAM_PYTHON:-$REPO_ROOT/.venv-sam/bin/python}
PIP=${PIP:-$REPO_ROOT/.venv/bin/pip}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKERD_LOG=${DOCKERD_LOG:-$REPO_ROOT/build/sam-local/dockerd.log}
# The Docker client Debian's docker.io installs; another one earlier on PATH
# (a newer static client, say) may not speak this engine's API version.
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || echo docker)}

say() { echo "runtime_image: $*" >&2; }
die() { say "$*"; exit 1; }

# The function's Runtime and Architectures, from the function or from Globals,
# read with SAM CLI's own YAML loader (it knows the CloudFormation tags).
template_value() {
    "$SAM_PYTHON" - "$TEMPLATE" "$1" <<'PY'
import sys
from samcli.yamlhelper import yaml_parse

template = yaml_parse(open(sys.argv[1], encoding="utf-8").read())
key = sys.argv[2]
globals_ = template.get("Globals", {}).get("Function", {})
values = set()
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        value = resource.get("Properties", {}).get(key, globals_.get(key))
        if value is not None:
            values.add(str(value[0] if isinstance(value, list) else value))
if len(values) != 1:
    sys.exit(f"expected one {key} for the functions of {sys.argv[1]}, found {sorted(values)}")
print(values.pop())
PY
}

runtime() { template_value Runtime; }

engine_running() { "$DOCKER" info >/dev/null 2>&1; }

# Start dockerd (as root, default settings: there may be no systemd) and wait
# until it answers. Prints the pid of the dockerd it started.
engine() {
    if engine_running; then
        return 0
    fi
    command -v dockerd >/dev/null || die "no container engine: docker info fails and dockerd is not installed (Debian: apt-get install docker.io)"
    [ "$(id -u)" = 0 ] || die "dockerd is installed but not running, and starting it needs root"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 1 150); do
        if engine_running; then
            say "started dockerd (pid $pid, log $DOCKERD_LOG); stop it with: kill $pid"
            echo "$pid"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    die "dockerd did not come up; see $DOCKERD_LOG"
}

# The Debian suite whose python3.X is this version.
debian_suite() {
    case "$1" in
        3.11) echo bookworm ;;
        3.13) echo trixie ;;
        *) die "no Debian release has python$1 as its python3: pull public.ecr.aws/lambda/python:$1-x86_64 instead" ;;
    esac
}

image() {
    local name version arch suite
    name=$(runtime)
    [[ $name =~ ^python([0-9]+\.[0-9]+)$ ]] || die "$TEMPLATE names runtime $name; this builds python3.X images only"
    version=${BASH_REMATCH[1]}
    arch=$(template_value Architectures)
    [ "$arch" = "$(uname -m)" ] || die "the function's architecture is $arch, this machine's $(uname -m)"
    local tag="public.ecr.aws/lambda/python:$version-$arch" short="public.ecr.aws/lambda/python:$version"

    engine >/dev/null
    if [ "${FORCE:-0}" != 1 ] && "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
        "$DOCKER" tag "$tag" "$short"
        say "$tag exists (FORCE=1 rebuilds it)"
        return 0
    fi
    suite=$(debian_suite "$version")
    command -v debootstrap >/dev/null || die "debootstrap is not installed (Debian: apt-get install debootstrap)"

    local rie
    rie=$("$SAM_PYTHON" -c 'import pathlib, samcli; print(pathlib.Path(samcli.__file__).parent / "local/rapid")')/aws-lambda-rie-$arch
    [ -x "$rie" ] || die "$rie not found: install aws-sam-cli into .venv-sam (make install)"
    local ric
    ric=$(grep -o '"awslambdaric==[^"]*"' "$REPO_ROOT/pyproject.toml" | tr -d '"')
    [ -n "$ric" ] || die "pyproject.toml pins no awslambdaric"

    # Global, for the EXIT trap.
    work=$(mktemp -d "${TMPDIR:-/var/tmp}/lambda-rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    local rootfs=$work/rootfs

    say "debootstrap $suite with python$version into $rootfs ..."
    debootstrap --variant=minbase --include="python$version,ca-certificates" \
        "$suite" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    # What a container image does not need: package lists and caches, docs, translations.
    rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc \
        "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale

    # The official image keeps its Python under /var/lang.
    mkdir -p "$rootfs/var/lang/bin" "$rootfs/var/runtime" "$rootfs/var/task" "$rootfs/opt"
    for link in "python$version" python3 python; do
        ln -sf "/usr/bin/python$version" "$rootfs/var/lang/bin/$link"
    done

    say "installing $ric into /var/runtime ..."
    "$PIP" install --quiet --no-compile --target "$rootfs/var/runtime" --only-binary=:all: \
        --implementation cp --python-version "$version" --platform "manylinux2014_$arch" "$ric"
    rm -rf "$rootfs"/var/runtime/bin

    install -m 0755 "$rie" "$rootfs/usr/local/bin/aws-lambda-rie"
    cat >"$rootfs/lambda-entrypoint.sh" <<'SH'
#!/bin/sh
# docker run IMAGE HANDLER: the emulator (no Lambda runtime API around) or the runtime itself.
if [ $# -ne 1 ]; then
  echo "usage: /lambda-entrypoint.sh module.handler" >&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap
SH
    cat >"$rootfs/var/runtime/bootstrap" <<SH
#!/bin/sh
# Started by the emulator (sam local mounts its own at /var/rapid): the Python
# runtime client, with the function's code first on the path, then layers, then the runtime.
export AWS_EXECUTION_ENV=AWS_Lambda_python$version
export PYTHONPATH="\${LAMBDA_TASK_ROOT:-/var/task}:/opt/python:/var/runtime"
exec /var/lang/bin/python$version -m awslambdaric "\${_HANDLER:-\$AWS_LAMBDA_FUNCTION_HANDLER}"
SH
    chmod 0755 "$rootfs/lambda-entrypoint.sh" "$rootfs/var/runtime/bootstrap"

    say "importing $tag ..."
    tar -C "$rootfs" --numeric-owner -c . | "$DOCKER" import \
        --message "Debian $suite python$version, awslambdaric, aws-lambda-rie: a local stand-in for the Lambda $name image" \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV TZ=:/etc/localtime' \
        --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
        --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
        --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
        --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
        --change 'WORKDIR /var/task' \
        --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
        - "$tag" >/dev/null
    "$DOCKER" tag "$tag" "$short"
    say "built $tag and $short ($("$DOCKER" image inspect --format '{{.Size}}' "$tag") bytes)"
}

case "${1:-}" in
    runtime) runtime ;;
    engine) engine ;;
    image) image ;;
    *) die "usage: $0 runtime|engine|image" ;;
esac
