import pytest

from benchmark.params import ParamError
from features.extract.sources import discover


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_class_folders_take_every_visible_file_whatever_its_extension(tmp_path):
    for rel in (
        "Joy/b.MP4",
        "Joy/a.webm",
        "Joy/sub/c.mkv",
        "Joy/.hidden.mp4",
        "anger/d.AvI",
        ".cache/e.mp4",
        "loose.mp4",
    ):
        touch(tmp_path / rel)
    sources = discover(tmp_path)
    assert sources.classes == ["Joy", "anger"]
    assert [v.id for v in sources.videos] == ["Joy/a.webm", "Joy/b.MP4", "Joy/sub/c.mkv", "anger/d.AvI"]
    assert [v.label for v in sources.videos] == ["Joy", "Joy", "Joy", "anger"]
    assert sources.ignored == [tmp_path / "loose.mp4"]


def test_manifest_paths_are_relative_to_the_videos_dir(tmp_path):
    touch(tmp_path / "clips" / "x.mp4")
    manifest = tmp_path / "list.csv"
    manifest.write_text(f"path,label\nclips/x.mp4,Fear\n{tmp_path / 'elsewhere.mp4'},Joy\n")
    sources = discover(tmp_path, manifest)
    assert [(v.id, v.label, v.path) for v in sources.videos] == [
        ("Fear/x.mp4", "Fear", tmp_path / "clips" / "x.mp4"),
        ("Joy/elsewhere.mp4", "Joy", tmp_path / "elsewhere.mp4"),
    ]


def test_manifest_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("file,class\na.mp4,Joy\n")
    with pytest.raises(ParamError, match="path,label"):
        discover(tmp_path, bad)
    twice = tmp_path / "twice.csv"
    twice.write_text("path,label\na/x.mp4,Joy\nb/x.mp4,Joy\n")
    with pytest.raises(ParamError, match=r"'Joy/x\.mp4'.*id"):
        discover(tmp_path, twice)
    with pytest.raises(ParamError, match="not a directory"):
        discover(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParamError, match="no class folders"):
        discover(tmp_path / "empty")
