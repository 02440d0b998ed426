"""The benchmark command is wired up (its figures come from ``make bench``, not from tests)."""

import pytest

from explain_utils import bench


def test_bench_command_parses_its_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
    assert "--steps" in capsys.readouterr().out
