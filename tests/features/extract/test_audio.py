import numpy as np

from features.extract.audio import VGGishFeatures
from features.extract.decode import AUDIO_RATE
from features.extract.weights import resolve_audio


def test_each_timestamp_gets_the_window_that_holds_it():
    vggish = VGGishFeatures(resolve_audio("random"), last_window="dropped")  # how earlier stores were extracted
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(2.5 * AUDIO_RATE))).astype(np.float32)  # two whole 0.96 s windows
    features, mask = vggish(audio, np.array([0.1, 0.9, 1.0, 1.95, 2.4]))
    assert mask.tolist() == [True, True, True, False, False]
    np.testing.assert_array_equal(features[0], features[1])  # both in window 0
    assert not np.array_equal(features[1], features[2])  # window 1
    assert not features[3:].any()
    shifted, shifted_mask = vggish(audio, np.array([0.5, 1.1, 2.0]), offset=1.0)  # audio starts 1 s after the video
    assert shifted_mask.tolist() == [False, True, True]
    np.testing.assert_array_equal(shifted[1], features[0])
    np.testing.assert_array_equal(shifted[2], features[2])
    none, none_mask = vggish(None, np.array([0.5, 1.0]))
    assert none.shape == (2, 128) and not none.any() and not none_mask.any()


def test_the_last_partial_window_is_zero_padded_so_every_timestamp_inside_the_audio_has_an_embedding():
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(2.5 * AUDIO_RATE))).astype(np.float32)
    times = np.array([0.1, 1.0, 1.95, 2.4, 2.6])  # 2.6 s: past the audio's end
    padded, mask = VGGishFeatures(resolve_audio("random"))(audio, times)
    dropped, _ = VGGishFeatures(resolve_audio("random"), last_window="dropped")(audio, times)
    assert mask.tolist() == [True, True, True, True, False]
    np.testing.assert_array_equal(padded[:2], dropped[:2])  # whole windows: the same bytes as before
    np.testing.assert_array_equal(padded[2], padded[3])  # both in the padded window 2
    assert padded[2].any() and not np.array_equal(padded[2], padded[1])
    assert not padded[4].any()
    _exact, exact_mask = VGGishFeatures(resolve_audio("random"))(
        audio[: 2 * 15360], np.array([0.5, 1.9])
    )  # exactly 2 windows
    assert exact_mask.all()
