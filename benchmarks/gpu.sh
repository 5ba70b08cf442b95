#!/usr/bin/env bash
# The GPU benchmarks in one go, sized to finish in under 10 minutes on one CUDA GPU:
#
#   1. benchmarks/train_overhead.py --gpu   bf16 LoRA tokens/s of `gsmreport train` against
#                                           the bare TRL SFTTrainer script (target >= 1x)
#   2. benchmarks/eval_throughput.py        batched eval against one-at-a-time generate and
#                                           lm-eval's hf backend, on the GPU
#   3. benchmarks/gpu_eval_check.py         `eval` on one GPU and with --device-map auto write
#                                           the same answers (the CUDA placement code paths)
#
# Meant for a machine that has torch (CUDA), transformers, peft and accelerate but maybe not
# the rest: whatever else a part imports (TRL, datasets, pydantic, ...) is installed from a
# folder of wheels carried along (pip install --no-index --find-links WHEELS), or that part
# is skipped with a line that names what is missing. Nothing is fetched from the network.
# Prepare the folder on a machine with network, with the same Python version:
#   pip download --dest wheels trl datasets typer pydantic pyyaml polars orjson jinja2 scipy
# (it fetches their dependencies too: delete the torch and nvidia-* wheels, the GPU machine
# has its own). All of that is ~210 MB without torch, too much to carry to a lent machine
# (64 MiB). The image this workplace lends (Python 3.12, with pandas, pyarrow, scipy, jinja2,
# pyyaml, typer, rich, fsspec and xxhash already) lacks only these, 57 MB measured:
#   pip download --dest wheels --no-deps --only-binary=:all: --python-version 3.12 \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
#     --platform manylinux_2_17_x86_64 trl datasets polars polars-runtime-32 orjson \
#     pydantic pydantic-core annotated-types typing-inspection dill multiprocess
# (pydantic and pydantic-core come as a matched pair: download them together). A wheels/
# folder at the repo root is untracked and not ignored, so the device tool carries it.
#
# Usage: benchmarks/gpu.sh [--dry-run] [--wheels DIR]
#   --dry-run    check the device and the packages, print the plan, run nothing (works on a
#                CPU machine: the place to try the script before spending GPU time)
#   --wheels DIR the wheels folder (default: wheels/ at the repo root, or $GSMREPORT_WHEELS)
# Environment: PYTHON (default python3), GPU_TRAIN_STEPS (40), GPU_TRAIN_REPEATS (3),
#   GPU_EVAL_PROBLEMS (128), GPU_TRAIN_TIMEOUT (300 s), GPU_EVAL_TIMEOUT (170 s),
#   GPU_CHECK_TIMEOUT (90 s): at most 9.3 minutes of parts, plus the checks before them.
# Exit status: 0 when every part ran to the end; 1 when a part was skipped, failed or timed
#   out (the others still run); 2 when nothing can run here (no CUDA device, no torch).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WHEELS="${GSMREPORT_WHEELS:-$REPO/wheels}"
DRY_RUN=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --wheels)
            [ $# -ge 2 ] || { echo "gpu.sh: --wheels needs a folder" >&2; exit 2; }
            WHEELS="$2"
            shift
            ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "gpu.sh: unknown argument '$1' (see benchmarks/gpu.sh --help)" >&2; exit 2 ;;
    esac
    shift
done

STEPS="${GPU_TRAIN_STEPS:-40}"
REPEATS="${GPU_TRAIN_REPEATS:-3}"
PROBLEMS="${GPU_EVAL_PROBLEMS:-128}"
TRAIN_TIMEOUT="${GPU_TRAIN_TIMEOUT:-300}"
EVAL_TIMEOUT="${GPU_EVAL_TIMEOUT:-170}"
CHECK_TIMEOUT="${GPU_CHECK_TIMEOUT:-90}"

# Offline and quiet: the machine may have no network, and a Hub retry would eat the budget.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=disabled
export TOKENIZERS_PARALLELISM=false PIP_DISABLE_PIP_VERSION_CHECK=1
cd "$REPO" || exit 2

say() { echo "[gpu.sh] $*"; }

# --- the device ---------------------------------------------------------------------------
# One interpreter start (importing torch takes seconds): its version, then the GPU's name.
if ! probe="$("$PY" -c 'import torch
print(torch.__version__)
print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' 2>&1)"; then
    say "torch is not importable by $PY (${probe##*$'\n'}): nothing measured;" \
        "set PYTHON to the interpreter that has torch"
    exit 2
fi
torch_line="$(sed -n 1p <<<"$probe")"
gpu="$(sed -n 2p <<<"$probe")"
if [ -z "$gpu" ]; then
    if [ "$DRY_RUN" -eq 0 ]; then
        say "no CUDA device visible to torch $torch_line" \
            "(CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}): nothing measured;" \
            "benchmarks/gpu.sh --dry-run checks the rest on a CPU machine"
        exit 2
    fi
    say "no CUDA device visible to torch $torch_line (dry run: going on with the checks)"
else
    say "device: $gpu, torch $torch_line, $PY"
fi

# --- the packages each part imports -------------------------------------------------------
# import name:distribution. torch, transformers, peft and accelerate are expected already.
EVAL_NEEDS="torch:torch transformers:transformers tokenizers:tokenizers peft:peft
    accelerate:accelerate pydantic:pydantic yaml:pyyaml"
TRAIN_NEEDS="$EVAL_NEEDS trl:trl datasets:datasets typer:typer polars:polars orjson:orjson
    jinja2:jinja2 scipy:scipy"

missing() { # the distributions of $1's pairs whose module this Python cannot find
    local pairs="$1" modules
    modules="$(for p in $pairs; do printf '%s ' "${p%%:*}"; done)"
    local absent
    absent="$("$PY" -c 'import importlib.util, sys
def absent(name):
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True
print(" ".join(m for m in sys.argv[1:] if absent(m)))' $modules)"
    local dists=()
    for p in $pairs; do
        case " $absent " in *" ${p%%:*} "*) dists+=("${p#*:}") ;; esac
    done
    echo "${dists[*]}"
}

install_from_wheels() { # install distributions $@ from $WHEELS; 0 when done
    if [ ! -d "$WHEELS" ]; then
        say "no wheels folder at $WHEELS (give one with --wheels DIR)"
        return 1
    fi
    if [ "$DRY_RUN" -eq 1 ]; then
        say "would run: $PY -m pip install --no-index --find-links $WHEELS $*"
        return 1
    fi
    local log
    log="$(mktemp)"
    say "installing from $WHEELS: $*"
    if ! "$PY" -m pip install -q --no-index --find-links "$WHEELS" "$@" >"$log" 2>&1; then
        # A distribution's own Python (PEP 668) refuses installs outside a virtualenv; this
        # machine is lent for the benchmark, so its interpreter may take them.
        if grep -q "externally-managed-environment" "$log"; then
            "$PY" -m pip install -q --no-index --find-links "$WHEELS" --break-system-packages \
                "$@" >"$log" 2>&1 || { tail -n 5 "$log"; rm -f "$log"; return 1; }
        else
            tail -n 5 "$log"
            rm -f "$log"
            return 1
        fi
    fi
    rm -f "$log"
}

can_run() { # $1: part name, $2: its pairs; 0 when every module of the part is importable
    local absent
    absent="$(missing "$2")"
    [ -z "$absent" ] && return 0
    say "$1 needs: $absent"
    install_from_wheels $absent && absent="$(missing "$2")" && [ -z "$absent" ] && return 0
    say "$1 skipped: ${absent:-packages} not importable" \
        "(put their wheels in $WHEELS: pip download --dest wheels ${absent:-...})"
    return 1
}

# lm-eval is optional (eval_throughput.py prints its own line without it); installed only when
# its wheel was carried.
if [ -z "$(missing lm_eval:lm-eval)" ]; then
    :
elif compgen -G "$WHEELS/lm_eval-*.whl" >/dev/null; then
    install_from_wheels lm-eval || say "lm-eval not installed: its comparison will be skipped"
fi

status=0
run_part() { # $1 name, $2 timeout seconds, then the command
    local name="$1" limit="$2"
    shift 2
    if [ "$DRY_RUN" -eq 1 ]; then
        # The one thing a CPU can check: the script imports and its argument parser starts.
        if "$1" "$2" --help >/dev/null 2>&1; then
            say "would run ($name, at most ${limit}s): $*"
        else
            say "$name: '$1 $2 --help' fails here: it would fail on the GPU too"
            status=1
        fi
        return
    fi
    say "$name: $*"
    local started=$SECONDS code
    timeout --signal=TERM --kill-after=10 "$limit" "$@"
    code=$?
    if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
        say "$name: stopped after ${limit}s (over its share of the 10 minutes): no figure;" \
            "lower GPU_TRAIN_STEPS / GPU_EVAL_PROBLEMS"
        status=1
    elif [ "$code" -ne 0 ]; then
        say "$name: failed with exit code $code"
        status=1
    else
        say "$name: done in $((SECONDS - started))s"
    fi
}

# --- 1. training overhead, bf16 on the GPU --------------------------------------------------
if can_run "train_overhead" "$TRAIN_NEEDS"; then
    run_part "train_overhead" "$TRAIN_TIMEOUT" \
        "$PY" benchmarks/train_overhead.py --gpu --steps "$STEPS" --repeats "$REPEATS"
else
    status=1
fi

# --- 2. evaluation throughput on the GPU ----------------------------------------------------
# SmolLM2-135M's width and depth (as train_overhead --gpu), random weights: every problem
# runs to max-new-tokens, so one-at-a-time generation stays inside its share of the budget.
if can_run "eval_throughput" "$EVAL_NEEDS"; then
    run_part "eval_throughput" "$EVAL_TIMEOUT" \
        "$PY" benchmarks/eval_throughput.py --problems "$PROBLEMS" --batch-size 32 \
        --max-new-tokens 64 --hidden 576 --layers 30 --threads 4
else
    status=1
fi

# --- 3. the evaluation's device placement on CUDA -------------------------------------------
if can_run "gpu_eval_check" "$EVAL_NEEDS"; then
    run_part "gpu_eval_check" "$CHECK_TIMEOUT" "$PY" benchmarks/gpu_eval_check.py --problems 32
else
    status=1
fi

[ "$DRY_RUN" -eq 1 ] && say "dry run: nothing measured"
exit "$status"
