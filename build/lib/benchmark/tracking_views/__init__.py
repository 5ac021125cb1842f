"""How ``bench run``'s MLflow runs are presented in the MLflow UI (DESIGN section 6).

The runs themselves (tags, params, child metrics) are :mod:`benchmark.tracking`'s contract; this
package adds what makes the UI a comparison tool: the experiment's description, one saved table view
per suite (:mod:`.views`), the feature store as a dataset input (:mod:`.inputs`), per-epoch curves,
the paper's number and the row order on parent runs (:mod:`.parents`), and the rendered report as
artifacts (:mod:`.artifacts`). Accuracy is a fraction (0..1) everywhere in MLflow (:data:`UNIT`).
"""

UNIT = "fraction"  # accuracy in MLflow: metrics, the paper's number, tags; reports show percent
