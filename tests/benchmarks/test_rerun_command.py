"""The command a benchmark records names its real thread count and arguments."""

import sys

import torch

from benchmarks.rerun_command import rerun_command


def test_command_names_the_thread_count_and_quotes_arguments():
    command = rerun_command("benchmarks.jko", ["--out", "a b.md"])
    threads = torch.get_num_threads()
    assert command == f"OMP_NUM_THREADS={threads} python -m benchmarks.jko --out 'a b.md'"


def test_without_arguments_the_process_arguments_are_recorded(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["jko.py", "--dims", "2"])
    assert rerun_command("benchmarks.jko", None).endswith("python -m benchmarks.jko --dims 2")
