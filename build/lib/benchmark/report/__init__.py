"""``bench report``: the paper's tables and figures rendered from what MLflow holds.

collect (MLflow -> plain records) -> stats (mean, std, paired tests) -> tables / figures / html,
orchestrated by :func:`benchmark.report.render.render_report`. Nothing here reads in-memory results of
a run, so a report works in a new process and against a shared tracking server.
"""
