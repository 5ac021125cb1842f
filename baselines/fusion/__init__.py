"""Fusion strategies on the paper's per-modality branches (suite ``fusion``), one module per method.

Every model here keeps ``proposed``'s branches (projection, Transformer encoder layer, NeXtVLAD per
modality, same parameters and defaults) and the MLP classifier, and replaces only SE fusion. The
concatenation row of the suite is ``proposed`` with ``se = false`` (the same runs as the components
suite's "w/o SE" row). ``baselines`` imports every module here, so a new method is one new module.
"""
