"""`bench extract` end to end on clips made with PyAV (random-init Swin and VGGish: no downloads)."""

from __future__ import annotations

import csv
import json
import re

import numpy as np

from features.store import open_store
from tests.features.extract.conftest import FRAMES, PERSON, UNREADABLE, bench, copy_videos, extract_args


def rows(store, ids):
    position = {i: n for n, i in enumerate(store.ids)}
    return [position[i] for i in ids]


def test_store_holds_every_readable_video_and_lists_the_rest(extracted):
    out, output = extracted
    store = open_store(out)
    assert sorted(store.ids) == sorted(PERSON + ["Calm/blank.mkv"])
    assert store.classes == ["Calm", "Joy"] and store.frames == FRAMES
    assert store.dims == {"visual": 768, "audio": 128, "skeleton": 99}
    with open(out / "failures.csv") as handle:
        failures = {row["id"]: row["reason"] for row in csv.DictReader(handle)}
    assert set(failures) == set(UNREADABLE)
    assert "0 bytes" in failures["Calm/zero.mp4"] and "Invalid data" in failures["Calm/corrupt.mp4"]
    assert "2 could not be extracted" in " ".join(output.split())
    assert "randomly initialised" in output


def test_meta_records_extractors_weights_and_sampling(extracted):
    out, _ = extracted
    meta = json.loads((out / "meta.json").read_text())
    visual, audio, skeleton = (meta["modalities"][m] for m in ("visual", "audio", "skeleton"))
    assert visual["extractor"] == "swin_tiny_patch4_window7_224" and visual["library"] == "timm" and visual["version"]
    assert audio["library"] == "torchvggish" and audio["window_s"] == 0.96
    assert skeleton["library"] == "mediapipe" and skeleton["version"] == "0.10.21" and skeleton["tracking"] is True
    assert visual["weights"] == audio["weights"] == "random-init"
    assert skeleton["weights"].startswith("sha256:")
    assert meta["frames"] == FRAMES and "centres of T equal segments" in meta["extraction"]["sampling"]
    assert meta["name"] == "clips"
    assert open_store(out).random_extractors == ["visual", "audio"]


def test_blazepose_finds_the_person_and_nobody_in_the_blank_clip(extracted):
    store = open_store(extracted[0])
    skeleton, mask = np.asarray(store.arrays["skeleton"]), np.asarray(store.masks["skeleton"])
    person = rows(store, PERSON)
    assert mask[person].mean() >= 0.8
    landmarks = skeleton[person][mask[person]].reshape(-1, 33, 3)
    # normalised image coordinates: the nose (landmark 0) lies inside the picture, above the hips (23, 24)
    assert np.all((landmarks[:, 0, :2] > 0) & (landmarks[:, 0, :2] < 1))
    assert np.all(landmarks[:, 0, 1] < landmarks[:, [23, 24], 1].mean(axis=1))
    blank = rows(store, ["Calm/blank.mkv"])
    assert not mask[blank].any() and not skeleton[blank].any()


def test_audio_mask_is_false_without_sound(extracted):
    store = open_store(extracted[0])
    audio, mask = np.asarray(store.arrays["audio"]), np.asarray(store.masks["audio"])
    silent = rows(store, ["Joy/silent.AVI", "Calm/blank.mkv"])
    toned = rows(store, ["Joy/tone1.mp4", "Calm/tone3.mov"])
    assert not mask[silent].any() and not audio[silent].any()
    assert mask[toned].all() and np.abs(audio[toned]).sum() > 0
    assert store.index.set_index("id").loc["Joy/silent.AVI", "audio_stream"] in (False, "False")


def test_rerun_extracts_nothing_and_says_so(extracted, clip_dir):
    out, _ = extracted
    before = (out / "meta.json").stat().st_mtime_ns
    again = bench(*extract_args(clip_dir, out, "--name", "clips"))
    assert again.exit_code == 0, again.output
    text = " ".join(again.output.split())
    assert "nothing to extract" in text and "0 to extract, 6 already extracted, 2 failed before" in text
    assert "store unchanged" in text
    assert (out / "meta.json").stat().st_mtime_ns == before


def test_bench_run_accepts_the_store(extracted, tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text(
        'name = "tiny"\n[[rows]]\nname = "full"\nmodel = "proposed"\nmodalities = ["visual", "audio", "skeleton"]\n'
    )
    result = bench(
        "run",
        "--suite",
        str(suite),
        "--features",
        str(extracted[0]),
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--frames",
        str(FRAMES),
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    assert result.exit_code == 0, result.output
    # 3 videos per class allow only 9 distinct splits: two seeded splits can coincide, and then one is reused
    trained, reused = map(int, re.search(r"trained (\d+) split runs, reused (\d+)", result.output).groups())
    assert trained >= 1 and trained + reused == 2


def test_strict_stops_at_the_first_unreadable_video(clip_dir, tmp_path):
    videos = copy_videos(clip_dir, tmp_path / "videos", ["Calm/corrupt.mp4", "Joy/tone1.mp4"])
    result = bench(*extract_args(videos, tmp_path / "store", "--strict"))
    assert result.exit_code == 1
    assert "Calm/corrupt.mp4" in result.output and "--strict" in result.output
    assert not (tmp_path / "store" / "meta.json").exists()


def test_other_settings_are_refused_instead_of_mixed(extracted, clip_dir):
    result = bench(*extract_args(clip_dir, extracted[0], "--frames", "9"))
    assert result.exit_code == 2 and "other settings" in result.output


def test_an_existing_store_is_not_overwritten(tiny_store, clip_dir):
    result = bench(*extract_args(clip_dir, tiny_store))
    assert result.exit_code == 2 and "did not write" in result.output


def test_retry_failed_extracts_a_repaired_video(extracted, clip_dir, tmp_path):
    import shutil

    videos = copy_videos(clip_dir, tmp_path / "videos")
    out = tmp_path / "store"
    shutil.copytree(extracted[0], out)
    shutil.copy(videos / "Calm" / "tone3.mov", videos / "Calm" / "corrupt.mp4")  # the file was repaired
    skipped = bench(*extract_args(videos, out, "--name", "clips"))
    assert "nothing to extract" in skipped.output
    retried = bench(*extract_args(videos, out, "--name", "clips", "--retry-failed"))
    assert retried.exit_code == 0, retried.output
    assert "2 to extract, 6 already extracted" in " ".join(retried.output.split())
    store = open_store(out)
    assert "Calm/corrupt.mp4" in set(store.ids) and len(store) == 7
    with open(out / "failures.csv") as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == ["Calm/zero.mp4"]


def test_a_class_too_small_to_split_warns_and_exits_0_unless_strict(clip_dir, tmp_path):
    videos = copy_videos(
        clip_dir, tmp_path / "videos", ["Joy/tone1.mp4", "Calm/blank.mkv", "Calm/tone3.mov", "Calm/tone4.mp4"]
    )
    out = tmp_path / "store"
    result = bench(*extract_args(videos, out))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "warning: classes with fewer than 3 usable videos: 'Joy' (1)" in text and "`bench run` needs at least 3" in text
    )
    assert len(open_store(out)) == 4  # the store is complete and valid
    strict = bench(*extract_args(videos, out, "--strict"))
    assert strict.exit_code == 1 and "(--strict)" in " ".join(strict.output.split())
    run = bench(
        "run",
        "--suite",
        "table2",
        "--features",
        str(out),
        "--frames",
        str(FRAMES),
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'm.db'}",
    )
    assert run.exit_code == 2 and "class 'Joy' has 1 videos" in run.output
    assert not (tmp_path / "m.db").exists()


def test_the_store_declares_its_protocol_and_split_files_are_kept_in_it(extracted, clip_dir, tmp_path):
    import shutil

    assert json.loads((extracted[0] / "meta.json").read_text())["protocol"] == {
        "kind": "random",
        "n_splits": 10,
        "train_fraction": 2 / 3,
    }
    out = tmp_path / "store"
    shutil.copytree(extracted[0], out)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "trainlist01.txt").write_text("Joy/tone1.mp4 1\nJoy/tone2.MP4 1\nCalm/tone3.mov 2\nCalm/blank.mkv 2\n")
    (lists / "testlist01.txt").write_text("Joy/silent.AVI\nCalm/tone4.mp4\n")
    (lists / "testlist02.txt").write_text("Joy/nothing.mp4\n")
    (lists / "trainlist02.txt").write_text("Joy/tone1.mp4\n")
    bad = bench(*extract_args(clip_dir, out, "--name", "clips", "--split-files", str(lists)))
    assert bad.exit_code == 2 and "trainlist02.txt: no video of class 'Calm'" in " ".join(bad.output.split())
    assert json.loads((out / "meta.json").read_text())["protocol"]["kind"] == "random"  # nothing declared
    for name in ("trainlist02.txt", "testlist02.txt"):
        (lists / name).unlink()
    result = bench(*extract_args(clip_dir, out, "--name", "clips", "--split-files", str(lists)))
    assert result.exit_code == 0, result.output
    assert "protocol: 1 official split from" in " ".join(result.output.split())
    store = open_store(out)
    assert store.protocol.kind == "files" and (out / "splits" / "testlist01.txt").exists()
