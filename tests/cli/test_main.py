"""The ``molgen`` entry point: ``--debug`` on either side of the subcommand, ``--version``,
and usage on stderr when no subcommand is given."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from cli.main import main
from tests.reliability.cli_contract import assert_cli_rejects


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "validate-ff", "--system", "propane"],
        ["validate-ff", "--system", "propane", "--debug"],
        ["bench", "energy", "--system", "propane", "--debug"],
    ],
)
def test_debug_shows_the_traceback_before_or_after_the_subcommand(argv, capsys):
    # the exit status is that of the run without --debug (it used to be 1, "a check failed")
    assert main(argv) == 2
    error = capsys.readouterr().err
    last_line = error.rstrip().splitlines()[-1]
    assert "Traceback" in error
    assert ": error: " in last_line and "propane" in last_line


def test_without_debug_the_error_is_one_line(capsys):
    assert main(["validate-ff", "--system", "propane"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error


@pytest.mark.parametrize("command", [["validate-ff"], ["bench", "energy"], ["sample"], ["run"]])
def test_every_subcommand_lists_debug_in_its_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "--debug" in capsys.readouterr().out


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"molgen {importlib.metadata.version('molgen')}"


def test_no_subcommand_prints_usage_to_stderr_and_exits_2(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: molgen")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "molgen: error: argument COMMAND: invalid choice: 'nope'"),
        (["bench"], "molgen bench: error: the following arguments are required: BENCHMARK"),
        (["bench", "energy", "--batch", "0"], "molgen bench energy: error: argument --batch"),
        (["bench", "energy", "--seed", "-1"], "molgen bench energy: error: argument --seed"),
        (["validate-ff", "--seed", "-1"], "molgen validate-ff: error: argument --seed"),
        (["evaluate", "s", "--reference", "r", "--seed", "-1"], "evaluate: error: argument --seed"),
        (["free-energy", "s", "--seed", "-1"], "molgen free-energy: error: argument --seed"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert_cli_rejects(argv, capsys, [message])


def test_ctrl_c_is_one_line_and_exit_130_with_a_traceback_when_debugging(monkeypatch, capsys):
    import cli.validate_ff

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.validate_ff, "run", interrupted)
    assert main(["validate-ff", "--system", "butane"]) == 130
    assert capsys.readouterr().err == "molgen validate-ff: interrupted\n"
    assert main(["validate-ff", "--system", "butane", "--debug"]) == 130
    error = capsys.readouterr().err
    assert "Traceback" in error and error.endswith("molgen validate-ff: interrupted\n")


def test_ctrl_c_while_the_subcommands_are_imported_is_one_line_too(monkeypatch, capsys):
    import cli.main

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.main, "build_parser", interrupted)
    assert main(["validate-ff", "--system", "butane"]) == 130
    assert capsys.readouterr().err == "molgen: interrupted\n"


def test_sizes_beyond_memory_are_one_line_and_exit_2(capsys):
    # 10^11 frames of butane: numpy refuses the 30.6 TiB array at once
    argv = ["validate-ff", "--system", "butane", "--frames", "100000000000"]
    assert_cli_rejects(argv, capsys, ["validate-ff: error: out of memory", "smaller sizes"])


def test_a_size_whose_byte_count_overflows_is_out_of_memory_too(capsys):
    # numpy: "array is too big" (a ValueError), before any allocation is tried
    argv = ["validate-ff", "--system", "butane", "--frames", str(10**18)]
    assert_cli_rejects(argv, capsys, ["validate-ff: error: out of memory", "array is too big"])


def test_other_runtime_errors_still_show_their_traceback(monkeypatch):
    import cli.validate_ff

    def broken(args):
        raise RuntimeError("a defect, not a size")

    monkeypatch.setattr(cli.validate_ff, "run", broken)
    with pytest.raises(RuntimeError, match="a defect"):
        main(["validate-ff", "--system", "butane"])


@pytest.mark.parametrize(
    "command",
    [
        ["train", "CONFIG"],
        ["run", "--quick"],
        ["evaluate", "SAMPLES", "--reference", "REFERENCE"],
    ],
)
def test_an_output_folder_that_is_a_file_is_named(tmp_path, capsys, command):
    # used to end in an OS error from deep inside the run ("checkpoints: Not a directory")
    from tests.molgen.training.tiny import tiny_config

    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(tiny_config()))
    samples = tmp_path / "samples.npz"
    samples.write_bytes(b"")
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    stand_ins = {"CONFIG": str(config), "SAMPLES": str(samples), "REFERENCE": str(tmp_path)}
    argv = [stand_ins.get(word, word) for word in command]
    for out, message in ((a_file, "is a file, not a folder"), (a_file / "run", "is a file")):
        assert main([*argv, "--out", str(out)]) == 2
        error = capsys.readouterr().err
        assert f"--out: {out}" in error and message in error
    assert a_file.read_text() == "keep me"
