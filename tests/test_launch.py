"""Scale-out: `accelerate launch` command lines, a SLURM batch script, and real 2-process runs.

The multi-process tests start accelerate's own launcher on the CPU (gloo); nothing here
needs a GPU or a cluster. The SLURM script is checked with `bash -n` and then executed
against stand-ins for `scontrol` and `srun` that play two nodes.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from gsmreport import pipeline
from gsmreport.core.config import LaunchSettings
from gsmreport.core.errors import ConfigError, GsmReportError, NotFoundError, UsageError
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.launch import accelerate as acc
from gsmreport.launch.command import train_command
from gsmreport.launch.process import run_job
from gsmreport.launch.slurm import SlurmOptions, check_time, sbatch_script
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[1]
ACCELERATE_CONFIGS = sorted((REPO / "configs" / "accelerate").glob("*.yaml"))
DDP_CPU = REPO / "configs" / "accelerate" / "ddp-cpu.yaml"
NO_GPUS = lambda: 0  # noqa: E731 - the GPU count of a CPU machine, for checks that read it


def gsm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd)


# --- command lines ------------------------------------------------------------------


def test_one_process_is_the_plain_job(tmp_path: Path) -> None:
    cmd = train_command(tmp_path, LaunchSettings(), python="py")
    assert cmd == ["py", "-m", "gsmreport.jobs.train", str(tmp_path)]


def test_n_processes_go_through_accelerate_launch_with_valid_flags(tmp_path: Path) -> None:
    from accelerate.commands.launch import launch_command_parser

    cmd = train_command(tmp_path, LaunchSettings(num_processes=4), python="py")
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"]
    assert cmd[-3:] == ["-m", "gsmreport.jobs.train", str(tmp_path)]
    # accelerate's own parser must accept every flag we pass, with the meaning we intend
    args = launch_command_parser().parse_args(cmd[3:])
    assert (args.num_processes, args.num_machines, args.multi_gpu) == (4, 1, True)
    assert args.module and args.training_script == "gsmreport.jobs.train"
    assert args.training_script_args == [str(tmp_path)]
    assert not args.cpu  # --cpu would start one process, not four


def test_a_config_file_names_the_strategy_and_keeps_its_own_process_count(tmp_path: Path) -> None:
    from accelerate.commands.launch import launch_command_parser

    cfg = str(REPO / "configs" / "accelerate" / "fsdp.yaml")
    plain = train_command(tmp_path, LaunchSettings(accelerate_config=cfg), python="py")
    args = launch_command_parser().parse_args(plain[3:])
    assert args.config_file == cfg and args.num_processes is None and not args.multi_gpu
    more = train_command(
        tmp_path, LaunchSettings(accelerate_config=cfg, num_processes=2), python="py"
    )
    assert launch_command_parser().parse_args(more[3:]).num_processes == 2


@pytest.mark.parametrize("path", ACCELERATE_CONFIGS, ids=lambda p: p.name)
def test_example_accelerate_configs_load_in_accelerate(path: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))  # rejects unknown keys
    assert config.compute_environment.value == "LOCAL_MACHINE"
    assert config.num_processes >= 2


def test_example_configs_cover_ddp_fsdp_deepspeed() -> None:
    kinds = {yaml.safe_load(p.read_text())["distributed_type"] for p in ACCELERATE_CONFIGS}
    assert {"MULTI_GPU", "FSDP", "DEEPSPEED"} <= kinds
    assert yaml.safe_load(DDP_CPU.read_text())["use_cpu"] is True


# --- checks before a run exists ----------------------------------------------------------


def test_resolve_makes_the_config_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(DDP_CPU, tmp_path / "mine.yaml")
    monkeypatch.chdir(tmp_path)
    out = acc.resolve_launch(LaunchSettings(accelerate_config="mine.yaml"), gpus=NO_GPUS)
    assert out.accelerate_config == str(tmp_path / "mine.yaml")


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        (None, NotFoundError, "accelerate config not found"),
        ("distributed_type: [MULTI_GPU\n", ConfigError, "not valid YAML"),
        ("- MULTI_GPU\n", ConfigError, "must be a mapping"),
    ],
)
def test_bad_accelerate_config_is_one_line(
    tmp_path: Path, text: str | None, error: type[GsmReportError], fragment: str
) -> None:
    path = tmp_path / "acc.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(error) as info:
        acc.resolve_launch(LaunchSettings(accelerate_config=str(path)), gpus=NO_GPUS)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_more_processes_than_gpus_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--num-processes 4 is more than the 2 GPU\(s\)"):
        acc.resolve_launch(LaunchSettings(num_processes=4), gpus=lambda: 2)
    acc.resolve_launch(LaunchSettings(num_processes=2), gpus=lambda: 2)
    acc.resolve_launch(LaunchSettings(num_processes=4), gpus=NO_GPUS)  # CPU: processes


def test_gpu_count_comes_from_the_config_file_when_not_given(tmp_path: Path) -> None:
    path = tmp_path / "ddp.yaml"
    path.write_text("distributed_type: MULTI_GPU\nnum_processes: 8\n")
    with pytest.raises(UsageError, match="--num-processes 8"):
        acc.resolve_launch(LaunchSettings(accelerate_config=str(path)), gpus=lambda: 4)
    # the SLURM job runs elsewhere: this machine's GPUs do not count
    acc.resolve_launch(LaunchSettings(accelerate_config=str(path)), slurm=True, gpus=lambda: 4)


def test_visible_gpus_asks_a_child_interpreter() -> None:
    import torch

    expected = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert acc.visible_gpus() == expected


def test_nodes_need_slurm() -> None:
    with pytest.raises(UsageError, match="--nodes 2 needs --slurm"):
        acc.resolve_launch(LaunchSettings(nodes=2), gpus=NO_GPUS)


def test_missing_accelerate_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # accelerate is a dependency here, so hide it from the finder the check consults
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "accelerate" else real(name, *a),
    )
    with pytest.raises(GsmReportError, match="accelerate is not installed"):
        acc.resolve_launch(LaunchSettings(num_processes=2), gpus=NO_GPUS)
    acc.resolve_launch(LaunchSettings())  # one process never needs it


# --- SLURM --------------------------------------------------------------------------------


def _script(tmp_path: Path, **launch: object) -> str:
    run_dir = tmp_path / "runs" / "r1"
    return sbatch_script(
        run_dir, LaunchSettings.model_validate(launch), SlurmOptions(time="02:00:00"), python="py"
    )


def test_sbatch_script_has_every_directive_and_valid_syntax(tmp_path: Path) -> None:
    text = _script(tmp_path, nodes=2, num_processes=4)
    directives = [line for line in text.splitlines() if line.startswith("#SBATCH")]
    log = tmp_path / "runs" / "r1" / "logs" / "slurm-%j.out"
    assert directives == [
        "#SBATCH --job-name=gsmreport-r1",
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --cpus-per-task=32",
        "#SBATCH --time=02:00:00",
        f"#SBATCH --output={log}",
    ]
    script = tmp_path / "s.sbatch"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert 'scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1' in text
    assert "export MASTER_PORT=" in text and "srun --kill-on-bad-exit=1" in text
    for flag in ("--num_machines", "--machine_rank", "--main_process_ip", "--main_process_port"):
        assert flag in text


def _fake_cluster(tmp_path: Path) -> dict[str, str]:
    """`scontrol` names two nodes; `srun` runs the task once per node, as SLURM would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text("#!/bin/bash\nprintf 'gpu-a\\ngpu-b\\n'\n")
    (bin_dir / "srun").write_text(
        "#!/bin/bash\nshift  # --kill-on-bad-exit=1\n"
        'for id in 0 1; do SLURM_NODEID=$id "$@" || exit $?; done\n'
    )
    # stands in for the cluster's python: prints the argv accelerate launch would get
    (bin_dir / "python").write_text(
        '#!/bin/bash\nprintf "%s|" "$@" >> "$ARGV_LOG"\necho >> "$ARGV_LOG"\n'
    )
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SLURM_JOB_NODELIST": "gpu-[a-b]",
        "SLURM_NNODES": "2",
        "SLURM_JOB_ID": "123456",
        "ARGV_LOG": str(tmp_path / "argv.log"),
    }


def test_sbatch_script_sets_the_rendezvous_per_node(tmp_path: Path) -> None:
    env = _fake_cluster(tmp_path)
    run_dir = tmp_path / "runs with space" / "r1"
    text = sbatch_script(
        run_dir,
        LaunchSettings(nodes=2, num_processes=4),
        python=str(tmp_path / "bin" / "python"),
    )
    script = tmp_path / "job.sbatch"
    script.write_text(text)
    subprocess.run(["bash", str(script)], check=True, env={**os.environ, **env}, timeout=30)
    lines = Path(env["ARGV_LOG"]).read_text().splitlines()
    assert len(lines) == 2  # one launcher per node
    for node, line in enumerate(lines):
        argv = line.rstrip("|").split("|")
        assert argv[:3] == ["-m", "accelerate.commands.launch", "--multi_gpu"]
        assert argv[-3:] == ["-m", "gsmreport.jobs.train", str(run_dir.resolve())]
        opts = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 3, 2)}
        assert opts == {
            "--num_machines": "2",
            "--machine_rank": str(node),  # read on each node, not once on the first
            "--main_process_ip": "gpu-a",
            "--main_process_port": str(20000 + 123456 % 20000),
            "--num_processes": "8",
        }


def test_sbatch_script_passes_the_accelerate_config(tmp_path: Path) -> None:
    cfg = "/cluster/configs/deepspeed.yaml"
    text = _script(tmp_path, nodes=2, num_processes=8, accelerate_config=cfg)
    assert f"export GSMREPORT_ACCELERATE_CONFIG={cfg}" in text
    assert '--config_file "$GSMREPORT_ACCELERATE_CONFIG"' in text and "--multi_gpu" not in text


def test_single_gpu_slurm_job_has_no_multi_gpu_flag(tmp_path: Path) -> None:
    # accelerate refuses --multi_gpu for one process in total
    assert "--multi_gpu" not in _script(tmp_path, nodes=1, num_processes=1)


@pytest.mark.parametrize("value", ["90", "04:00:00", "2-00:00:00", "1-12"])
def test_slurm_time_forms(value: str) -> None:
    assert check_time(value) == value


def test_bad_slurm_time() -> None:
    with pytest.raises(UsageError, match="not a SLURM time limit"):
        check_time("4h")


# --- CLI: --dry-run and --slurm -------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config whose model and data exist as folders (nothing is trained from it)."""
    (tmp_path / "model").mkdir()
    write_gsm8k_folder(tmp_path / "data", n_train=4, n_test=2)
    (tmp_path / "run.yaml").write_text("model: model\ndata: {path: data}\n")
    return tmp_path


def test_dry_run_prints_the_launch_and_creates_nothing(project: Path) -> None:
    proc = gsm("train", "run.yaml", "--accelerate-config", str(DDP_CPU), "--dry-run", cwd=project)
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout.strip())
    assert argv[1:5] == ["-m", "accelerate.commands.launch", "--config_file", str(DDP_CPU)]
    assert argv[-1] == str(project / "runs" / "run")
    assert not (project / "runs").exists()


def test_dry_run_with_num_processes(project: Path) -> None:
    proc = gsm("train", "run.yaml", "--num-processes", "2", "--dry-run", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "--multi_gpu --num_processes 2" in proc.stdout
    assert not (project / "runs").exists()


def test_slurm_dry_run_prints_the_script_only(project: Path) -> None:
    proc = gsm(
        "train", "run.yaml", "--slurm", "--nodes", "2", "--num-processes", "4", "--dry-run",
        cwd=project,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#!/bin/bash\n") and "#SBATCH --nodes=2" in proc.stdout
    assert not (project / "runs").exists()


def test_slurm_writes_the_script_into_a_pending_run(project: Path) -> None:
    proc = gsm("train", "run.yaml", "--slurm", "--nodes", "2", "--time", "90", cwd=project)
    assert proc.returncode == 0, proc.stderr
    script = project / "runs" / "run" / "slurm.sbatch"
    assert f"sbatch {script}" in proc.stdout
    assert "#SBATCH --time=90" in script.read_text()
    record = RunStore(project / "runs").read("run")
    assert record.status == "pending" and record.command == ["sbatch", str(script)]
    assert record.config["launch"] == {"num_processes": 1, "accelerate_config": None, "nodes": 2}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--accelerate-config", "missing.yaml"], "accelerate config not found: missing.yaml"),
        (["--nodes", "2"], "--nodes 2 needs --slurm"),
        (["--time", "90"], "use it with --slurm"),
        (["--slurm", "--time", "soon"], "not a SLURM time limit"),
    ],
)
def test_launch_mistakes_are_one_error_line(project: Path, args: list[str], fragment: str) -> None:
    proc = gsm("train", "run.yaml", *args, cwd=project)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (project / "runs").exists()


# --- real multi-process runs on the CPU -------------------------------------------------


def _launch(run_dir: Path, script: Path, mode: str) -> list[str]:
    """accelerate launch of a probe script (not a module), with the flags train uses."""
    flags = acc.launch_args(LaunchSettings(num_processes=2))
    return [sys.executable, *acc.LAUNCHER, *flags, str(script), str(run_dir), mode]


PROBE = """
import sys, time
from pathlib import Path
from gsmreport.jobs.common import rank, run_guarded, set_status

run_dir, mode = Path(sys.argv[1]), sys.argv[2]
set_status(run_dir, "running")

def body():
    ready = run_dir / "ready"
    if rank() == 0:
        ready.touch()
    while not ready.exists():
        time.sleep(0.05)
    if mode == "peer-fails" and rank() == 1:
        raise ValueError("rank one broke")
    deadline = time.monotonic() + 120  # a stop that never comes ends as `completed`: a failure
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return {}

sys.exit(run_guarded(run_dir, body))
"""


def _probe_run(tmp_path: Path, dirs: Dirs, run_id: str) -> tuple[Path, Path]:
    store = RunStore(dirs.runs)
    store.create(RunRecord(id=run_id, kind="train"))
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    return store.path(run_id), script


@pytest.mark.slow
def test_a_failing_peer_fails_the_run_with_its_reason(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, script = _probe_run(tmp_path, dirs, "peer")
    code = run_job(_launch(run_dir, script, "peer-fails"), run_dir / "logs" / "stdout.log")
    record = RunStore(dirs.runs).read("peer")
    assert code != 0
    assert record.status == "failed", (run_dir / "logs" / "stdout.log").read_text()
    assert record.error == "rank 1: ValueError: rank one broke"
    assert not list((run_dir / "logs").glob("rank-*.failed"))  # consumed by rank 0


@pytest.mark.slow
def test_cancel_interrupts_every_rank_and_rank_0_records_it(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, script = _probe_run(tmp_path, dirs, "stop")
    cancel = threading.Event()

    def cancel_when_ready() -> None:
        while not (run_dir / "ready").exists() and not cancel.is_set():
            cancel.wait(0.05)
        cancel.set()

    watcher = threading.Thread(target=cancel_when_ready, daemon=True)
    watcher.start()
    code = run_job(_launch(run_dir, script, "wait"), run_dir / "logs" / "stdout.log", cancel=cancel)
    cancel.set()
    record = RunStore(dirs.runs).read("stop")
    assert code != 0
    assert record.status == "interrupted", (run_dir / "logs" / "stdout.log").read_text()


@pytest.mark.slow
def test_two_process_ddp_training_on_cpu(
    tmp_path: Path, dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiny model through accelerate launch in 2 gloo processes: one record, no duplicates."""
    from gsmreport.jobs.tiny_model import build_tiny_model

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = write_gsm8k_folder(tmp_path / "data", n_train=40, n_test=4, seed=5)
    model = build_tiny_model(tmp_path / "model", data / "train.jsonl")
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text(
        f"model: {model}\nmethod: lora\ndata: {{path: {data}}}\n"
        "training: {epochs: 1, learning_rate: 0.005, batch_size: 4, max_length: 128, "
        "logging_steps: 1}\n"
        f"launch: {{accelerate_config: {DDP_CPU}}}\n"
    )
    record = pipeline.train(dirs, cfg, run_id="ddp")
    log = (dirs.runs / "ddp" / "logs" / "stdout.log").read_text()
    assert record.status == "completed", log
    assert record.hardware is not None and record.hardware.count == 2
    assert record.command[2] == "accelerate.commands.launch"
    events = [
        json.loads(line) for line in (dirs.runs / "ddp" / "metrics.jsonl").read_text().splitlines()
    ]
    train_steps = [e["step"] for e in events if "loss" in e.get("logs", {})]
    eval_steps = [e["step"] for e in events if "eval_loss" in e.get("logs", {})]
    assert train_steps == sorted(set(train_steps)) and eval_steps == sorted(set(eval_steps))
    # each optimizer step saw 2 x 4 examples: the data was split between the ranks
    assert record.model_extra is not None
    assert train_steps[-1] == math.ceil(record.model_extra["n_train"] / 8)
    assert log.count("[gsmreport] training") == 1  # rank 1 trained quietly
