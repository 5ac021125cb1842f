import numpy as np

from features.extract.audio import VGGishFeatures
from features.extract.decode import AUDIO_RATE
from features.extract.weights import resolve_audio


def test_each_timestamp_gets_the_window_that_holds_it():
    vggish = VGGishFeatures(resolve_audio("random"))
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
