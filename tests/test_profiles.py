import pytest

from explain_utils.common.names import PROFILES
from explain_utils.profiles.data import data_config


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_valid(profile, tmp_path):
    config = data_config(profile, output_dir=tmp_path)
    assert config.profile == profile


def test_override_and_none_means_default(tmp_path):
    assert data_config("smoke", output_dir=tmp_path, modulus=None).modulus == 10
    assert data_config("smoke", output_dir=tmp_path, modulus=30).modulus == 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "fast"}, "profile must be one of 'smoke', 'quick', 'paper'"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"modulus": 1}, "modulus must be an integer >= 2"),
        ({"train_length": [30, 10]}, "train_length is an empty or inverted range"),
        ({"train_length": [10]}, "train_length must be a pair"),
        ({"test_long_length": [0, 10]}, r"test_long_length\[0\] must be >= 3"),
        ({"n_train": 0}, "n_train must be >= 1"),
        ({"tasks": ["sorting"]}, "tasks must only contain"),
        ({"tasks": []}, "tasks must be a non-empty list"),
        ({"max_args": 1}, "max_args must be >= 2"),
        ({"colour": "red"}, "unknown data parameter"),
        ({"output_dir": ""}, "output_dir must be a directory path"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, message, tmp_path):
    kwargs = {"output_dir": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=message):
        data_config(**kwargs)


def test_output_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="output_dir must be a directory"):
        data_config("smoke", output_dir=f)


def test_from_notebook_takes_the_builders_arguments_and_overrides_from_a_namespace(tmp_path):
    from explain_utils.profiles.checks import from_notebook
    from explain_utils.profiles.data import data_config

    namespace = {"profile": "smoke", "output_dir": str(tmp_path), "n_train": 123, "unrelated": 1}
    config = from_notebook(data_config, namespace)
    assert config.n_train == 123 and str(config.output_dir) == str(tmp_path)
    with pytest.raises(ValueError, match="profile must be one of"):
        from_notebook(data_config, {**namespace, "profile": "fast"})
